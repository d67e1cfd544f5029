"""Which images count where: box-only ground truth, class-only images, and bad input."""

from __future__ import annotations

import math

import pytest

from bloodview.core.classes import ClassCatalogue
from bloodview.errors import BloodviewError, FormatError
from bloodview.evaluation.evaluate import evaluate
from bloodview.evaluation.inputs import CategoryMismatchError


def test_box_only_ground_truth_evaluates_boxes_and_says_so(make):
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 30, "platelet", box_only=True)]))
    pred = make.dataset(make.image("a.png", [make.cell(10, 10, 30, "platelet", 0.9)]))
    report = evaluate(gt, pred)
    assert report["mask"] is None
    assert report["box"]["mAP50"] == pytest.approx(1.0)
    assert any("box-only" in note and "masks are not" in note for note in report["notes"])


def test_mixed_data_evaluates_masks_only_where_outlines_are_real(make):
    gt = make.dataset(
        make.image("voc.png", [make.cell(10, 10, 30, "platelet", box_only=True)]),
        make.image("poly.png", [make.cell(10, 10, 30, "platelet")]),
    )
    pred = make.dataset(
        make.image("voc.png", [make.cell(50, 50, 30, "platelet", 0.9)]),  # a miss, but only for boxes
        make.image("poly.png", [make.cell(10, 10, 30, "platelet", 0.9)]),
    )
    report = evaluate(gt, pred)
    assert report["mask"]["images"] == 1 and report["box"]["images"] == 2
    assert report["mask"]["mAP50"] == pytest.approx(1.0)
    assert report["box"]["mAR"] == pytest.approx(0.5)
    assert any("masks evaluated on 1 of 2 images" in note for note in report["notes"])


def test_class_only_images_use_the_cell_of_interest(make):
    gt = make.dataset(
        make.image("NE_1.jpg", label="neutrophil"),
        make.image("LY_1.jpg", label="lymphocyte"),
        make.image("BA_1.jpg", label="basophil"),
    )
    pred = make.dataset(
        make.image("NE_1.jpg", [make.cell(30, 30, 40, "neutrophil", 0.90), make.cell(0, 0, 8, "platelet", 0.5)]),
        make.image("LY_1.jpg", [make.cell(30, 30, 40, "monocyte", 0.95)]),
        make.image("BA_1.jpg", []),
    )
    report = evaluate(gt, pred)
    assert report["mask"] is None and report["box"] is None
    cls = report["classification"]
    confusion = cls["confusion_matrix"]
    # labels: basophil, lymphocyte, monocyte, neutrophil (+ missed column, spurious row)
    assert confusion["labels"] == ["basophil", "lymphocyte", "monocyte", "neutrophil"]
    assert confusion["matrix"] == [
        [0, 0, 0, 0, 1],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0],
    ]
    assert cls["accuracy"] == pytest.approx(1 / 3)
    assert cls["spurious"] == 0  # the unlabelled platelet at the edge is not an error
    assert cls["images_by_label"] == 3


def test_predictions_for_unknown_images_are_reported_and_ignored(make):
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "neutrophil")]))
    pred = make.dataset(
        make.image("a.png", [make.cell(10, 10, 20, "neutrophil", 0.9)]),
        make.image("stranger.png", [make.cell(10, 10, 20, "neutrophil", 0.9)]),
    )
    report = evaluate(gt, pred)
    assert report["mask"]["mAP50"] == pytest.approx(1.0)
    assert report["counts"]["predictions"] == 1
    assert any("stranger.png" in w and "ignored" in w for w in report["warnings"])


def test_images_are_paired_by_file_name_when_paths_differ(make, tmp_path):
    gt = make.dataset(make.image("smears/a.png", [make.cell(10, 10, 20, "neutrophil")]))
    pred = make.dataset(make.image(tmp_path / "elsewhere" / "a.png", [make.cell(10, 10, 20, "neutrophil", 0.9)]))
    assert evaluate(gt, pred)["mask"]["mAP50"] == pytest.approx(1.0)


def test_unknown_predicted_class_names_both_sets(make):
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "neutrophil")]))
    classes = ClassCatalogue.pbc()
    classes.add("rbc")
    pred = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "rbc", 0.9)]), classes=classes)
    with pytest.raises(CategoryMismatchError) as error:
        evaluate(gt, pred, source="pred.json")
    message = str(error.value)
    assert isinstance(error.value, BloodviewError)
    assert "pred.json" in message and "rbc" in message and "neutrophil" in message and "platelet" in message


def test_predicted_class_aliases_are_resolved(make):
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "platelet")]))
    pred = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "Platelets", 0.9)]))
    assert evaluate(gt, pred)["classification"]["accuracy"] == 1.0


def test_nan_score_is_a_clear_error(make):
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "platelet")]))
    pred = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "platelet", math.nan)]))
    with pytest.raises(FormatError, match=r"pred\.json: .*a\.png.*not a finite number"):
        evaluate(gt, pred, source="pred.json")


def test_missing_score_counts_as_one_and_is_reported(make):
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "platelet")]))
    pred = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "platelet")]))  # drawn by a person
    report = evaluate(gt, pred)
    assert report["mask"]["mAP50"] == pytest.approx(1.0)
    assert any("no score" in w for w in report["warnings"])


def test_min_score_drops_weak_predictions_before_everything(make):
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "platelet")]))
    pred = make.dataset(
        make.image("a.png", [make.cell(10, 10, 20, "platelet", 0.9), make.cell(60, 60, 20, "platelet", 0.3)])
    )
    assert evaluate(gt, pred)["classification"]["spurious"] == 1
    report = evaluate(gt, pred, min_score=0.75)
    assert report["classification"]["spurious"] == 0
    assert report["counts"]["predictions"] == 1
    assert any("below min_score" in w for w in report["warnings"])


def test_image_with_no_cells_makes_every_prediction_spurious(make):
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "platelet")]), make.image("empty.png"))
    pred = make.dataset(
        make.image("a.png", [make.cell(10, 10, 20, "platelet", 0.9)]),
        make.image("empty.png", [make.cell(10, 10, 20, "platelet", 0.95)]),
    )
    report = evaluate(gt, pred)
    assert report["classification"]["spurious"] == 1
    # the false positive scores higher than the true one: precision 0.5 at recall 1
    assert report["mask"]["mAP50"] == pytest.approx(0.5)


def test_image_without_a_size_is_refused_by_name(make):
    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "platelet")]))
    gt.images[0].width = 0
    pred = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "platelet", 0.9)]))
    with pytest.raises(FormatError, match=r"a\.png: the image size is unknown"):
        evaluate(gt, pred)


def test_a_ground_truth_without_images_is_refused(make):
    # regression: it gave a report of zeros ("accuracy 0.000") that read like a result
    pred = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "platelet", 0.9)]))
    with pytest.raises(FormatError, match="gt.json: the ground truth holds no images: there is nothing to evaluate"):
        evaluate(make.dataset(), pred, describe={"ground_truth": "gt.json"})
    with pytest.raises(FormatError, match="holds no images"):
        evaluate(make.dataset(), make.dataset())


def test_unscored_cells_of_a_classical_finder_are_named_as_such(make):
    """A BCCD evaluation said "210 predictions had no score": the red-cell finder's cells, which a lab
    would take for a fault of the model."""
    from bloodview.core.instance import Source

    gt = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "neutrophil")]))
    finder = make.cell(50, 50, 20, "platelet").copy(source=Source.BOOTSTRAP)
    pred = make.dataset(make.image("a.png", [make.cell(10, 10, 20, "neutrophil", 0.9), finder]))
    warnings = evaluate(gt, pred)["warnings"]
    assert any(w.startswith("1 predictions had no score (cells of a classical finder") for w in warnings), warnings
