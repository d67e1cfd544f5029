"""COCO crowd regions (``iscrowd: 1``) in the formats bloodview writes.

A crowd region outlines a clump of cells that nobody told apart (a heap of red cells):
COCO keeps it as a run-length mask so that evaluation neither rewards nor punishes
detections inside it. bloodview reads it (:func:`bloodview.io.coco.annotation_to_instance`)
as outlines traced from that mask, marked ``extra["iscrowd"]``. A format without a way to say
"this region is several cells" would pass it on as *one* cell, which another tool counts and
trains on as such, so:

* COCO and the project keep it (COCO as uncompressed RLE, as COCO does);
* LabelMe writes its outlines with the shape flag ``iscrowd`` and a description saying what it
  is (LabelMe shows both; bloodview reads the flag back), so a person reviewing in LabelMe sees
  the clump and can split it;
* VIA/MakeSense VGG and MakeSense COCO leave it out: MakeSense imports only a region's label,
  so the clump would come back as one cell; :func:`warn_left_out` says how many regions of
  which images were left out, and why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bloodview.core.annotation import Dataset
from bloodview.core.instance import Instance
from bloodview.core.review_rules import CROWD_KEY, is_crowd_region

log = logging.getLogger(__name__)

CROWD_DESCRIPTION = "COCO crowd region (iscrowd=1): a clump of several cells, not one cell"
LEFT_OUT_BY = {
    "via": "VIA/MakeSense VGG has no way to mark a region as several cells; MakeSense would read it as one cell",
    "makesense-coco": "MakeSense's COCO skips crowd regions (iscrowd=1) when it reads them",
}
"""The formats that leave crowd regions out, and why."""


def is_crowd(instance: Instance) -> bool:
    """Whether the cell is a COCO crowd region (several cells in one outline)."""
    return is_crowd_region(instance)


def crowd_regions(dataset: Dataset) -> list[tuple[str, int]]:
    """``(image path, crowd regions)`` for each image that holds any, in the data set's order."""
    found = []
    for image in dataset.images:
        count = sum(is_crowd(i) for i in image.instances)
        if count:
            found.append((image.image_path.as_posix(), count))
    return found


def left_out_text(found: Iterable[tuple[str, int]], fmt: str, examples: int = 5) -> str:
    """``"3 crowd region(s) (iscrowd=1) in 2 image(s) left out of the via file (a.png: 2, b.png: 1): …"``."""
    found = list(found)
    total = sum(n for _, n in found)
    shown = ", ".join(f"{name}: {n}" for name, n in found[:examples]) + (", ..." if len(found) > examples else "")
    return (f"{total} crowd region(s) (iscrowd=1) in {len(found)} image(s) left out of the {fmt} file "
            f"({shown}): {LEFT_OUT_BY[fmt]}")


def warn_left_out(dataset: Dataset, fmt: str) -> int:
    """Log, once, the crowd regions that ``fmt`` (a key of :data:`LEFT_OUT_BY`) leaves out; how many."""
    found = crowd_regions(dataset)
    if found:
        log.warning("%s", left_out_text(found, fmt))
    return sum(n for _, n in found)
