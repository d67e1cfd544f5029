"""Which prediction belongs to which ground-truth cell (for the paper's Table 5).

Instance matching (images with annotated cells) is class-agnostic and one-to-one:
predictions are taken in descending score order (ties: input order); each claims
the still-unclaimed ground-truth cell it overlaps most, provided that IoU is at
least ``MATCH_IOU`` (0.5). So each ground-truth cell gets the best-scoring
prediction that covers it, the class plays no part in the matching (a wrong
class is a classification error, not a miss), and a prediction never counts
twice. IoU is mask IoU (pycocotools RLE) unless the image's ground truth or
predictions are box-only, then box IoU.

Cell of interest (class-only images, e.g. PBC folders: one centred cell whose
class is the image label, other cells at the edges unlabelled): among the
predictions, those within ``TIE_TOLERANCE`` (0.02) of the highest score are
near-ties; of these, the one whose box centre is nearest the image centre is the
cell of interest. No prediction -> the image's cell is missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pycocotools import mask as mask_utils

from bloodview.core.classes import is_red_cell_name
from bloodview.core.instance import Instance

MATCH_IOU = 0.5
TIE_TOLERANCE = 0.02


@dataclass(frozen=True)
class Match:
    """Indices of a matched pair (``gt``, ``pred``) and their IoU."""

    gt: int
    pred: int
    iou: float


def iou_matrix(
    gt_rles: Sequence[dict],
    pred_rles: Sequence[dict],
    gt_boxes: np.ndarray,
    pred_boxes: np.ndarray,
    use_boxes: bool,
) -> np.ndarray:
    """``(num_pred, num_gt)`` IoU of predictions against ground truth.

    Boxes are COCO ``[x, y, w, h]``; masks compressed RLEs of one image.
    """
    if len(pred_boxes) == 0 or len(gt_boxes) == 0:
        return np.zeros((len(pred_boxes), len(gt_boxes)))
    crowd = [0] * len(gt_boxes)
    if use_boxes:
        ious = mask_utils.iou(
            np.asarray(pred_boxes, dtype=np.float64), np.asarray(gt_boxes, dtype=np.float64), crowd
        )
    else:
        ious = mask_utils.iou(list(pred_rles), list(gt_rles), crowd)
    return np.asarray(ious, dtype=np.float64).reshape(len(pred_boxes), len(gt_boxes))


def match_instances(ious: np.ndarray, scores: Sequence[float], threshold: float = MATCH_IOU) -> list[Match]:
    """Greedy one-to-one matching by descending score (see the module docstring).

    ``ious`` is ``(num_pred, num_gt)``; ``scores`` has ``num_pred`` entries.
    """
    num_pred, num_gt = ious.shape
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    claimed = np.zeros(num_gt, dtype=bool)
    matches = []
    for p in order:
        if num_gt == 0:
            break
        candidates = np.where(claimed, -1.0, ious[p])
        g = int(np.argmax(candidates))
        if candidates[g] >= threshold:
            claimed[g] = True
            matches.append(Match(gt=g, pred=int(p), iou=float(ious[p, g])))
    return matches


def cell_of_interest(
    predictions: Sequence[Instance], width: int, height: int, tolerance: float = TIE_TOLERANCE
) -> int | None:
    """Index of the prediction that stands for a class-only image's cell, or ``None``.

    A class-only image (PBC) labels the cell centred in it, so the predictions whose box holds the
    image centre are the candidates when there are any; else every prediction is. Among the
    candidates the highest score wins; predictions within ``tolerance`` of it are near-ties,
    broken by the distance of the box centre from the image centre (nearest wins). Before a model
    found the platelets and cells round the centred one this was the highest score alone; a
    neighbour platelet scored 0.99 must not stand for a centred neutrophil scored 0.95.
    Red cells (the classical red-cell finder's, without a model score) never stand for it:
    a class-only image names a white cell or a platelet.
    """
    candidates = [k for k, p in enumerate(predictions) if p.score is not None and not is_red_cell_name(p.class_name)]
    if not candidates:
        return None
    centre = np.array([width / 2.0, height / 2.0])
    covering = [k for k in candidates if _holds(predictions[k].bbox, centre)]
    candidates = covering or candidates
    scores = np.full(len(predictions), -np.inf)
    scores[candidates] = [float(predictions[k].score) for k in candidates]
    best = scores.max()
    near = np.flatnonzero(scores >= best - tolerance)

    def distance(index: int) -> float:
        x1, y1, x2, y2 = predictions[index].bbox
        return float(np.hypot((x1 + x2) / 2.0 - centre[0], (y1 + y2) / 2.0 - centre[1]))

    return int(min(near, key=lambda i: (distance(int(i)), -scores[i])))


def _holds(box: Sequence[float], point: np.ndarray) -> bool:
    x1, y1, x2, y2 = box
    return bool(x1 <= point[0] <= x2 and y1 <= point[1] <= y2)
