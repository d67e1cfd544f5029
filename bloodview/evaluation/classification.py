"""The paper's Table 5: per-class accuracy, precision, recall, F1, specificity.

The confusion matrix has one row per true class plus a ``spurious`` row
(predictions with no ground-truth cell) and one column per predicted class plus
a ``missed`` column (ground-truth cells no prediction matched). The corner
(spurious, missed) is always 0. Every entry is one event; ``N`` = all events.

For class ``c`` (one-vs-rest over the events):

* ``TP`` = matrix[c, c]
* ``FN`` = row c minus TP (wrong class or missed)
* ``FP`` = column c minus TP (another class's cell called c, or spurious)
* ``TN`` = N - TP - FN - FP
* accuracy = (TP + TN) / N, precision = TP / (TP + FP), recall = TP / (TP + FN),
  F1 = 2·precision·recall / (precision + recall), specificity = TN / (TN + FP),
  support = TP + FN (ground-truth cells of c).

A ratio with a zero denominator is 0 (scikit-learn's ``zero_division=0``).
Classes listed are those with ground truth or predictions. ``macro`` is the
unweighted mean over the listed classes, ``weighted`` the mean weighted by
support. Overall ``accuracy`` = diagonal / N (detection errors count as errors);
``accuracy_matched`` = diagonal / matched pairs (class errors only).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

MISSED = "missed"
SPURIOUS = "spurious"
METRICS = ("accuracy", "precision", "recall", "f1", "specificity")


@dataclass
class ConfusionMatrix:
    """``matrix[i, j]``: events with true label ``rows[i]`` and predicted ``columns[j]``.

    ``rows`` = ``labels + ["spurious"]``, ``columns`` = ``labels + ["missed"]``.
    """

    labels: list[str]
    matrix: np.ndarray

    @property
    def rows(self) -> list[str]:
        return [*self.labels, SPURIOUS]

    @property
    def columns(self) -> list[str]:
        return [*self.labels, MISSED]

    def to_dict(self) -> dict:
        return {
            "labels": list(self.labels),
            "rows": self.rows,
            "columns": self.columns,
            "matrix": self.matrix.astype(int).tolist(),
        }


def confusion_matrix(
    pairs: Iterable[tuple[str | None, str | None]], class_order: Sequence[str]
) -> ConfusionMatrix:
    """Count ``(true, predicted)`` events; ``None`` true = spurious, ``None`` predicted = missed.

    Labels are the classes of ``class_order`` that occur in ``pairs``, in that order.
    """
    events = list(pairs)
    seen = {label for pair in events for label in pair if label is not None}
    unknown = seen - set(class_order)
    if unknown:
        raise ValueError(f"labels not in the class order: {sorted(unknown)}")
    labels = [name for name in class_order if name in seen]
    index = {name: i for i, name in enumerate(labels)}
    n = len(labels)
    matrix = np.zeros((n + 1, n + 1), dtype=np.int64)
    for true, predicted in events:
        if true is None and predicted is None:
            continue
        row = n if true is None else index[true]
        column = n if predicted is None else index[predicted]
        matrix[row, column] += 1
    return ConfusionMatrix(labels=labels, matrix=matrix)


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def class_metrics(confusion: ConfusionMatrix) -> dict:
    """Table 5 as a dict: ``per_class``, ``macro``, ``weighted``, ``accuracy`` ….

    See the module docstring for every definition.
    """
    m = confusion.matrix.astype(np.float64)
    n_labels = len(confusion.labels)
    total = m.sum()
    per_class: dict[str, dict] = {}
    for i, name in enumerate(confusion.labels):
        tp = m[i, i]
        fn = m[i, :].sum() - tp
        fp = m[:, i].sum() - tp
        tn = total - tp - fn - fp
        precision = _ratio(tp, tp + fp)
        recall = _ratio(tp, tp + fn)
        per_class[name] = {
            "accuracy": _ratio(tp + tn, total),
            "precision": precision,
            "recall": recall,
            "f1": _ratio(2 * precision * recall, precision + recall),
            "specificity": _ratio(tn, tn + fp),
            "support": int(tp + fn),
            "tp": int(tp),
            "fp": int(fp),
            "fn": int(fn),
            "tn": int(tn),
        }
    supports = np.array([per_class[c]["support"] for c in confusion.labels], dtype=np.float64)
    macro, weighted = {}, {}
    for metric in METRICS:
        values = np.array([per_class[c][metric] for c in confusion.labels], dtype=np.float64)
        macro[metric] = float(values.mean()) if values.size else 0.0
        weighted[metric] = float((values * supports).sum() / supports.sum()) if supports.sum() else 0.0
    diagonal = float(np.trace(m[:n_labels, :n_labels]))
    matched = float(m[:n_labels, :n_labels].sum())
    return {
        "per_class": per_class,
        "macro": macro,
        "weighted": weighted,
        "accuracy": _ratio(diagonal, total),
        "accuracy_matched": _ratio(diagonal, matched),
        "ground_truth": int(m[:n_labels, :].sum()),
        "matched": int(matched),
        "missed": int(m[:n_labels, n_labels].sum()),
        "spurious": int(m[n_labels, :n_labels].sum()),
        "confusion_matrix": confusion.to_dict(),
    }
