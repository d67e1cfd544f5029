"""A 0..1 confidence for each bootstrap mask, so people review the doubtful ones first.

The score combines cues a haematologist would use to distrust an outline:

* ``agreement`` — IoU between the main segmentation and a cruder second method
  (foreground blob opened by a large disk): where two methods disagree, at
  least one is wrong;
* ``solidity`` — area / convex-hull area: white cells are round-ish, a red cell
  glued on makes a notch;
* ``border`` — share of the outline on the image edge: a cut-off cell;
* ``size`` — area relative to the typical area of its class in the same run
  (median), on a log scale: a 3x too large "lymphocyte" has swallowed a neighbour;
* ``box`` — for box-seeded masks, IoU of the mask's bounding box with the given box.

``quality`` is the weighted geometric mean of the cues present (each clipped to
[0.05, 1]), so a single very bad cue pulls the score down. Masks below
:data:`FLAG_THRESHOLD` are "flagged" in the summary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np

from bloodview.core.geometry import box_iou, mask_iou

FLAG_THRESHOLD = 0.6
WEIGHTS: dict[str, float] = {"agreement": 2.0, "solidity": 1.5, "border": 1.0, "size": 1.0, "box": 2.0}
SIZE_TOLERANCE = 0.6  # |log(area / typical)| at which the size cue reaches 1/e


@dataclass
class QualityCues:
    """Per-mask cues measured right after segmentation (picklable, no masks)."""

    area: float
    cues: dict[str, float] = field(default_factory=dict)


def measure_cues(
    mask: np.ndarray,
    alternative: np.ndarray | None = None,
    box: tuple[float, float, float, float] | None = None,
) -> QualityCues:
    """Cues of one full-resolution ``bool`` ``(H, W)`` mask; ``box`` is ``(x1, y1, x2, y2)``."""
    area = float(mask.sum())
    cues: dict[str, float] = {}
    if area == 0:
        return QualityCues(0.0, {"agreement": 0.0})
    if alternative is not None:
        cues["agreement"] = mask_iou(mask, alternative)
    cues["solidity"] = solidity(mask)
    cues["border"] = 1.0 - border_fraction(mask)
    if box is not None:
        ys, xs = np.nonzero(mask)
        own = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float64)
        cues["box"] = float(box_iou(own, np.array([box], np.float64))[0, 0])
    return QualityCues(area, cues)


def solidity(mask: np.ndarray) -> float:
    """Mask area / area of its convex hull (1 for a convex region)."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return 0.0
    hull = cv2.convexHull(np.concatenate(contours))
    hull_mask = np.zeros(mask.shape, np.uint8)
    cv2.fillPoly(hull_mask, [hull], 1)
    hull_area = float(np.count_nonzero(hull_mask | mask.astype(np.uint8)))
    return float(mask.sum()) / hull_area if hull_area else 0.0


def border_fraction(mask: np.ndarray) -> float:
    """Share of the mask's outline pixels that lie on the image border."""
    m = mask.astype(np.uint8)
    edge = m - cv2.erode(m, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    outline = int(edge.sum())
    if outline == 0:
        return 0.0
    on_border = int(edge[0, :].sum() + edge[-1, :].sum() + edge[1:-1, 0].sum() + edge[1:-1, -1].sum())
    return on_border / outline


def size_cue(area: float, typical: float | None) -> float | None:
    if typical is None or typical <= 0 or area <= 0:
        return None
    return math.exp(-abs(math.log(area / typical)) / SIZE_TOLERANCE)


def combine(cues: Mapping[str, float | None], weights: Mapping[str, float] = WEIGHTS) -> float:
    """Weighted geometric mean of the cues that are present, in [0, 1]."""
    total_weight, log_sum = 0.0, 0.0
    for name, value in cues.items():
        if value is None:
            continue
        weight = weights.get(name, 1.0)
        log_sum += weight * math.log(min(1.0, max(0.05, float(value))))
        total_weight += weight
    if total_weight == 0:
        return 0.0
    return float(math.exp(log_sum / total_weight))


def typical_areas(areas_by_class: Mapping[str, list[float]], min_count: int = 5) -> dict[str, float]:
    """Median mask area per class (classes with fewer than ``min_count`` masks left out)."""
    return {
        name: float(np.median(values))
        for name, values in areas_by_class.items()
        if len(values) >= min_count
    }


def score(cues: QualityCues, typical: float | None) -> float:
    """Final quality of a mask, given its class's typical area (or None)."""
    values: dict[str, float | None] = dict(cues.cues)
    values["size"] = size_cue(cues.area, typical)
    return round(combine(values), 4)
