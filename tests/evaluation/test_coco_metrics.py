"""Table 4 (mask and box mAP, mAR, F1) on hand-made cases whose answers are worked out here."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from bloodview.core.geometry import mask_to_polygons, polygons_to_mask
from bloodview.core.instance import Instance, Source
from bloodview.evaluation.evaluate import evaluate
from bloodview.io.coco import load_coco, load_coco_results, save_coco, save_coco_results

TABLE4 = ("mAP50", "mAP70", "mAP90", "mAP50_95", "mAR", "F1")
# COCO interpolates precision at 101 recall points 0.00, 0.01, ..., 1.00.
RECALL_POINTS = 101


def test_perfect_prediction_scores_one_everywhere(make):
    gt = make.dataset(
        make.image("a.png", [make.cell(10, 10, 20, "neutrophil"), make.cell(50, 50, 25, "lymphocyte")]),
        make.image("b.png", [make.cell(30, 30, 30, "platelet")]),
    )
    pred = make.dataset(
        make.image("a.png", [make.cell(10, 10, 20, "neutrophil", 0.9), make.cell(50, 50, 25, "lymphocyte", 0.8)]),
        make.image("b.png", [make.cell(30, 30, 30, "platelet", 0.95)]),
    )
    report = evaluate(gt, pred)
    for kind in ("mask", "box"):
        assert [report[kind][k] for k in TABLE4] == pytest.approx([1.0] * 6)
        for name in ("neutrophil", "lymphocyte", "platelet"):
            assert report[kind]["per_class"][name]["mAP50_95"] == pytest.approx(1.0)
        # classes with no ground truth have no AP at all (pycocotools' -1), not 0
        assert report[kind]["per_class"]["basophil"]["mAP50"] is None
    cls = report["classification"]
    assert cls["accuracy"] == 1.0
    assert all(cls["per_class"][n][m] == 1.0 for n in cls["per_class"] for m in ("precision", "recall", "f1"))


def test_one_missed_cell_halves_recall(make):
    gt = make.dataset(make.image("a.png", [make.cell(0, 0, 20, "neutrophil"), make.cell(50, 50, 20, "neutrophil")]))
    pred = make.dataset(make.image("a.png", [make.cell(0, 0, 20, "neutrophil", 0.9)]))
    report = evaluate(gt, pred)
    # Precision is 1 up to recall 0.5 (recall points 0.00..0.50 = 51 of 101) and 0 beyond.
    expected_ap = 51 / RECALL_POINTS
    expected_f1 = 2 * expected_ap * 0.5 / (expected_ap + 0.5)
    for kind in ("mask", "box"):
        figures = report[kind]
        assert figures["mAP50"] == pytest.approx(expected_ap)
        assert figures["mAP50_95"] == pytest.approx(expected_ap)
        assert figures["mAR"] == pytest.approx(0.5)
        assert figures["F1"] == pytest.approx(expected_f1)
    cls = report["classification"]
    assert (cls["matched"], cls["missed"], cls["spurious"]) == (1, 1, 0)
    assert cls["accuracy"] == pytest.approx(0.5)
    assert cls["per_class"]["neutrophil"]["recall"] == pytest.approx(0.5)
    assert cls["per_class"]["neutrophil"]["precision"] == 1.0


def test_wrong_class_is_a_miss_for_map_and_a_confusion_for_classification(make):
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "neutrophil")]))
    pred = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "lymphocyte", 0.9)]))
    report = evaluate(gt, pred)
    assert report["mask"]["mAP50"] == 0.0
    assert report["mask"]["per_class"]["neutrophil"]["mAP50"] == 0.0
    # lymphocyte has no ground truth: COCOeval ignores its false positive class
    assert report["mask"]["per_class"]["lymphocyte"]["mAP50"] is None
    confusion = report["classification"]["confusion_matrix"]
    assert confusion["labels"] == ["lymphocyte", "neutrophil"]
    assert confusion["matrix"] == [[0, 0, 0], [1, 0, 0], [0, 0, 0]]
    assert report["classification"]["accuracy"] == 0.0
    assert report["classification"]["accuracy_matched"] == 0.0


@pytest.mark.parametrize("kind", ["mask", "box"])
def test_shifted_cell_counts_at_iou_half_but_not_at_0_7(make, kind):
    # 40x40 squares, 10 px apart: overlap 30*40 = 1200, union 2*1600 - 1200 = 2000 -> IoU 0.6
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 40, "monocyte")]))
    pred = make.dataset(make.image("a.png", [make.cell(20, 10, 40, "monocyte", 0.9)]))
    figures = evaluate(gt, pred)[kind]
    assert (figures["mAP50"], figures["mAP70"], figures["mAP90"]) == pytest.approx((1.0, 0.0, 0.0))
    assert figures["AR50"] == pytest.approx(1.0)


@pytest.mark.parametrize("kind", ["mask", "box"])
def test_iou_0_63_is_found_at_three_of_ten_thresholds(make, kind):
    # shifted 9 px: overlap 31*40 = 1240, union 3200 - 1240 = 1960 -> IoU 0.633,
    # a match at IoU 0.50, 0.55, 0.60 and not at 0.65 ... 0.95
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 40, "monocyte")]))
    pred = make.dataset(make.image("a.png", [make.cell(19, 10, 40, "monocyte", 0.9)]))
    figures = evaluate(gt, pred)[kind]
    assert figures["mAP50_95"] == pytest.approx(3 / 10)
    assert figures["mAR"] == pytest.approx(3 / 10)
    assert figures["F1"] == pytest.approx(0.3)


def test_no_predictions_give_zeros_not_a_crash(make):
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "eosinophil")]), make.image("b.png"))
    pred = make.dataset()
    report = evaluate(gt, pred)
    for kind in ("mask", "box"):
        assert [report[kind][k] for k in TABLE4] == [0.0] * 6
        assert report[kind]["per_class"]["eosinophil"]["mAP50"] == 0.0
        assert report[kind]["per_class"]["basophil"]["mAP50"] is None
    assert report["classification"]["missed"] == 1
    assert report["classification"]["accuracy"] == 0.0


def _disc(cx: float, cy: float, r: float, wobble: np.ndarray) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, len(wobble), endpoint=False)
    return np.stack([cx + r * wobble * np.cos(angles), cy + r * np.sin(angles)], axis=1)


def _pixel_outline(polygon: np.ndarray, height: int, width: int) -> list[np.ndarray]:
    """The outline of the polygon's pixels (what a model's mask gives)."""
    return mask_to_polygons(polygons_to_mask([polygon], height, width))


def _random_case(make, seed: int = 3):
    rng = np.random.default_rng(seed)
    names = ["neutrophil", "lymphocyte", "monocyte", "platelet"]
    gt_images, pred_images = [], []
    for k in range(6):
        truth, predicted = [], []
        for c in range(5):
            cx, cy, r = 30 + 45 * c, 40 + 60 * (k % 3), rng.uniform(10, 20)
            name = names[int(rng.integers(len(names)))]
            truth.append(Instance([_disc(cx, cy, r, rng.uniform(0.85, 1.15, 24))], name))
            if rng.random() < 0.15:
                continue
            moved = _disc(cx + rng.uniform(-6, 6), cy + rng.uniform(-6, 6), r * rng.uniform(0.8, 1.2),
                          rng.uniform(0.85, 1.15, 24))
            label = names[int(rng.integers(len(names)))] if rng.random() < 0.2 else name
            predicted.append(Instance(_pixel_outline(moved, 200, 250), label, score=float(rng.uniform(0.3, 1)),
                                      source=Source.MODEL))
        predicted.append(Instance(_pixel_outline(_disc(120, 180, 8, np.ones(12)), 200, 250), "platelet",
                                  score=0.5, source=Source.MODEL))
        gt_images.append(make.image(f"f{k}.png", truth, size=250))
        pred_images.append(make.image(f"f{k}.png", predicted, size=250))
    for images in (gt_images, pred_images):
        for img in images:
            img.height = 200
    return make.dataset(*gt_images), make.dataset(*pred_images)


@pytest.mark.parametrize("iou_type,kind", [("segm", "mask"), ("bbox", "box")])
def test_map_equals_pycocotools_run_directly_on_the_same_files(make, tmp_path, iou_type, kind):
    gt, pred = _random_case(make)
    save_coco(gt, tmp_path / "gt.json")
    save_coco_results(pred, tmp_path / "pred.json")

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(str(tmp_path / "gt.json"))
        coco_dt = coco_gt.loadRes(str(tmp_path / "pred.json"))
        direct = COCOeval(coco_gt, coco_dt, iou_type)
        direct.evaluate()
        direct.accumulate()
        direct.summarize()
    precision = direct.eval["precision"][:, :, :, 0, 2]  # area "all", 100 detections

    ours = evaluate(load_coco(tmp_path / "gt.json"), load_coco_results(tmp_path / "pred.json", tmp_path / "gt.json"))
    figures = ours[kind]
    assert 0.1 < figures["mAP50_95"] < 0.9  # a case that exercises the curve, not 0 or 1
    assert figures["mAP50_95"] == pytest.approx(direct.stats[0], abs=1e-12)
    assert figures["mAP50"] == pytest.approx(direct.stats[1], abs=1e-12)
    assert figures["mAR"] == pytest.approx(direct.stats[8], abs=1e-12)
    for key, t in (("mAP70", 4), ("mAP90", 8)):
        valid = precision[t][precision[t] > -1]
        assert figures[key] == pytest.approx(valid.mean(), abs=1e-12)
