"""The paper's Table 4: mask or box mAP at IoU 0.5 / 0.7 / 0.9 / 0.5:0.95, mAR and F1.

Every figure is read from pycocotools' ``COCOeval`` arrays, never recomputed:

* ``eval["precision"]`` has shape ``(T, R, K, A, M)`` = (IoU thresholds, 101 recall
  points, classes, area ranges, max detections); ``eval["recall"]`` ``(T, K, A, M)``.
  Entries are ``-1`` where a class has no ground truth; such entries are left out
  of every mean, exactly as ``COCOeval.summarize`` does.
* ``iouThrs`` are COCO's ten thresholds 0.50, 0.55 … 0.95, which contain 0.7 and
  0.9, so one evaluation gives all four mAP columns. ``areaRng`` is only "all"
  and ``maxDets`` only 100 (the columns we report; four times faster than the
  default four area ranges).
* ``mAP@t`` = mean precision over the 101 recall points and the classes at IoU t;
  ``mAP50_95`` = the same mean over all ten thresholds (COCO "AP");
  ``mAR`` = mean recall over thresholds and classes at 100 detections (COCO "AR@100");
  ``F1`` = 2·mAP50_95·mAR / (mAP50_95 + mAR) (both averaged over 0.5:0.95);
  ``F1_50`` = the same from mAP50 and the recall at IoU 0.5.
"""

from __future__ import annotations

import contextlib
import io as _stdio
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from bloodview.core.classes import ClassCatalogue

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
REPORTED_IOUS = {"mAP50": 0.5, "mAP70": 0.7, "mAP90": 0.9}
MAX_DETECTIONS = 100


@dataclass
class DetectionFigures:
    """One row of Table 4 (overall or one class). ``None`` = no ground truth of that class."""

    mAP50: float | None
    mAP70: float | None
    mAP90: float | None
    mAP50_95: float | None
    mAR: float | None
    AR50: float | None
    F1: float | None
    F1_50: float | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class DetectionMetrics:
    """Table 4 for one IoU type (``"segm"`` masks or ``"bbox"`` boxes).

    ``pr_curves`` maps class name to the 101 precisions at IoU 0.5 (recall
    points ``recall_points``), for the precision–recall plot.
    """

    iou_type: str
    overall: DetectionFigures
    per_class: dict[str, DetectionFigures]
    recall_points: list[float] = field(default_factory=list)
    pr_curves: dict[str, list[float]] = field(default_factory=dict)
    images: int = 0

    def to_dict(self) -> dict:
        out = self.overall.to_dict()
        out["images"] = self.images
        out["per_class"] = {name: f.to_dict() for name, f in self.per_class.items()}
        out["pr_curve_iou50"] = {"recall": self.recall_points, "precision": self.pr_curves}
        return out


def f1(precision: float | None, recall: float | None) -> float | None:
    """Harmonic mean; 0 when both are 0, ``None`` when either is unknown."""
    if precision is None or recall is None:
        return None
    total = precision + recall
    return 0.0 if total == 0 else 2.0 * precision * recall / total


def _mean_valid(values: np.ndarray) -> float | None:
    valid = values[values > -1]
    return float(valid.mean()) if valid.size else None


def _figures(precision: np.ndarray, recall: np.ndarray) -> DetectionFigures:
    """Figures from ``precision (T, R, K)`` and ``recall (T, K)`` (K may be one class)."""
    columns = {}
    for key, iou in REPORTED_IOUS.items():
        t = int(np.argmin(np.abs(IOU_THRESHOLDS - iou)))
        columns[key] = _mean_valid(precision[t])
    m_ap = _mean_valid(precision)
    m_ar = _mean_valid(recall)
    ar50 = _mean_valid(recall[0])
    return DetectionFigures(
        mAP50=columns["mAP50"],
        mAP70=columns["mAP70"],
        mAP90=columns["mAP90"],
        mAP50_95=m_ap,
        mAR=m_ar,
        AR50=ar50,
        F1=f1(m_ap, m_ar),
        F1_50=f1(columns["mAP50"], ar50),
    )


def make_params(coco_eval: COCOeval, image_ids: Sequence[int], category_ids: Sequence[int]) -> None:
    """Our COCOeval parameters: ten IoUs, all areas, 100 detections."""
    params = coco_eval.params
    params.imgIds = sorted(image_ids)
    params.catIds = sorted(category_ids)
    params.iouThrs = IOU_THRESHOLDS.copy()
    params.areaRng = [[0.0, 1e10]]
    params.areaRngLbl = ["all"]
    params.maxDets = [MAX_DETECTIONS]


def detection_metrics(
    gt: COCO,
    results: COCO | None,
    classes: ClassCatalogue,
    iou_type: str,
    image_ids: Sequence[int],
) -> DetectionMetrics:
    """Run COCOeval for ``iou_type`` on ``image_ids`` and read Table 4 from it.

    ``results`` ``None`` (no predictions at all) gives zeros for every class
    with ground truth, as COCOeval would with predictions that all miss.
    """
    category_ids = [c.id for c in classes]
    names = {c.id: c.name for c in classes}
    recall_points = np.linspace(0.0, 1.0, 101)
    t, r, k = len(IOU_THRESHOLDS), len(recall_points), len(category_ids)
    if results is None or not image_ids:
        precision = np.full((t, r, k), -1.0)
        recall = np.full((t, k), -1.0)
        for j, cat in enumerate(sorted(category_ids)):
            if gt.getAnnIds(imgIds=list(image_ids), catIds=[cat]):
                precision[:, :, j] = 0.0
                recall[:, j] = 0.0
    else:
        coco_eval = COCOeval(gt, results, iou_type)
        make_params(coco_eval, image_ids, category_ids)
        with contextlib.redirect_stdout(_stdio.StringIO()):
            coco_eval.evaluate()
            coco_eval.accumulate()
        precision = coco_eval.eval["precision"][:, :, :, 0, -1]
        recall = coco_eval.eval["recall"][:, :, 0, -1]
        recall_points = coco_eval.params.recThrs
    per_class = {}
    curves = {}
    for j, cat in enumerate(sorted(category_ids)):
        name = names[cat]
        per_class[name] = _figures(precision[:, :, j : j + 1], recall[:, j : j + 1])
        if per_class[name].mAP50 is not None:
            curves[name] = [float(v) for v in precision[0, :, j]]
    return DetectionMetrics(
        iou_type=iou_type,
        overall=_figures(precision, recall),
        per_class=per_class,
        recall_points=[float(v) for v in recall_points],
        pr_curves=curves,
        images=len(image_ids),
    )
