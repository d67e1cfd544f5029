"""Review logic as in a haematology lab (CellaVision-style), pure and Qt-free.

* A machine cell (model or bootstrap) whose certainty is below the *unidentified
  threshold* and that no person has looked at is **unidentified**: it is left out
  of the differential count and waits in its own bucket until a person classifies
  or confirms it.
* A cell is **checked** when a person drew it, corrected it or confirmed it.
* An image can be **signed off** only when every cell is checked (so no
  unidentified cell remains either).
* The **review queue** lists unchecked cells, least certain first.

Certainty is the model score; for a bootstrap cell without a score, its outline
quality; a machine cell with neither counts as 0 (most doubtful).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.instance import Instance, Source

DEFAULT_UNIDENTIFIED_THRESHOLD = 0.75  # the paper's detection threshold
UNIDENTIFIED = "unidentified"  # the bucket's name in the GUI (not a class)


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
    return not is_checked(instance) and certainty(instance) < threshold


def counted_instances(image: ImageAnnotation, threshold: float) -> list[Instance]:
    """The cells that go into the differential count (unidentified ones left out)."""
    return [i for i in image.instances if not is_unidentified(i, threshold)]


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
    unidentified = sum(1 for i in unchecked if certainty(i) < threshold)
    return SignOffCheck(not unchecked, unidentified, len(unchecked))


def reading_order(instances: Sequence[Instance], row_height: float = 48.0) -> list[Instance]:
    """Cells in reading order: rows of ``row_height`` pixels top to bottom, then left to right."""
    return sorted(instances, key=lambda i: (int(i.centroid[1] // row_height), i.centroid[0]))


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


def review_queue(
    images: Sequence[ImageAnnotation], threshold: float, limit: int | None = None
) -> list[QueueEntry]:
    """Unchecked cells over ``images``, least certain first (ties: image order)."""
    entries = [
        QueueEntry(index, i.id, i.class_name, certainty(i), certainty(i) < threshold)
        for index, image in enumerate(images)
        for i in image.instances
        if not is_checked(i)
    ]
    entries.sort(key=lambda e: (e.certainty, e.image_index))
    return entries[:limit] if limit is not None else entries


def provenance(instance: Instance) -> str:
    """One line saying who made the cell and what a person did with it."""
    if instance.source == Source.HUMAN:
        made = "drawn by a person"
    elif instance.source == Source.BOOTSTRAP:
        made = f"bootstrap segmenter{f' ({instance.origin})' if instance.origin else ''}"
        if instance.quality is not None:
            made += f", quality {instance.quality:.2f}"
    else:
        made = f"model {instance.origin or '(unknown version)'}"
        if instance.score is not None:
            made += f", score {instance.score:.2f}"
    if instance.corrected:
        made += "; corrected by a person"
    elif instance.reviewed and instance.source != Source.HUMAN:
        made += "; confirmed by a person"
    return made
