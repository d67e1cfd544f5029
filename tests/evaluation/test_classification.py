"""Table 5 on a known 3-class example; every expected number is counted by hand below."""

from __future__ import annotations

import pytest

from bloodview.evaluation.classification import class_metrics, confusion_matrix
from bloodview.evaluation.evaluate import evaluate

# 16 events over classes a, b, c (None = missed / spurious):
#   a->a x5, a->b x1, a missed x1, b->b x3, b->c x1, c->c x4, spurious c x1
EVENTS = (
    [("a", "a")] * 5 + [("a", "b")] + [("a", None)]
    + [("b", "b")] * 3 + [("b", "c")]
    + [("c", "c")] * 4 + [(None, "c")]
)


def test_confusion_matrix_has_missed_column_and_spurious_row():
    confusion = confusion_matrix(EVENTS, ["a", "b", "c", "d"])
    assert confusion.labels == ["a", "b", "c"]  # d never occurs
    assert confusion.rows == ["a", "b", "c", "spurious"]
    assert confusion.columns == ["a", "b", "c", "missed"]
    assert confusion.matrix.tolist() == [
        [5, 1, 0, 1],
        [0, 3, 1, 0],
        [0, 0, 4, 0],
        [0, 0, 1, 0],
    ]


def test_per_class_figures_and_specificity_by_hand():
    metrics = class_metrics(confusion_matrix(EVENTS, ["a", "b", "c"]))
    n = 16
    # a: TP 5, FN 2 (one called b, one missed), FP 0, TN 16-7 = 9
    # b: TP 3, FN 1, FP 1 (an a called b), TN 16-5 = 11
    # c: TP 4, FN 0, FP 2 (a b called c, one spurious), TN 16-6 = 10
    expected = {
        "a": dict(accuracy=(5 + 9) / n, precision=5 / 5, recall=5 / 7, specificity=9 / 9, support=7),
        "b": dict(accuracy=(3 + 11) / n, precision=3 / 4, recall=3 / 4, specificity=11 / 12, support=4),
        "c": dict(accuracy=(4 + 10) / n, precision=4 / 6, recall=4 / 4, specificity=10 / 12, support=4),
    }
    for name, figures in expected.items():
        got = metrics["per_class"][name]
        for key, value in figures.items():
            assert got[key] == pytest.approx(value), (name, key)
        p, r = figures["precision"], figures["recall"]
        assert got["f1"] == pytest.approx(2 * p * r / (p + r))
    assert metrics["accuracy"] == pytest.approx(12 / 16)  # diagonal over every event
    assert metrics["accuracy_matched"] == pytest.approx(12 / 14)  # diagonal over matched pairs
    assert (metrics["ground_truth"], metrics["matched"], metrics["missed"], metrics["spurious"]) == (15, 14, 1, 1)
    recalls = [5 / 7, 3 / 4, 1.0]
    assert metrics["macro"]["recall"] == pytest.approx(sum(recalls) / 3)
    assert metrics["weighted"]["recall"] == pytest.approx((7 * 5 / 7 + 4 * 3 / 4 + 4 * 1.0) / 15)
    assert metrics["weighted"]["specificity"] == pytest.approx((7 * 1 + 4 * 11 / 12 + 4 * 10 / 12) / 15)


def test_a_class_never_predicted_has_zero_precision_not_an_error():
    metrics = class_metrics(confusion_matrix([("a", "b"), ("b", "b")], ["a", "b"]))
    assert metrics["per_class"]["a"]["precision"] == 0.0  # zero denominator -> 0
    assert metrics["per_class"]["a"]["f1"] == 0.0
    assert metrics["per_class"]["b"]["precision"] == pytest.approx(0.5)


def test_no_events_at_all_gives_an_empty_matrix():
    metrics = class_metrics(confusion_matrix([], ["a"]))
    assert metrics["confusion_matrix"]["matrix"] == [[0]]
    assert metrics["accuracy"] == 0.0
    assert metrics["per_class"] == {}


def test_unknown_label_is_refused():
    with pytest.raises(ValueError, match="x"):
        confusion_matrix([("x", "a")], ["a"])


def test_same_example_end_to_end_from_cells(make):
    """The three classes as cells in images; the report must give the same matrix."""
    a, b, c = "basophil", "eosinophil", "lymphocyte"
    truth, predicted = [], []
    spots = iter((x, y) for y in range(0, 400, 25) for x in range(0, 400, 25))

    def add(true, guess):
        x, y = next(spots)
        if true is not None:
            truth.append(make.cell(x, y, 20, true))
        if guess is not None:
            predicted.append(make.cell(x, y, 20, guess, 0.9))

    for true, guess in EVENTS:
        add({"a": a, "b": b, "c": c}.get(true), {"a": a, "b": b, "c": c}.get(guess))
    gt = make.dataset(make.image("field.png", truth, size=400))
    pred = make.dataset(make.image("field.png", predicted, size=400))
    cls = evaluate(gt, pred)["classification"]
    assert cls["confusion_matrix"]["labels"] == [a, b, c]
    assert cls["confusion_matrix"]["matrix"] == [[5, 1, 0, 1], [0, 3, 1, 0], [0, 0, 4, 0], [0, 0, 1, 0]]
    assert cls["per_class"][c]["specificity"] == pytest.approx(10 / 12)
