"""Report files: what a user opens after `bloodview evaluate`."""

from __future__ import annotations

import csv
import json

import cv2
import pytest

from bloodview.errors import FormatError
from bloodview.evaluation.evaluate import evaluate
from bloodview.evaluation.reports import load_report, summary_for_model_json, write_report


@pytest.fixture
def report(make):
    gt = make.dataset(
        make.image("a.png", [make.cell(0, 0, 20, "neutrophil"), make.cell(50, 50, 20, "neutrophil")]),
        make.image("b.png", [make.cell(10, 10, 30, "lymphocyte")]),
    )
    pred = make.dataset(
        make.image("a.png", [make.cell(0, 0, 20, "neutrophil", 0.9)]),
        make.image("b.png", [make.cell(10, 10, 30, "monocyte", 0.8), make.cell(60, 60, 10, "platelet", 0.7)]),
    )
    return evaluate(gt, pred, describe={"ground_truth": "gt.json", "predictions": "pred.json"})


def test_report_json_has_every_figure_under_its_metric_name(report, tmp_path):
    write_report(report, tmp_path / "out")
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    for kind in ("mask", "box"):
        for key in ("mAP50", "mAP70", "mAP90", "mAP50_95", "mAR", "F1"):
            assert isinstance(data[kind][key], float)
    neutrophil = data["classification"]["per_class"]["neutrophil"]
    assert set(neutrophil) >= {"accuracy", "precision", "recall", "f1", "specificity", "support"}
    assert neutrophil["support"] == 2
    assert set(data["classification"]["macro"]) == {"accuracy", "precision", "recall", "f1", "specificity"}
    assert data["classification"]["confusion_matrix"]["labels"] == ["lymphocyte", "monocyte", "neutrophil", "platelet"]
    assert data["reference"]["mask.mAP50"] == 0.914


def test_confusion_csv_and_png_show_the_matrix(report, tmp_path):
    written = write_report(report, tmp_path)
    raw = (tmp_path / "confusion_matrix.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read it as UTF-8
    rows = list(csv.reader((tmp_path / "confusion_matrix.csv").open(newline="", encoding="utf-8-sig")))
    assert rows[0] == ["true\\predicted", "lymphocyte", "monocyte", "neutrophil", "platelet", "missed"]
    assert rows[1] == ["lymphocyte", "0", "1", "0", "0", "0"]
    assert rows[3] == ["neutrophil", "0", "0", "1", "0", "1"]
    assert rows[5] == ["spurious", "0", "0", "0", "1", "0"]
    for name in ("confusion_matrix.png", "precision_recall.png"):
        picture = cv2.imread(str(written[name]))
        assert picture is not None and picture.shape[0] > 200 and picture.shape[1] > 300


def test_report_md_fills_tables_4_and_5_beside_the_paper(report, tmp_path):
    write_report(report, tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "## Table 4" in text and "## Table 5" in text
    assert "| mask (paper, ResNet101) | 0.914 | — | — | 0.851 | 0.953 |" in text
    assert "(paper, ResNet101: 0.993)" in text
    mask = report["mask"]
    assert f"| mask (this model) | {mask['mAP50']:.3f} | {mask['mAP70']:.3f} |" in text
    assert "| neutrophil | 0.750 | 1.000 | 0.500 | 0.667 | 1.000 | 2 |" in text  # 4 events: TP1 FN1 TN2


def test_load_report_round_trips_and_refuses_other_files(report, tmp_path):
    write_report(report, tmp_path)
    again = load_report(tmp_path)
    assert again["mask"]["mAP50"] == pytest.approx(report["mask"]["mAP50"])
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(FormatError, match="not a bloodview evaluation report"):
        load_report(tmp_path / "other.json")
    with pytest.raises(FormatError, match="no evaluation report here"):
        load_report(tmp_path / "missing")


def test_summary_for_model_json_is_flat_and_small(report):
    summary = summary_for_model_json(report)
    assert summary["figures"]["mask.mAP50"] == round(report["mask"]["mAP50"], 4)
    assert summary["figures"]["classification.accuracy"] == round(report["classification"]["accuracy"], 4)
    assert summary["images"] == 2 and summary["ground_truth"] == "gt.json"
    json.dumps(summary)


def test_summary_leaves_out_mask_figures_for_box_only_data(make):
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 30, "platelet", box_only=True)]))
    pred = make.dataset(make.image("a.png", [make.cell(10, 10, 30, "platelet", 0.9)]))
    figures = summary_for_model_json(evaluate(gt, pred))["figures"]
    assert "mask.mAP50" not in figures and figures["box.mAP50"] == pytest.approx(1.0)


def test_class_only_report_has_table_5_and_no_curve(make, tmp_path):
    gt = make.dataset(make.image("NE_1.jpg", label="neutrophil"), make.image("LY_1.jpg", label="lymphocyte"))
    pred = make.dataset(make.image("NE_1.jpg", [make.cell(30, 30, 40, "neutrophil", 0.9)]))
    written = write_report(evaluate(gt, pred), tmp_path)
    assert "precision_recall.png" not in written and (tmp_path / "confusion_matrix.png").is_file()
    text = (tmp_path / "report.md").read_text()
    assert "| mask (this model) | — |" in text
    assert "Overall accuracy: **0.500**" in text and "missed 1" in text
