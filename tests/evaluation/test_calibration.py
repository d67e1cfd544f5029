"""Calibration: a score of 0.9 should be right 9 times in 10, and wrong calls should land below
the review threshold, where the app's review queue shows them to a person."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from bloodview.evaluation.calibration import DEFAULT_REVIEW_THRESHOLD, bin_index, calibration
from bloodview.evaluation.evaluate import evaluate
from bloodview.evaluation.plots import reliability_image
from bloodview.evaluation.reports import write_report


def calls(score: float, right: int, wrong: int) -> list[tuple[float, bool]]:
    return [(score, True)] * right + [(score, False)] * wrong


def test_calibrated_scores_have_ece_near_zero_and_overconfident_ones_do_not():
    calibrated = calibration(calls(0.95, 19, 1) + calls(0.65, 13, 7) + calls(0.25, 1, 3))
    assert calibrated["ece"] == pytest.approx(0.0, abs=1e-9)
    overconfident = calibration(calls(0.95, 10, 10) + calls(0.85, 4, 6))
    # every cell's score is ~0.4 above how often it is right: |0.5-0.95|*20/30 + |0.4-0.85|*10/30
    assert overconfident["ece"] == pytest.approx(0.45)
    assert overconfident["accuracy"] == pytest.approx(14 / 30)
    assert overconfident["mean_score"] == pytest.approx((0.95 * 20 + 0.85 * 10) / 30)


def test_bins_are_ten_equal_slices_with_count_mean_score_and_accuracy():
    result = calibration([(0.0, False), (0.3, True), (0.34, False), (0.999, True), (1.0, True)])
    bins = result["bins"]
    assert [(b["low"], b["high"]) for b in bins] == [(k / 10, (k + 1) / 10) for k in range(10)]
    assert [b["count"] for b in bins] == [1, 0, 0, 2, 0, 0, 0, 0, 0, 2]
    assert bins[3]["mean_score"] == pytest.approx(0.32) and bins[3]["accuracy"] == pytest.approx(0.5)
    assert bins[9]["accuracy"] == 1.0  # 1.0 falls in the last bin, not an eleventh
    assert bins[1]["mean_score"] is None and bins[1]["accuracy"] is None
    assert sum(b["count"] for b in bins) == result["cells"] == 5


def test_bin_edges_put_a_score_on_an_edge_in_the_upper_bin():
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.0999999])
    assert bin_index(scores).tolist() == [1, 2, 3, 6, 7, 0]


def test_shares_below_the_review_threshold_count_wrong_and_right_calls_separately():
    pairs = [(0.2, False), (0.74, False), (0.75, False), (0.9, False), (0.5, True), (0.8, True), (0.95, True)]
    result = calibration(pairs)
    assert result["threshold"] == DEFAULT_REVIEW_THRESHOLD == 0.75
    assert (result["wrong"], result["correct"]) == (4, 3)
    assert result["wrong_below_threshold_count"] == 2  # 0.75 itself is not below: the queue counts it
    assert result["wrong_below_threshold"] == pytest.approx(0.5)
    assert result["right_below_threshold_count"] == 1
    assert result["right_below_threshold"] == pytest.approx(1 / 3)
    stricter = calibration(pairs, threshold=0.95)
    assert stricter["wrong_below_threshold"] == 1.0 and stricter["right_below_threshold"] == pytest.approx(2 / 3)


def test_no_wrong_calls_gives_no_share_rather_than_a_made_up_zero():
    result = calibration(calls(0.9, 3, 0))
    assert result["wrong_below_threshold"] is None and result["wrong_below_threshold_count"] == 0
    assert result["right_below_threshold"] == 0.0
    json.dumps(result)  # JSON-ready


def test_scores_that_are_not_probabilities_are_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        calibration([(87.0, True)])
    with pytest.raises(ValueError):
        calibration([(float("nan"), True)])


def test_reliability_image_draws_bars_up_to_each_bins_accuracy():
    bins = calibration(calls(0.95, 10, 0) + calls(0.15, 0, 4))["bins"]
    picture = reliability_image(bins, threshold=0.75, size=(760, 520))
    assert picture.shape == (520, 760, 3) and picture.dtype == np.uint8
    left, right, top, bottom = 60, 30, 50, 56
    plot_w, plot_h = 760 - left - right, 520 - top - bottom
    x_high = left + int(0.95 * plot_w)  # inside the 0.9–1.0 bar
    x_low = left + int(0.15 * plot_w)  # the 0.1–0.2 bin: all wrong, no bar
    y_mid = top + plot_h // 2 + 20
    assert tuple(picture[y_mid, x_high]) != (255, 255, 255)
    assert tuple(picture[y_mid, x_low]) == (255, 255, 255)
    x_threshold = left + int(round(0.75 * plot_w))
    assert tuple(picture[top + plot_h - 5, x_threshold]) == (200, 30, 30)


def test_evaluate_reports_calibration_from_outlined_and_label_only_images(make, tmp_path):
    gt = make.dataset(
        make.image("a.png", [make.cell(0, 0, 20, "neutrophil"), make.cell(50, 50, 20, "neutrophil")]),
        make.image("b.png", [make.cell(10, 10, 30, "lymphocyte")]),
        make.image("NE_1.jpg", label="neutrophil"),
        make.image("LY_1.jpg", label="lymphocyte"),
    )
    pred = make.dataset(
        make.image("a.png", [make.cell(0, 0, 20, "neutrophil", 0.95), make.cell(50, 50, 20, "monocyte", 0.92)]),
        make.image("b.png", [make.cell(10, 10, 30, "monocyte", 0.6), make.cell(60, 60, 10, "platelet", 0.99)]),
        make.image("NE_1.jpg", [make.cell(30, 30, 40, "neutrophil", 0.55), make.cell(0, 0, 8, "platelet", 0.3)]),
        make.image("LY_1.jpg", []),
    )
    report = evaluate(gt, pred, review_threshold=0.7)
    cal = report["calibration"]
    # matched: 0.95 right, 0.92 wrong, 0.6 wrong (IoU matches); 0.55 right (cell of interest).
    # The spurious platelet (0.99) and the empty LY image have no matched cell.
    assert (cal["cells"], cal["correct"], cal["wrong"]) == (4, 2, 2)
    assert cal["threshold"] == 0.7
    assert [b["count"] for b in cal["bins"]] == [0, 0, 0, 0, 0, 1, 1, 0, 0, 2]
    assert cal["bins"][9]["accuracy"] == pytest.approx(0.5)
    assert cal["ece"] == pytest.approx((abs(0.5 - 0.935) * 2 + abs(1 - 0.55) + abs(0 - 0.6)) / 4)
    assert cal["wrong_below_threshold"] == pytest.approx(0.5) and cal["right_below_threshold"] == pytest.approx(0.5)
    assert report["classification"]["matched"] == 4  # Table 5 unchanged by the new section

    written = write_report(report, tmp_path / "out")
    picture = cv2.imread(str(written["reliability.png"]))
    assert picture is not None and picture.shape[0] > 200 and picture.shape[1] > 300
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["calibration"]["ece"] == pytest.approx(cal["ece"])
    assert "reliability.png" in data["files"]
    text = (tmp_path / "out" / "report.md").read_text()
    assert "## Calibration" in text
    assert f"**{cal['ece']:.3f}**" in text
    assert "wrong calls below the review threshold 0.70: **50.0 %** (1 of 2" in text
    assert text.index("## Calibration") < text.index("## Files")


def test_unscored_predictions_give_no_calibration_and_say_why(make, tmp_path):
    gt = make.dataset(make.image("a.png", [make.cell(0, 0, 20, "neutrophil")]))
    pred = make.dataset(make.image("a.png", [make.cell(0, 0, 20, "neutrophil")]))  # a person's outline
    report = evaluate(gt, pred)
    assert report["calibration"] is None
    assert any("calibration not computed" in note and "no scores" in note for note in report["notes"])
    written = write_report(report, tmp_path)
    assert "reliability.png" not in written
    assert "## Calibration" not in (tmp_path / "report.md").read_text()


def test_the_report_says_how_many_wrong_and_right_calls_the_detector_disputed(make, tmp_path):
    disputed = {"extra": {"detector_class": "monocyte", "detector_score": 0.8}}
    gt = make.dataset(*[make.image(f"NE_{k}.jpg", label="neutrophil") for k in range(4)])
    pred = make.dataset(
        make.image("NE_0.jpg", [make.cell(30, 30, 40, "neutrophil", 0.95)]),
        make.image("NE_1.jpg", [make.cell(30, 30, 40, "eosinophil", 0.93, **disputed)]),  # wrong, disputed
        make.image("NE_2.jpg", [make.cell(30, 30, 40, "eosinophil", 0.91)]),  # wrong, agreed
        make.image("NE_3.jpg", [make.cell(30, 30, 40, "neutrophil", 0.9, **disputed)]),  # right, disputed
    )
    cal = evaluate(gt, pred, review_threshold=0.75)["calibration"]
    assert cal["wrong_below_threshold"] == 0.0 and cal["disputed"] == 2
    assert cal["wrong_disputed"] == pytest.approx(0.5) and cal["wrong_disputed_count"] == 1
    assert cal["right_disputed"] == pytest.approx(0.5) and cal["right_disputed_count"] == 1
    markdown = write_report(evaluate(gt, pred), tmp_path / "out")["report.md"].read_text(encoding="utf-8")
    assert "of the wrong calls **50.0 %** (1 of 2), of the right ones 50.0 % (1 of 2)" in markdown


def test_plain_score_pairs_still_calibrate_and_nothing_is_disputed(make, tmp_path):
    cal = calibration([(0.9, True), (0.5, False)], 0.75)
    assert cal["disputed"] == 0 and cal["wrong_disputed"] == 0.0 and cal["wrong_below_threshold"] == 1.0
