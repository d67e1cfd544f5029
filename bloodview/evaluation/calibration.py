"""Calibration: does a score mean what it says?

The app's review queue leaves a machine cell whose score is below the
*unidentified threshold* out of the differential count and asks a person to look
at it. That only works if scores are calibrated: of the cells scored about 0.9,
about 9 in 10 should be named right, and wrong calls should mostly land below
the threshold (where a person sees them) rather than above it (where they are
counted silently).

Input: one ``(score, correct)`` pair (or ``(score, correct, disputed)``) per *matched* cell, i.e. a prediction paired
with a ground-truth cell (by IoU, or the cell of interest of a class-only image);
``correct`` means the predicted class is the true class. Missed cells and
spurious predictions have no such pair and are not part of this.

Output (``calibration``), a JSON-ready dict:

* ``bins``: ``num_bins`` equal-width score bins over [0, 1], each
  ``{"low", "high", "count", "mean_score", "accuracy"}`` (the last two ``None``
  when empty). Bin ``k`` holds scores in ``[low, high)``; the last bin also holds 1.0;
* ``ece``: expected calibration error, ``sum_k count_k / n * |accuracy_k - mean_score_k|``
  (0 = perfectly calibrated; 0.2 = on average 20 points off);
* ``wrong_below_threshold`` / ``right_below_threshold``: the share of wrong
  (right) calls whose score is below ``threshold`` (strictly, as the review queue
  does): the first is what review catches, the second what it costs
  (``None`` when there is no wrong / right call), plus their counts;
* ``disputed``: how many calls the model's detector named otherwise than its cell classifier
  (the third element of a pair, :mod:`bloodview.core.second_opinion`), and ``wrong_disputed`` /
  ``right_disputed``: the share of wrong (right) calls that were, plus their counts. Whether a
  disagreement marks a wrong call differs from lab to lab; these say it for the data evaluated;
* ``cells``, ``correct``, ``wrong``, ``accuracy``, ``mean_score``, ``threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Same value as bloodview.gui.review.DEFAULT_UNIDENTIFIED_THRESHOLD (the GUI's review queue);
# not imported from there because evaluation never imports the GUI.
DEFAULT_REVIEW_THRESHOLD = 0.75
NUM_BINS = 10


def bin_index(scores: np.ndarray, num_bins: int = NUM_BINS) -> np.ndarray:
    """Bin of each score in ``[0, 1]``: ``k`` for ``[k/num_bins, (k+1)/num_bins)``, 1.0 in the last.

    Rounded before flooring so that a score written as 0.3 lands in [0.3, 0.4)
    although ``0.3 * 10`` is not exactly 3 in floating point.
    """
    scaled = np.round(np.asarray(scores, dtype=np.float64) * num_bins, 9)
    return np.clip(np.floor(scaled), 0, num_bins - 1).astype(np.int64)


def calibration(
    pairs: Sequence[tuple[float, bool] | tuple[float, bool, bool]],
    threshold: float = DEFAULT_REVIEW_THRESHOLD,
    num_bins: int = NUM_BINS,
) -> dict:
    """Reliability bins, ECE and below-threshold shares (see the module docstring).

    Raises ``ValueError`` for a score outside [0, 1] or that is not finite: such
    a number is not a probability, and calling it calibrated or not means nothing.
    """
    scores = np.array([float(pair[0]) for pair in pairs], dtype=np.float64)
    correct = np.array([bool(pair[1]) for pair in pairs], dtype=bool)
    disputed = np.array([len(pair) > 2 and bool(pair[2]) for pair in pairs], dtype=bool)
    if not np.all(np.isfinite(scores)) or np.any((scores < 0) | (scores > 1)):
        raise ValueError("calibration needs scores between 0 and 1")
    n = len(scores)
    index = bin_index(scores, num_bins)
    bins = []
    ece = 0.0
    for k in range(num_bins):
        inside = index == k
        count = int(inside.sum())
        mean_score = float(scores[inside].mean()) if count else None
        accuracy = float(correct[inside].mean()) if count else None
        if count:
            ece += count / n * abs(accuracy - mean_score)
        bins.append({
            "low": round(k / num_bins, 10),
            "high": round((k + 1) / num_bins, 10),
            "count": count,
            "mean_score": mean_score,
            "accuracy": accuracy,
        })
    below = scores < threshold
    wrong_count, right_count = int((~correct).sum()), int(correct.sum())
    wrong_below, right_below = int((below & ~correct).sum()), int((below & correct).sum())
    wrong_disputed, right_disputed = int((disputed & ~correct).sum()), int((disputed & correct).sum())
    return {
        "threshold": float(threshold),
        "cells": n,
        "correct": right_count,
        "wrong": wrong_count,
        "accuracy": float(correct.mean()) if n else None,
        "mean_score": float(scores.mean()) if n else None,
        "ece": float(ece) if n else None,
        "wrong_below_threshold": wrong_below / wrong_count if wrong_count else None,
        "wrong_below_threshold_count": wrong_below,
        "right_below_threshold": right_below / right_count if right_count else None,
        "right_below_threshold_count": right_below,
        "disputed": int(disputed.sum()),
        "wrong_disputed": wrong_disputed / wrong_count if wrong_count else None,
        "wrong_disputed_count": wrong_disputed,
        "right_disputed": right_disputed / right_count if right_count else None,
        "right_disputed_count": right_disputed,
        "bins": bins,
    }
