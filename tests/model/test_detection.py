"""Detection layer: class choice, confidence threshold, per-class NMS, window clipping."""

from __future__ import annotations

import numpy as np

from bloodview.model.detection import refine_detections

STD = (0.1, 0.1, 0.2, 0.2)


def _logits(probabilities):
    return np.log(np.asarray(probabilities, np.float32))


def _detect(rois, probs, window=(0, 0, 100, 100), min_confidence=0.5, max_instances=5):
    rois = np.asarray(rois, np.float32)[None]
    out = refine_detections(
        rois,
        np.ones(rois.shape[:2], bool),
        _logits(probs)[None],
        np.zeros(rois.shape[:2] + (len(probs[0]), 4), np.float32),
        np.array([window], np.float32),
        std_dev=STD,
        max_instances=max_instances,
        nms_threshold=0.3,
        min_confidence=min_confidence,
    )
    return {k: np.asarray(v)[0] for k, v in out.items()}


def test_overlapping_boxes_of_one_class_keep_the_best():
    rois = [[10, 10, 30, 30], [11, 11, 31, 31], [50, 50, 70, 70]]
    probs = [[0.1, 0.8, 0.1], [0.05, 0.9, 0.05], [0.1, 0.1, 0.8]]
    out = _detect(rois, probs)
    assert out["counts"] == 2
    np.testing.assert_allclose(out["scores"][:2], [0.9, 0.8], atol=1e-5)
    np.testing.assert_array_equal(out["class_ids"], [1, 2, 0, 0, 0])
    np.testing.assert_allclose(out["boxes"][0], rois[1], atol=1e-4)
    assert np.all(out["boxes"][2:] == 0)


def test_overlapping_boxes_of_different_classes_are_both_kept():
    out = _detect([[10, 10, 30, 30], [11, 11, 31, 31]], [[0.1, 0.8, 0.1], [0.05, 0.05, 0.9]])
    assert out["counts"] == 2 and sorted(out["class_ids"][:2]) == [1, 2]


def test_background_and_low_confidence_rois_are_dropped():
    rois = [[10, 10, 30, 30], [50, 50, 70, 70], [0, 60, 20, 80]]
    probs = [[0.7, 0.2, 0.1], [0.3, 0.4, 0.3], [0.1, 0.1, 0.8]]
    assert _detect(rois, probs)["counts"] == 1
    assert _detect(rois, probs, min_confidence=0.35)["counts"] == 2


def test_boxes_are_clipped_to_the_window():
    out = _detect([[-10, 20, 30, 90]], [[0.1, 0.9, 0.0001]], window=(0, 0, 64, 80))
    np.testing.assert_allclose(out["boxes"][0], [0, 20, 30, 80], atol=1e-4)
