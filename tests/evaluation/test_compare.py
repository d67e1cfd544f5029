"""Side-by-side comparison of saved reports."""

from __future__ import annotations

from bloodview.evaluation.compare import compare_reports
from bloodview.evaluation.evaluate import evaluate


def _report(make, shift: int, gt_name: str = "gt.json") -> dict:
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 40, "monocyte")]))
    pred = make.dataset(make.image("a.png", [make.cell(10 + shift, 10, 40, "monocyte", 0.9)]))
    return evaluate(gt, pred, describe={"ground_truth": gt_name, "model": f"models/shift{shift}"})


def test_one_row_per_model_plus_the_paper(make):
    text = compare_reports([("a", _report(make, 0)), ("b", _report(make, 10))])
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| report"))
    assert "mask mAP@0.5" in header and "accuracy" in header
    rows = [line for line in lines if line.startswith("| ")][1:]
    assert rows[0].startswith("| a | shift0 | 1 | 1.000 | 1.000 | 1.000 |")
    assert rows[1].startswith("| b | shift10 | 1 | 1.000 | 0.000 | 0.000 |")  # IoU 0.6 shift
    assert rows[2].startswith("| paper | ResNet101 | — | 0.914 |")
    assert "Not comparable" not in text


def test_reports_on_different_ground_truth_are_flagged(make):
    text = compare_reports([("a", _report(make, 0)), ("b", _report(make, 0, gt_name="other.json"))])
    assert "Not comparable" in text and "other.json" in text
