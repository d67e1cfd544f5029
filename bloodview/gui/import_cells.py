"""Import annotations into one open image as one undo step that also owns the classes it added.

Why: an import whose file names a class the project lacks adds that class to the project
(:func:`bloodview.gui.project_classes.adopt_classes`). Undoing the import took the cells
back out but left the class: an empty legend row holding a key, saved with the project.
Undo now takes out every class the import run added that no cell of any open image uses
any more; redo puts it back as it was (name, colour, key). The classes are shared by the
run's commands (one per image), so the last image's undo takes the class out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import CellClass, ClassCatalogue
from bloodview.core.instance import Instance
from bloodview.gui.commands import SetInstancesCommand


class ImportCellsCommand(SetInstancesCommand):
    """The imported cells of one image. ``added``: the classes this import run added to the
    project (the list is filled as the run goes); ``classes_changed`` is called when undo or
    redo took classes out or put them back (the window's legend, menus and canvas follow)."""

    def __init__(self, image: ImageAnnotation, cells: Iterable[Instance], dataset: Dataset,
                 added: list[CellClass], classes_changed: Callable[[], None]):
        super().__init__(image, cells, "Import annotations")
        self._dataset = dataset
        self._added = added
        self._classes_changed = classes_changed

    def redo(self) -> None:
        classes = self._dataset.classes
        missing = [c for c in self._added if c.name not in classes]
        for cell_class in missing:  # before the cells: nothing may show a cell of an unknown class
            classes.add(cell_class.name, cell_class.display_name, cell_class.color, cell_class.key,
                        cell_class.white_cell)
        super().redo()
        if missing:
            self._classes_changed()

    def undo(self) -> None:
        super().undo()
        unused = unused_classes(self._dataset, self._added)
        if unused:
            self._dataset.classes = ClassCatalogue(c for c in self._dataset.classes if c.name not in unused)
            self._classes_changed()


def unused_classes(dataset: Dataset, candidates: Iterable[CellClass]) -> set[str]:
    """Names of ``candidates`` still in the project that no cell of ``dataset`` uses."""
    used = {cell.class_name for image in dataset.images for cell in image.instances}
    return {c.name for c in candidates if c.name in dataset.classes and c.name not in used}
