"""Review logic as in a haematology lab (CellaVision-style), pure and Qt-free.

* A machine cell (model or bootstrap) whose certainty is below the *unidentified
  threshold* and that no person has looked at is **unidentified**: it is left out
  of the differential count and waits in its own bucket until a person classifies
  or confirms it. (A call the model's detector named otherwise is *not* held back for
  that alone: measured, that helps on PBC and hurts on other labs' images,
  :mod:`bloodview.core.second_opinion`; the cell's provenance shows the detector's call.)
* A cell is **checked** when a person drew it, corrected it or confirmed it.
* An image can be **signed off** only when every cell is checked (so no
  unidentified cell remains either).
* The **review queue** lists unchecked cells by kind, then least certain first
  (:func:`review_queue`): white cells and the classes counted per 100 white cells
  (erythroblasts) before platelets before red cells, because the differential a technician
  signs needs every white cell checked, and a camera field's ~20 doubtful red-cell outlines
  (certainty 0.13-0.54 from the classical red-cell finder) would otherwise bury its one white
  cell.
* Two cells of one image whose outlines overlap with IoU above :data:`OVERLAP_IOU`
  are almost surely **one cell found twice** (the model's per-class suppression keeps
  a second box when its class differs); sign-off warns about them and offers to merge.

The first two rules (which cells count) live in :mod:`bloodview.core.review_rules`, shared
with ``bloodview count``.

Certainty is the model score; for a bootstrap cell without a score, its outline
quality; a machine cell with neither counts as 0 (most doubtful). A cell imported
without a score (another tool's or a person's boxes and outlines) is counted but
stays unchecked until a person confirms it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.differential import PER_100_WHITE_NON_WHITE
from bloodview.core.geometry import polygon_iou
from bloodview.core.instance import Instance, Source
from bloodview.core.review_rules import (  # noqa: F401 - the GUI's names for them
    DEFAULT_UNIDENTIFIED_THRESHOLD,
    certainty,
    counted_instances,
    is_checked,
    is_unidentified,
)
from bloodview.core.second_opinion import detector_disagrees

UNIDENTIFIED = "unidentified"  # the bucket's name in the GUI (not a class)
# Area IoU of two outlines above which they are taken for one cell found twice. The duplicates
# seen on PBC (issue 19) had IoU ~0.9; two distinct round cells reach 0.5 only with their centres
# a quarter of a diameter apart (sharing two thirds of their area), which no two real cells in a
# smear do, and a platelet lying on a cell stays near its area ratio (< 0.1). 0.5 is also the IoU
# at which detection merges and COCO matching call two outlines the same object.
OVERLAP_IOU = 0.5


@dataclass(frozen=True)
class SignOffCheck:
    ok: bool
    unidentified: int
    unchecked: int

    @property
    def reason(self) -> str:
        if self.ok:
            return "every cell is checked"
        parts = []
        if self.unidentified:
            parts.append(f"{self.unidentified} unidentified")
        if self.unchecked - self.unidentified:
            parts.append(f"{self.unchecked - self.unidentified} unreviewed")
        return " and ".join(parts) + " cell(s) remain"


def sign_off_check(image: ImageAnnotation, threshold: float) -> SignOffCheck:
    unchecked = [i for i in image.instances if not is_checked(i)]
    unidentified = sum(1 for i in unchecked if is_unidentified(i, threshold))
    return SignOffCheck(not unchecked, unidentified, len(unchecked))


def reading_order(instances: Sequence[Instance], row_height: float = 48.0) -> list[Instance]:
    """Cells in reading order: rows of ``row_height`` pixels top to bottom, then left to right."""
    def key(cell: Instance) -> tuple[int, float]:
        x, y = _centre(cell)
        return int(y // row_height), x

    return sorted(instances, key=key)


_PLACES: dict[str, tuple[Instance, tuple[float, float], tuple[float, float, float, float]]] = {}
_PLACES_AT_MOST = 50_000


def _place(cell: Instance) -> tuple[Instance, tuple[float, float], tuple[float, float, float, float]]:
    """``cell``'s centroid and box, remembered per cell object: every panel refresh puts the
    cells in reading order and looks for overlaps, and on a 2,000-cell camera field
    recomputing them took 80 ms of each key press. Edits replace a cell, never change one
    in place, so a cell object's outline never changes (the entry is checked to be the
    same object)."""
    hit = _PLACES.get(cell.id)
    if hit is None or hit[0] is not cell:
        if len(_PLACES) >= _PLACES_AT_MOST:
            _PLACES.clear()
        hit = _PLACES[cell.id] = (cell, cell.centroid, cell.bbox)
    return hit


def _centre(cell: Instance) -> tuple[float, float]:
    return _place(cell)[1]


def cell_box(cell: Instance) -> tuple[float, float, float, float]:
    """``cell.bbox`` ``(x1, y1, x2, y2)``, remembered per cell object (see :func:`_place`)."""
    return _place(cell)[2]


_box = cell_box


def touching_pairs(boxes: np.ndarray) -> np.ndarray:
    """Index pairs ``(i, j)``, ``i < j``, of ``(N, 4)`` boxes ``(x1, y1, x2, y2)`` whose
    intersection has a positive area (``box_iou > 0``, without the N x N float IoU matrix:
    that took 90 ms for 2,000 cells) -> ``(K, 2)``."""
    x1, y1, x2, y2 = (boxes[:, k] for k in range(4))
    real = (x2 > x1) & (y2 > y1)
    touch = (x1[:, None] < x2[None, :]) & (x1[None, :] < x2[:, None])
    touch &= (y1[:, None] < y2[None, :]) & (y1[None, :] < y2[:, None])
    touch &= real[:, None] & real[None, :]
    return np.argwhere(np.triu(touch, k=1))


def next_unchecked(image: ImageAnnotation, after_id: str | None = None) -> Instance | None:
    """The next unchecked cell in reading order after ``after_id`` (wrapping round)."""
    ordered = reading_order(image.instances)
    start = 0
    if after_id is not None:
        ids = [i.id for i in ordered]
        if after_id in ids:
            start = ids.index(after_id) + 1
    for instance in ordered[start:] + ordered[:start]:
        if not is_checked(instance) and instance.id != after_id:
            return instance
    return None


@dataclass(frozen=True)
class QueueEntry:
    image_index: int
    instance_id: str
    class_name: str
    certainty: float
    unidentified: bool


WHITE_GROUP, PLATELET_GROUP, RED_GROUP = 0, 1, 2
"""The review queue's groups of unchecked cells, in queue order (see :func:`queue_groups`)."""


def queue_groups(classes: ClassCatalogue) -> dict[str, int]:
    """Each class name of ``classes`` -> its review-queue group: :data:`WHITE_GROUP` for white cells,
    the classes counted per 100 white cells (erythroblasts) and any other class, then
    :data:`PLATELET_GROUP`, then :data:`RED_GROUP`. White cells come first because the differential
    is what a technician signs; platelets next, as the platelet estimate is reported too; red cells
    last, as a few doubtful outlines among hundreds barely move any count. A name the catalogue
    lacks goes with the white cells (see :func:`queue_group`)."""
    groups = {}
    for cell_class in classes:
        if cell_class.white_cell or cell_class.name in PER_100_WHITE_NON_WHITE:
            groups[cell_class.name] = WHITE_GROUP
        elif cell_class.platelet:
            groups[cell_class.name] = PLATELET_GROUP
        elif cell_class.red_cell:
            groups[cell_class.name] = RED_GROUP
        else:
            groups[cell_class.name] = WHITE_GROUP
    return groups


def queue_group(groups: dict[str, int], class_name: str) -> int:
    """``class_name``'s group in ``groups`` (:func:`queue_groups`); a class the catalogue lacks goes
    first with the white cells: a person should see what nobody named a known class."""
    return groups.get(class_name, WHITE_GROUP)


def review_queue(
    images: Sequence[ImageAnnotation], threshold: float, classes: ClassCatalogue, limit: int | None = None
) -> list[QueueEntry]:
    """Unchecked cells over ``images``: by :func:`queue_groups` group of their class in ``classes``
    (white cells, then platelets, then red cells), least certain first within a group (ties: image
    order, then cell order)."""
    groups = queue_groups(classes)
    entries = [
        QueueEntry(index, i.id, i.class_name, certainty(i), is_unidentified(i, threshold))
        for index, image in enumerate(images)
        for i in image.instances
        if not is_checked(i)
    ]
    entries.sort(key=lambda e: (queue_group(groups, e.class_name), e.certainty, e.image_index))
    return entries[:limit] if limit is not None else entries


def provenance(instance: Instance, display_name: Callable[[str], str] = str) -> str:
    """One line saying who made the cell and what a person did with it."""
    if instance.source == Source.HUMAN:
        made = "drawn by a person"
    elif instance.source == Source.IMPORT:
        made = "imported from a file that does not say who made it"
    elif instance.source == Source.BOOTSTRAP:
        made = f"bootstrap segmenter{f' ({instance.origin})' if instance.origin else ''}"
        if instance.quality is not None:
            made += f", quality {instance.quality:.2f}"
    else:
        made = f"model {instance.origin or '(unknown version)'}"
        if instance.score is not None:
            made += f", score {instance.score:.2f}"
    original = model_class(instance)
    if original is not None:
        made += f" as {display_name(original)}"
    second = detector_opinion(instance, display_name)
    if second:
        made += f"; {second}"
    if instance.corrected:
        made += "; corrected by a person"
    elif instance.reviewed and instance.source != Source.HUMAN:
        made += "; confirmed by a person"
    return made


def display_name(classes: ClassCatalogue, class_name: str) -> str:
    """The class's name as the lab reads it (the internal name when the catalogue lacks it)."""
    return classes[class_name].display_name if class_name in classes else class_name


def model_class(instance: Instance) -> str | None:
    """The class the model (or bootstrap) gave a cell a person re-classified, else ``None``."""
    original = instance.extra.get("model_class")
    return str(original) if original and original != instance.class_name else None


def detector_opinion(instance: Instance, display_name: Callable[[str], str] = str) -> str:
    """``"the detector alone said Monocyte 0.81"`` where a model's cell classifier named the cell
    otherwise, else ``""``: two networks that disagree on a cell are worth a reviewer's look."""
    if not detector_disagrees(instance):
        return ""
    said = instance.extra.get("detector_class")
    score = instance.extra.get("detector_score")
    score = f" {score:.2f}" if isinstance(score, (int, float)) else ""
    return f"the detector alone said {display_name(str(said))}{score}"


def was_text(instance: Instance, display_name: Callable[[str], str]) -> str:
    """``"was Platelet 0.92"`` for a cell a person re-classified, else ``""``."""
    original = model_class(instance)
    if original is None:
        return ""
    score = "" if instance.score is None else f" {instance.score:.2f}"
    return f"was {display_name(original)}{score}"


def shown_score(instance: Instance) -> float | None:
    """The score to print beside the cell's class: ``None`` once a person changed the class,
    because the model's score was for the class it guessed, not for the one shown."""
    return None if model_class(instance) is not None else instance.score


@dataclass(frozen=True)
class Overlap:
    """Cells of one image taken for one cell: ``keep`` (the best) and the ``drop`` ones."""

    keep: str
    drop: tuple[str, ...]
    iou: float  # the highest IoU inside the group


def preference(instance: Instance) -> tuple[bool, float, float]:
    """Sort key, best last: checked by a person, then certainty, then area."""
    return is_checked(instance), certainty(instance), instance.area


def overlapping_cells(image: ImageAnnotation, threshold: float = OVERLAP_IOU) -> list[Overlap]:
    """Groups of cells whose outlines overlap with IoU > ``threshold`` (chains join one group),
    in reading order of their kept cell; each keeps its :func:`preference` best."""
    cells = list(image.instances)
    return group_overlaps(cells, overlap_links(cells, threshold))


def overlap_links(cells: Sequence[Instance], threshold: float = OVERLAP_IOU) -> dict[tuple[str, str], float]:
    """``(id_a, id_b) -> IoU`` of the pairs of ``cells`` whose outlines overlap with IoU >
    ``threshold``, ``a`` before ``b`` in ``cells``."""
    if len(cells) < 2:
        return {}
    boxes = np.array([_box(c) for c in cells], dtype=np.float64)
    links = {}
    for a, b in touching_pairs(boxes):
        iou = polygon_iou(cells[a].polygons, cells[b].polygons)
        if iou > threshold:
            links[cells[a].id, cells[b].id] = iou
    return links


def group_overlaps(cells: Sequence[Instance], links: dict[tuple[str, str], float]) -> list[Overlap]:
    """:func:`overlapping_cells` from its ``links``: ``(id_a, id_b) -> IoU`` of the pairs above the
    threshold, ``a`` before ``b`` in ``cells``. Split out so that
    :class:`bloodview.gui.overlap_index.OverlapIndex` can recompute only the links of the cells
    an edit replaced and get the very same groups."""
    if not links:
        return []
    position = {cell.id: n for n, cell in enumerate(cells)}
    parent = list(range(len(cells)))
    best_iou: dict[int, float] = {}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (id_a, id_b), iou in links.items():
        ra, rb = root(position[id_a]), root(position[id_b])
        parent[rb] = ra
        best_iou[ra] = max(best_iou.get(ra, 0.0), best_iou.pop(rb, 0.0), iou)
    groups: dict[int, list[Instance]] = {}
    for index in sorted({position[i] for pair in links for i in pair}):
        groups.setdefault(root(index), []).append(cells[index])
    found = []
    for key, members in groups.items():
        keep = max(members, key=preference)
        found.append(Overlap(keep.id, tuple(m.id for m in members if m is not keep), best_iou[key]))
    order = {c.id: n for n, c in enumerate(reading_order(cells))}
    return sorted(found, key=lambda o: order[o.keep])
