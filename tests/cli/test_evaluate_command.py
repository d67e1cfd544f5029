"""`bloodview evaluate` end to end on files in tmp_path."""

from __future__ import annotations

import json
import sys
import types

import cv2
import numpy as np
import pytest

from bloodview.cli.main import main
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.io.coco import save_coco, save_coco_results


def _cell(x: float, size: float, name: str, score: float | None = None) -> Instance:
    source = Source.HUMAN if score is None else Source.MODEL
    return Instance([rectangle(x, 10, x + size, 10 + size)], name, score=score, source=source)


@pytest.fixture
def files(tmp_path):
    """GT: two neutrophils in a.png, one lymphocyte in b.png. Predictions miss one neutrophil."""
    gt = Dataset([
        ImageAnnotation("a.png", 100, 100, [_cell(0, 20, "neutrophil"), _cell(50, 20, "neutrophil")]),
        ImageAnnotation("b.png", 100, 100, [_cell(10, 30, "lymphocyte")]),
    ], ClassCatalogue.pbc())
    pred = Dataset([
        ImageAnnotation("a.png", 100, 100, [_cell(0, 20, "neutrophil", 0.9)]),
        ImageAnnotation("b.png", 100, 100, [_cell(10, 30, "lymphocyte", 0.8)]),
    ], ClassCatalogue.pbc())
    save_coco(gt, tmp_path / "gt.json")
    save_coco_results(pred, tmp_path / "pred.json")
    return tmp_path


def _results(path, entries):
    path.write_text(json.dumps(entries))
    return path


def test_evaluate_writes_the_report_and_prints_the_headline(files, capsys):
    out = files / "report"
    code = main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(files / "pred.json"), "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    for name in ("report.json", "report.md", "confusion_matrix.csv", "confusion_matrix.png", "precision_recall.png"):
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text())
    # neutrophil: AP 51/101 (recall 0.5), lymphocyte: AP 1  -> mean
    assert report["mask"]["mAP50"] == pytest.approx((51 / 101 + 1.0) / 2)
    assert report["classification"]["accuracy"] == pytest.approx(2 / 3)
    assert f"mAP@0.5 {report['mask']['mAP50']:.3f}" in printed
    assert "classification accuracy 0.667 over every cell" in printed and "1 missed" in printed
    # the cells both files hold are all named right: a reader must not take 0.667 for the classifier's
    assert f"{report['classification']['accuracy_matched']:.3f} on the matched ones" in printed
    assert report["classification"]["accuracy_matched"] == pytest.approx(1.0)


def test_compare_prints_and_writes_a_table(files, capsys):
    for name in ("m1", "m2"):
        assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(files / "pred.json"),
                     "--out", str(files / name)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--compare", str(files / "m1"), str(files / "m2"), "--out", str(files / "cmp.md")]) == 0
    printed = capsys.readouterr().out
    assert "| m1 | pred.json |" in printed and "| m2 | pred.json |" in printed and "| paper | ResNet101 |" in printed
    assert (files / "cmp.md").read_text() == printed


def test_empty_predictions_give_zeros(files, capsys):
    pred = _results(files / "none.json", [])
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(pred), "--out", str(files / "r")]) == 0
    report = json.loads((files / "r" / "report.json").read_text())
    assert report["mask"]["mAP50_95"] == 0.0 and report["classification"]["missed"] == 3


def test_detections_for_images_not_in_the_ground_truth_are_reported_and_ignored(files, capsys):
    entries = json.loads((files / "pred.json").read_text())
    entries.append(dict(entries[0], image_id=99, file_name="elsewhere/z.png"))
    pred = _results(files / "extra.json", entries)
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(pred), "--out", str(files / "r")]) == 0
    report = json.loads((files / "r" / "report.json").read_text())
    assert report["counts"]["predictions"] == 2
    assert any("elsewhere/z.png" in w and "ignored" in w for w in report["warnings"])
    assert "elsewhere/z.png" in capsys.readouterr().err


def _without_names(entries: list[dict]) -> list[dict]:
    """Results as other tools write them (and bloodview did): ids only."""
    return [{k: v for k, v in entry.items() if k not in ("file_name", "category_name")} for entry in entries]


def test_a_results_file_without_names_whose_ids_fit_still_evaluates(files, capsys):
    named = files / "report"
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(files / "pred.json"),
                 "--out", str(named)]) == 0
    old = _results(files / "old.json", _without_names(json.loads((files / "pred.json").read_text())))
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(old), "--out", str(files / "r")]) == 0
    report = json.loads((files / "r" / "report.json").read_text())
    assert report["mask"] == json.loads((named / "report.json").read_text())["mask"]
    assert report["warnings"] == []


def test_a_results_file_without_names_and_an_id_the_ground_truth_lacks_is_refused(files, capsys):
    """Regression: ids from another numbering were dropped with a warning and the rest scored against
    whichever images happened to carry those ids."""
    entries = _without_names(json.loads((files / "pred.json").read_text()))
    entries.append(dict(entries[0], image_id=3))
    pred = _results(files / "other_ids.json", entries)
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(pred), "--out", str(files / "r")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bloodview: error: ") and err.count("\n") == 1
    assert "other_ids.json" in err and "image id 3, which is not in the ground truth" in err
    assert not (files / "r" / "report.json").exists()


def test_a_results_file_without_names_made_on_other_pictures_is_refused(files, capsys):
    """Ids that exist in the ground truth but number other (here larger) pictures: caught by the masks' size."""
    pictures = Dataset([ImageAnnotation("x.png", 640, 480, [_cell(300, 40, "neutrophil", 0.9)]),
                        ImageAnnotation("y.png", 100, 100, [_cell(0, 20, "neutrophil", 0.9)])],
                       ClassCatalogue.pbc())
    save_coco_results(pictures, files / "elsewhere.json")
    pred = _results(files / "elsewhere.json", _without_names(json.loads((files / "elsewhere.json").read_text())))
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(pred), "--out", str(files / "r")]) == 1
    err = capsys.readouterr().err
    assert "elsewhere.json" in err and "mask of 640x480 px, not the 100x100 px" in err
    assert "image ids are not the ground truth's" in err


def test_a_results_file_where_only_some_detections_carry_names_is_refused(files, capsys):
    entries = json.loads((files / "pred.json").read_text())
    del entries[0]["file_name"]
    pred = _results(files / "mixed.json", entries)
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(pred), "--out", str(files / "r")]) == 1
    assert "mixed.json" in capsys.readouterr().err


def test_results_are_paired_by_file_name_with_a_ground_truth_numbered_otherwise(files, capsys):
    """Regression: predict's results number images 1..N in its own order; against a ground truth whose ids
    run the other way each image's cells were scored against the other image's."""
    data = json.loads((files / "gt.json").read_text())
    new_id = {1: 2, 2: 1}  # a.png is 2, b.png is 1 in this ground truth
    for image in data["images"]:
        image["id"] = new_id[image["id"]]
    for annotation in data["annotations"]:
        annotation["image_id"] = new_id[annotation["image_id"]]
    (files / "gt_swapped.json").write_text(json.dumps(data))
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(files / "pred.json"),
                 "--out", str(files / "right")]) == 0
    assert main(["evaluate", "--gt", str(files / "gt_swapped.json"), "--pred", str(files / "pred.json"),
                 "--out", str(files / "r")]) == 0
    right = json.loads((files / "right" / "report.json").read_text())
    report = json.loads((files / "r" / "report.json").read_text())
    assert report["mask"]["mAP50"] == pytest.approx(right["mask"]["mAP50"]) == pytest.approx((51 / 101 + 1.0) / 2)
    assert report["classification"]["confusion_matrix"] == right["classification"]["confusion_matrix"]
    assert report["classification"]["accuracy"] == pytest.approx(2 / 3)


def test_unknown_category_is_an_error_listing_both_sets(files, capsys):
    entries = _without_names(json.loads((files / "pred.json").read_text()))
    entries[0]["category_id"] = 42
    pred = _results(files / "badcat.json", entries)
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(pred), "--out", str(files / "r")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bloodview: error: ") and "badcat.json" in err
    assert "id 42" in err and "7 neutrophil" in err and "5 lymphocyte" in err
    assert not (files / "r" / "report.json").exists()


def test_results_are_classed_by_category_name_when_they_carry_one(files, capsys):
    """Regression: predict numbers the model's classes 1..K; read by id, a neutrophil became class 1."""
    entries = json.loads((files / "pred.json").read_text())
    for entry in entries:
        entry["category_id"] = {"neutrophil": 1, "lymphocyte": 2}[entry["category_name"]]
    pred = _results(files / "model_ids.json", entries)
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(pred), "--out", str(files / "r")]) == 0
    report = json.loads((files / "r" / "report.json").read_text())
    assert report["classification"]["accuracy_matched"] == pytest.approx(1.0)
    entries[0]["category_name"] = "megakaryocyte"
    _results(files / "model_ids.json", entries)
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(pred), "--out", str(files / "r2")]) == 1
    err = capsys.readouterr().err
    assert "model_ids.json" in err and "megakaryocyte" in err and "7 neutrophil" in err


def test_nan_score_is_an_error_naming_the_file(files, capsys):
    text = (files / "pred.json").read_text().replace('"score":0.9', '"score":NaN')
    assert "NaN" in text
    (files / "nan.json").write_text(text)
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(files / "nan.json"),
                 "--out", str(files / "r")]) == 1
    err = capsys.readouterr().err
    assert "nan.json" in err and "not a finite number" in err


def test_missing_arguments_are_explained(files, capsys):
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--out", str(files / "r")]) == 1
    assert "exactly one of --pred" in capsys.readouterr().err


class _FakePredictor:
    """Stands in for bloodview.model.predict.Predictor (no TensorFlow): finds one neutrophil."""

    loaded_from = None

    @classmethod
    def load(cls, model_dir, **options):
        cls.loaded_from = model_dir
        return cls()

    def predict(self, images, progress=None):
        found = [[_cell(0, 20, "neutrophil", 0.95)] for _ in images]
        if progress is not None:
            progress(len(images), len(images))
        return found


@pytest.fixture
def fake_model(files, monkeypatch):
    """Blank a.png and b.png on disk, and the stand-in predictor in place of the real module."""
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(files / name), np.zeros((100, 100, 3), np.uint8))
    fake = types.ModuleType("bloodview.model.predict")
    fake.Predictor = _FakePredictor
    monkeypatch.setitem(sys.modules, "bloodview.model.predict", fake)
    return _FakePredictor


def test_model_predicts_first_and_keeps_its_predictions(files, fake_model, capsys):
    out = files / "by_model"
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--model", str(files / "model"), "--out", str(out)]) == 0
    assert fake_model.loaded_from == files / "model"
    report = json.loads((out / "report.json").read_text())
    assert report["model"] == str(files / "model")
    # a.png: one of two neutrophils found; b.png: the lymphocyte missed, a spurious neutrophil
    cls = report["classification"]
    assert (cls["matched"], cls["missed"], cls["spurious"]) == (1, 2, 1)
    again = files / "again"
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(out / "predictions.json"),
                 "--out", str(again)]) == 0
    assert json.loads((again / "report.json").read_text())["mask"] == report["mask"]


def test_model_run_with_missing_images_names_one(files, fake_model, capsys):
    code = main(["evaluate", "--gt", str(files / "gt.json"), "--model", str(files / "model"),
                 "--images", str(files / "nowhere"), "--out", str(files / "r")])
    assert code == 1
    err = capsys.readouterr().err
    assert "a.png" in err and "2 of 2 ground-truth images are missing" in err


def test_predictions_as_a_coco_instances_file_are_paired_by_image_name(files, capsys):
    pred = Dataset([
        ImageAnnotation("b.png", 100, 100, [_cell(10, 30, "lymphocyte", 0.8)]),  # other order, one image
    ], ClassCatalogue.pbc())
    save_coco(pred, files / "pred_instances.json")
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(files / "pred_instances.json"),
                 "--out", str(files / "r")]) == 0
    report = json.loads((files / "r" / "report.json").read_text())
    assert report["classification"]["per_class"]["lymphocyte"]["recall"] == 1.0
    assert report["classification"]["per_class"]["neutrophil"]["recall"] == 0.0


def test_kept_predictions_use_the_ground_truth_files_own_image_ids(files, fake_model, capsys):
    data = json.loads((files / "gt.json").read_text())
    new_id = {1: 10, 2: 20}
    for image in data["images"]:
        image["id"] = new_id[image["id"]]
    for annotation in data["annotations"]:
        annotation["image_id"] = new_id[annotation["image_id"]]
    (files / "gt_ids.json").write_text(json.dumps(data))
    out = files / "by_model"
    assert main(["evaluate", "--gt", str(files / "gt_ids.json"), "--model", "m", "--out", str(out)]) == 0
    kept = json.loads((out / "predictions.json").read_text())
    assert sorted(entry["image_id"] for entry in kept) == [10, 20]
    assert main(["evaluate", "--gt", str(files / "gt_ids.json"), "--pred", str(out / "predictions.json"),
                 "--out", str(files / "again")]) == 0
    first = json.loads((out / "report.json").read_text())
    again = json.loads((files / "again" / "report.json").read_text())
    assert again["classification"]["confusion_matrix"] == first["classification"]["confusion_matrix"]
    assert again["warnings"] == []


class _RedCellPredictor:
    """Finds a.png's first neutrophil and, when asked for red cells, one red cell (as the finder names it)."""

    options: dict = {}

    @classmethod
    def load(cls, model_dir, **options):
        cls.options = options
        return cls()

    def predict(self, images, progress=None):
        red = [Instance([rectangle(60, 60, 80, 80)], "rbc", source=Source.BOOTSTRAP, quality=0.9)]
        return [[_cell(0, 20, "neutrophil", 0.95)] + (red if self.options.get("red_cells") else []) for _ in images]


def test_a_ground_truth_with_red_cells_is_compared_with_the_models_cells_and_the_red_cell_finders(
        files, monkeypatch, capsys):
    """A lab's checked fields hold red cells (here named "RBC", as BCCD's files do): evaluate runs the model as the
    app does, red-cell finder included, and scores its ``rbc`` as the ground truth's red-cell class."""
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(files / name), np.zeros((100, 100, 3), np.uint8))
    fake = types.ModuleType("bloodview.model.predict")
    fake.Predictor = _RedCellPredictor
    monkeypatch.setitem(sys.modules, "bloodview.model.predict", fake)
    classes = ClassCatalogue.pbc()
    classes.add("RBC")
    red = Instance([rectangle(60, 60, 80, 80)], "RBC")
    gt = Dataset([ImageAnnotation("a.png", 100, 100, [_cell(0, 20, "neutrophil"), red])], classes)
    save_coco(gt, files / "gt_red.json")
    assert main(["evaluate", "--gt", str(files / "gt_red.json"), "--model", "m", "--out", str(files / "r")]) == 0
    assert _RedCellPredictor.options.get("red_cells") is True
    report = json.loads((files / "r" / "report.json").read_text())
    assert report["classification"]["per_class"]["RBC"]["recall"] == 1.0
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--model", "m", "--out", str(files / "r2")]) == 0
    assert _RedCellPredictor.options.get("red_cells") is False  # no red cells in the ground truth: the model alone


def test_an_out_that_is_a_file_is_refused_before_the_model_runs(files, fake_model, capsys):
    """Regression: the model predicted every image, then 'bloodview: error: notes.txt File exists'."""
    taken = files / "notes.txt"
    taken.write_text("lab notes\n", encoding="utf-8")
    fake_model.loaded_from = None
    assert main(["evaluate", "--gt", str(files / "gt.json"), "--model", str(files / "model"),
                 "--out", str(taken)]) == 1
    assert capsys.readouterr().err == (f"bloodview: error: {taken}: is a file; --out is the folder the report "
                                       "is written into\n")
    assert fake_model.loaded_from is None and taken.read_text(encoding="utf-8") == "lab notes\n"


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_min_score_that_is_not_a_finite_number_is_refused(files, capsys, value):
    """Regression: --min-score nan dropped nothing and said nothing (nan compares false)."""
    with pytest.raises(SystemExit) as stop:
        main(["evaluate", "--gt", str(files / "gt.json"), "--pred", str(files / "pred.json"),
              "--out", str(files / "r"), "--min-score", value])
    assert stop.value.code == 2
    assert f"argument --min-score: expected a finite number, got '{value}'" in capsys.readouterr().err
    assert not (files / "r").exists()


def test_a_ground_truth_without_images_is_refused_and_no_report_written(files, capsys):
    """Regression: an empty ground truth gave "accuracy 0.000" and a report of zeros."""
    empty = files / "empty.json"
    empty.write_text(json.dumps({"images": [], "annotations": [], "categories": [{"id": 1, "name": "neutrophil"}]}))
    assert main(["evaluate", "--gt", str(empty), "--pred", str(files / "pred.json"), "--out", str(files / "r")]) == 1
    assert capsys.readouterr().err == (f"bloodview: error: {empty}: the ground truth holds no images: there is "
                                       "nothing to evaluate against\n")
    assert not (files / "r").exists()
