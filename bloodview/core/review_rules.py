"""Which cells a person vouched for, and which machine calls are too uncertain to count.

The rules a lab's differential rests on, shared by the app's Review panel and report
(:mod:`bloodview.gui.review`) and ``bloodview count``, so the command line and the window
count a smear the same way:

* a cell is **checked** when a person drew it, corrected it or confirmed it;
* a machine cell (model or bootstrap) whose certainty is below the *unidentified
  threshold* and that no person has looked at is **unidentified**: it is left out of the
  differential count until a person classifies or confirms it;
* a cell imported from a file without a score (another tool's or a person's boxes and
  outlines) is no machine call: it counts, unchecked.

Certainty is the model score; for a bootstrap cell without a score, its outline quality;
a machine cell with neither counts as 0 (most doubtful).

An unchecked cell is named by its **origin** (:func:`origin`): a trained model's call, the
classical segmenter's outline (``bloodview bootstrap``, the red-cell finder) or a cell
imported from a file that does not say who made it. A lab auditor reads "unchecked" very
differently for each, so reports never lump them together as the model's.
"""

from __future__ import annotations

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.instance import Instance, Source

DEFAULT_UNIDENTIFIED_THRESHOLD = 0.75  # the paper's detection threshold
THRESHOLD_SETTING = "unidentified_threshold"  # the project setting (project.json) that overrides it


ORIGINS = ("model", "segmenter", "imported")
"""The origins of unchecked cells, in the order reports list them."""
_ORIGIN_OF_SOURCE = {Source.MODEL: "model", Source.BOOTSTRAP: "segmenter", Source.IMPORT: "imported",
                     Source.HUMAN: "person"}


def origin(instance: Instance) -> str:
    """Who made the cell, in a report's words: one of :data:`ORIGINS`, or ``"person"``."""
    return _ORIGIN_OF_SOURCE[instance.source]


def is_checked(instance: Instance) -> bool:
    """A person drew, corrected or confirmed this cell."""
    return instance.reviewed or instance.corrected or instance.source == Source.HUMAN


def certainty(instance: Instance) -> float:
    """0..1; 1.0 for checked cells."""
    if is_checked(instance):
        return 1.0
    if instance.score is not None:
        return float(instance.score)
    if instance.quality is not None:
        return float(instance.quality)
    return 0.0


def is_unidentified(instance: Instance, threshold: float) -> bool:
    """A machine call too uncertain to count. A cell imported from a file that gives it no score
    (VOC/YOLO boxes, another tool's outlines) is no machine call: it counts, unchecked."""
    if instance.source == Source.IMPORT and instance.score is None and instance.quality is None:
        return False
    return not is_checked(instance) and certainty(instance) < threshold


CROWD_KEY = "iscrowd"  # COCO's crowd flag, kept in ``Instance.extra`` by the COCO reader


def is_crowd_region(instance: Instance) -> bool:
    """A COCO crowd region (``iscrowd: 1``): several cells outlined together, so not one cell."""
    return bool(instance.extra.get(CROWD_KEY))


def counted_instances(image: ImageAnnotation, threshold: float) -> list[Instance]:
    """The cells that go into the differential count: unidentified ones left out, and crowd regions
    (a clump of cells nobody told apart would count as one cell of its class)."""
    return [i for i in image.instances if not is_unidentified(i, threshold) and not is_crowd_region(i)]
