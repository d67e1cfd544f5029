"""Merging new model predictions into an image's existing cells (pure, no Qt).

The rule (also in docs/gui.md): a person's work is never overwritten.

* An existing cell is *kept* when a person made it (``source == HUMAN``), changed it
  (``corrected``) or confirmed it (``reviewed``), or when it was imported from a file
  (``source == IMPORT``, even unreviewed: it may be a person's work in another tool).
* Every other existing cell (an untouched model or bootstrap guess) is *replaced*:
  it is dropped and the new predictions take its place.
* A prediction that overlaps a kept cell (polygon IoU >= ``iou_threshold``) is
  *skipped*: the person already decided about that cell.
* Kept cells stay first, in their original order; new predictions follow in the
  order the model gave them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bloodview.core.geometry import box_iou, polygon_iou
from bloodview.core.instance import Instance, Source


@dataclass
class MergeResult:
    """The merged cell list and what happened, for the status bar."""

    instances: list[Instance]
    added: int = 0
    replaced: int = 0
    skipped: int = 0
    kept: int = 0
    skipped_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.added} cells added, {self.replaced} earlier model cells replaced, "
            f"{self.kept} checked cells kept, {self.skipped} predictions on checked cells ignored"
        )


def is_protected(instance: Instance) -> bool:
    """True when a person made, changed or confirmed this cell, or it came from a file.

    An unreviewed import (``Source.IMPORT``: e.g. another tool's annotations) is not
    checked, but it is not a guess of ours either: a new detection must not drop it.
    """
    return instance.source in (Source.HUMAN, Source.IMPORT) or instance.corrected or instance.reviewed


def merge_predictions(
    existing: Sequence[Instance], predictions: Sequence[Instance], iou_threshold: float = 0.5
) -> MergeResult:
    """Merge ``predictions`` into ``existing`` following the module rule.

    Neither input is modified; the result holds the kept instances themselves and
    the prediction instances themselves (no copies).
    """
    kept = [i for i in existing if is_protected(i)]
    replaced = len(existing) - len(kept)
    added: list[Instance] = []
    skipped_ids: list[str] = []
    kept_boxes = np.array([i.bbox for i in kept], dtype=np.float64).reshape(-1, 4)
    for prediction in predictions:
        if _overlaps_any(prediction, kept, kept_boxes, iou_threshold):
            skipped_ids.append(prediction.id)
        else:
            added.append(prediction)
    return MergeResult(
        instances=[*kept, *added],
        added=len(added),
        replaced=replaced,
        skipped=len(skipped_ids),
        kept=len(kept),
        skipped_ids=skipped_ids,
    )


def _overlaps_any(
    prediction: Instance, kept: Sequence[Instance], kept_boxes: np.ndarray, threshold: float
) -> bool:
    if not kept:
        return False
    box = np.array([prediction.bbox], dtype=np.float64)
    candidates = np.nonzero(box_iou(box, kept_boxes)[0] > 0.0)[0]
    return any(polygon_iou(prediction.polygons, kept[j].polygons) >= threshold for j in candidates)
