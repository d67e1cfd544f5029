"""Cells from outside the project named as the project names its classes (Qt-free).

Cells come in from a model's detections, an imported annotation file and an autosave
restored after a crash. Why each must pass here: a cell whose class the project's
catalogue lacks is drawn grey, has no legend row, is left out of every count (not even
"not in the %"), and is written into the project's files, which then cannot be opened
again ("unknown cell class"). So each incoming class name is resolved as the project
spells it (``RBC`` → ``rbc``), and a class the project lacks is added to it.
"""

from __future__ import annotations

from collections.abc import Iterable

from bloodview.core.classes import ClassCatalogue, shown_name
from bloodview.core.instance import Instance
from bloodview.errors import UnknownClassError


def adopt_classes(classes: ClassCatalogue, cells: Iterable[Instance],
                  source: ClassCatalogue | None = None) -> bool:
    """Rename each of ``cells`` (new objects, not yet in any image) to the project's class name,
    adding the classes ``classes`` lacks (with ``source``'s display name and white-cell flag where it
    knows the class: else a lab's own white-cell class came in as not a white cell, out of the %).
    Returns True when a class was added (the window's menus and legend must follow)."""
    added = False
    for cell in cells:
        try:
            cell.class_name = classes.resolve(cell.class_name)
        except UnknownClassError:
            theirs = source[cell.class_name] if source is not None and cell.class_name in source else None
            classes.add(cell.class_name, display_name=theirs.display_name if theirs is not None
                        else shown_name(cell.class_name),  # and the file's word on white cells: a
                        white_cell=theirs.white_cell if theirs is not None else None)  # lab's "Zelle ä"
            added = True
    return added
