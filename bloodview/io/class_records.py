"""A lab's own classes, carried in the image record of formats without a class list (VIA, LabelMe).

COCO and the project file write the whole catalogue. VIA (MakeSense VGG) and LabelMe only
write each cell's label, so a class bloodview does not know by name came back from them
lower-cased ("Zelle ä" -> "zelle ä") and, unless its name says "white cell", *not a white
cell*: the differential of the exported file (opened in the window, ``bloodview count``)
then left those cells out of the white-cell 100 % and differed from the project's report.

So the writers add ``"classes"`` to the image's ``bloodview`` record: the catalogue entry
(name, display name, colour, key, white cell) of every class its cells use that is not one
of the PBC classes every reader knows; the readers add those classes as they were before
reading the cells. Ids are left out: they belong to one catalogue.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.errors import UnknownClassError

log = logging.getLogger(__name__)

CLASSES_KEY = "classes"
_KNOWN = frozenset(ClassCatalogue.pbc().names)


def class_records(image: ImageAnnotation, classes: ClassCatalogue) -> list[dict[str, Any]]:
    """Catalogue entries (without ids) of the non-PBC classes ``image``'s cells use, in catalogue order."""
    used = {instance.class_name for instance in image.instances}
    return [{k: v for k, v in entry.items() if k != "id"} for entry in classes.to_list()
            if entry["name"] in used and entry["name"] not in _KNOWN]


def adopt_record_classes(record: Any, classes: ClassCatalogue, add_unknown: bool, source_file: str | Path) -> None:
    """Add to ``classes`` the classes an image record lists that it lacks, as the writer had them.

    Only where unknown classes may be added (a reader given a fixed catalogue refuses them,
    naming the known ones); a class ``classes`` already resolves keeps its own entry; a colour
    or key already used is replaced by a free one. A damaged entry is skipped with a warning
    (the class is then added from the cell's label, as before).
    """
    if not add_unknown or not isinstance(record, dict) or record.get(CLASSES_KEY) is None:
        return
    entries = record[CLASSES_KEY]
    if not isinstance(entries, list):
        log.warning("%s: unreadable class list %r in a 'bloodview' record; ignored", source_file, str(entries)[:60])
        return
    for entry in entries:
        try:
            if not isinstance(entry, dict):
                raise ValueError("not an object")
            cell_class = next(iter(ClassCatalogue.from_list([{**entry, "id": 1}])))
            try:
                classes.resolve(cell_class.name)
                continue
            except UnknownClassError:
                pass
            used_colours = {c.color for c in classes}
            used_keys = {c.key for c in classes}
            classes.add(cell_class.name, cell_class.display_name,
                        None if cell_class.color in used_colours else cell_class.color,
                        None if cell_class.key in used_keys else cell_class.key,
                        cell_class.white_cell)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("%s: unreadable class entry %r in a 'bloodview' record (%s); ignored",
                        source_file, str(entry)[:60], exc)
