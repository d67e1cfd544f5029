"""One cell, one detection: class-agnostic suppression of duplicate detections (NumPy only).

The detection layer suppresses overlaps per class (Mask R-CNN's per-class NMS),
so one cell can come out twice when two classes both score it — e.g. an
eosinophil as eosinophil 1.00 and neutrophil 0.66. A lab counts that cell once.
Here, after the per-class step, a detection is dropped when its box overlaps an
already kept, better detection of *any* class by more than ``iou_threshold``.

Across tiles (see :mod:`bloodview.model.tiling`) a cell near a cut may also be
seen partly by a neighbouring tile; such *cut* detections rank after whole ones
and are dropped when most of their box (``partial_overlap`` of its own area)
lies inside a kept detection.
"""

from __future__ import annotations

import numpy as np

# Box IoU above which two detections are taken as one cell. Measured with suppression off
# (docs/model.md, "One cell, one detection"): 160 PBC val images + 40 BCCD test fields gave
# 10 pairs on one cell (box IoU 0.32-0.93, median 0.93; 8 above 0.6) and 4 pairs on two
# different annotated cells (2 at 0.45 or less; 2 at 0.86 on BCCD boxes that themselves overlap).
DUPLICATE_IOU = 0.6
# Share of a cut detection's own box inside a kept one that marks it a part of that cell.
PARTIAL_OVERLAP = 0.6


def box_areas(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def intersections(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Area shared by one ``(y1, x1, y2, x2)`` box and each of ``boxes`` ``(N, 4)``."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    h = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    w = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    return h * w


def suppress_duplicates(
    boxes: np.ndarray,
    scores: np.ndarray,
    cut: np.ndarray | None = None,
    iou_threshold: float = DUPLICATE_IOU,
    partial_overlap: float = PARTIAL_OVERLAP,
) -> np.ndarray:
    """Indices of the detections to keep, best first.

    ``boxes`` ``(N, 4)`` in one frame, ``scores`` ``(N,)``, ``cut`` ``(N,)`` bool
    (detections touching a tile's inner edge; default none). Whole detections
    rank before cut ones, then by score.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    cut = np.zeros(len(boxes), dtype=bool) if cut is None else np.asarray(cut, dtype=bool).reshape(-1)
    if not len(boxes) == len(scores) == len(cut):
        raise ValueError("boxes, scores and cut must have one row per detection")
    order = np.lexsort((-scores, cut))
    areas = box_areas(boxes)
    kept: list[int] = []
    for index in order:
        if kept:
            shared = intersections(boxes[index], boxes[kept])
            union = areas[index] + areas[kept] - shared
            iou = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
            if (iou > iou_threshold).any():
                continue
            if cut[index] and areas[index] > 0 and (shared / areas[index] > partial_overlap).any():
                continue
        kept.append(int(index))
    return np.array(kept, dtype=np.int64)
