"""Each loss on a case small enough to compute by hand; empty cases give exactly 0."""

from __future__ import annotations

import math

import numpy as np

from bloodview.model.losses import (
    bbox_loss,
    class_loss,
    mask_loss,
    rpn_bbox_loss,
    rpn_class_loss,
    smooth_l1,
    total_loss,
    weight_penalty,
)


def _bce(p, y):
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def test_rpn_class_loss_averages_sampled_anchors_only():
    match = np.array([[1, -1, 0]], np.int32)
    logits = np.array([[0.0, math.log(3.0), 50.0]], np.float32)  # sigmoid: 0.5, 0.75, ~1
    expected = (_bce(0.5, 1) + _bce(0.75, 0)) / 2
    assert float(rpn_class_loss(match, logits)) == pytest_approx(expected)


def test_smooth_l1_both_branches():
    np.testing.assert_allclose(np.asarray(smooth_l1(np.array([0.5, -2.0, 1.0], np.float32))), [0.125, 1.5, 0.5])


def test_rpn_bbox_loss_counts_positive_anchors_only():
    match = np.array([[1, -1]], np.int32)
    target = np.array([[[0.5, 0, 0, 2.0], [9, 9, 9, 9]]], np.float32)
    pred = np.zeros((1, 2, 4), np.float32)
    assert float(rpn_bbox_loss(match, target, pred)) == pytest_approx((0.125 + 1.5) / 4)


def test_class_loss_is_cross_entropy_over_valid_rois():
    logits = np.array([[[0.0, 0.0, 0.0], [5.0, 0.0, 0.0], [0.0, 0.0, 9.0]]], np.float32)
    ids = np.array([[2, 0, 1]], np.int32)
    valid = np.array([[True, True, False]])
    p0 = math.exp(5) / (math.exp(5) + 2)
    expected = (-math.log(1 / 3) - math.log(p0)) / 2
    assert float(class_loss(ids, logits, valid)) == pytest_approx(expected)


def test_bbox_loss_uses_the_true_class_deltas():
    ids = np.array([[2, 0]], np.int32)
    target = np.array([[[1.0, 0, 0, 0], [5, 5, 5, 5]]], np.float32)
    pred = np.zeros((1, 2, 3, 4), np.float32)
    pred[0, 0, 1] = [1.0, 0, 0, 0]  # a perfect guess for the wrong class does not help
    assert float(bbox_loss(ids, target, pred)) == pytest_approx(0.5 / 4)
    pred[0, 0, 2] = [1.0, 0, 0, 0]
    assert float(bbox_loss(ids, target, pred)) == pytest_approx(0.0)


def test_mask_loss_is_bce_of_the_true_class_channel():
    target = np.zeros((1, 2, 2), np.float32)
    target[0, 0, 0] = 1.0
    logits = np.zeros((1, 2, 2, 3), np.float32)
    logits[0, :, :, 1] = 20.0  # class 1 channel is confident, but the ROI is class 2
    assert float(mask_loss(np.array([2]), target, logits)) == pytest_approx(math.log(2.0))


def test_no_positives_give_zero_box_and_mask_losses():
    assert float(rpn_bbox_loss(np.array([[-1, 0]]), np.ones((1, 2, 4)), np.zeros((1, 2, 4)))) == 0.0
    assert float(bbox_loss(np.zeros((1, 3), np.int32), np.ones((1, 3, 4)), np.zeros((1, 3, 2, 4)))) == 0.0
    assert float(mask_loss(np.zeros((0,), np.int32), np.zeros((0, 4, 4)), np.zeros((0, 4, 4, 2)))) == 0.0
    assert float(class_loss(np.zeros((1, 2), np.int32), np.zeros((1, 2, 3)), np.zeros((1, 2), bool))) == 0.0


def test_total_and_weight_penalty():
    losses = {n: 1.0 for n in ("rpn_class_loss", "rpn_bbox_loss", "class_loss", "bbox_loss", "mask_loss")}
    assert float(total_loss(losses, {"mask_loss": 2.0})) == 6.0
    assert float(weight_penalty([np.ones((2, 2)), np.full((3,), 2.0)], 0.1)) == pytest_approx(0.5 * 0.1 * 16)


def pytest_approx(value):
    import pytest

    return pytest.approx(value, rel=1e-5, abs=1e-6)
