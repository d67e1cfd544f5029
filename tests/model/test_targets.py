"""RPN and detection targets on hand-made scenes."""

from __future__ import annotations

import numpy as np

from bloodview.model.box_coding import decode_boxes, pairwise_iou
from bloodview.model.targets import detection_targets, rpn_targets

STD = (0.1, 0.1, 0.2, 0.2)


def _grid_anchors(n=20, size=16.0, step=8.0):
    ys, xs = np.meshgrid(np.arange(n) * step, np.arange(n) * step, indexing="ij")
    return np.stack([ys.ravel(), xs.ravel(), ys.ravel() + size, xs.ravel() + size], 1).astype(np.float32)


def test_rpn_targets_label_overlapping_anchors_and_encode_their_cell():
    anchors = _grid_anchors()
    gt_boxes = np.array([[[16, 16, 32, 32], [0, 0, 0, 0]]], np.float32)
    gt_ids = np.array([[1, 0]], np.int32)
    match, deltas = rpn_targets(anchors, gt_boxes, gt_ids, anchors_per_image=64, std_dev=STD)
    match, deltas = np.asarray(match)[0], np.asarray(deltas)[0]
    iou = np.asarray(pairwise_iou(anchors, gt_boxes[0, :1]))[:, 0]
    assert np.all(iou[match == 1] >= 0.7) and (match == 1).sum() >= 1
    assert np.all(iou[match == -1] < 0.3)
    assert (match != 0).sum() == 64
    decoded = np.asarray(decode_boxes(anchors[match == 1], deltas[match == 1], STD))
    np.testing.assert_allclose(decoded, np.repeat(gt_boxes[:, :1][0], len(decoded), 0), atol=1e-3)


def test_rpn_targets_keep_at_most_half_positives():
    anchors = _grid_anchors()
    gt_boxes = np.array([[[0, 0, 160, 160]]], np.float32)
    match, _ = rpn_targets(anchors * 0 + [0, 0, 150, 150], gt_boxes, np.array([[1]]), anchors_per_image=32)
    assert (np.asarray(match) == 1).sum() == 16


def test_rpn_targets_without_cells_have_no_positives():
    match, deltas = rpn_targets(_grid_anchors(), np.zeros((2, 3, 4), np.float32), np.zeros((2, 3), np.int32))
    match = np.asarray(match)
    assert (match == 1).sum() == 0 and np.all((match == -1).sum(axis=1) == 256)
    assert np.all(np.asarray(deltas) == 0)


def _detection_targets(proposals, valid, gt_ids, gt_boxes, gt_masks, rois=8):
    return {
        k: np.asarray(v)
        for k, v in detection_targets(
            proposals, valid, gt_ids, gt_boxes, gt_masks,
            rois_per_image=rois, positive_ratio=0.5, std_dev=STD, mask_shape=(4, 4),
        ).items()
    }


def test_detection_targets_give_class_deltas_and_mask_crop():
    gt_boxes = np.array([[[10, 10, 30, 30]]], np.float32)
    gt_ids = np.array([[2]], np.int32)
    mini = np.zeros((1, 1, 8, 8), np.float32)
    mini[0, 0, :, :4] = 1.0  # left half of the cell
    proposals = np.array([[[10, 10, 30, 30], [12, 11, 31, 30], [60, 60, 80, 80], [10, 20, 30, 40]]], np.float32)
    out = _detection_targets(proposals, np.ones((1, 4), bool), gt_ids, gt_boxes, mini)
    n_pos = int((out["class_ids"] > 0).sum())
    # positives: both close proposals plus the gt box itself (IoU >= 0.5), capped at 4 (half of 8)
    assert n_pos == 3 and np.all(out["class_ids"][0, :n_pos] == 2)
    assert np.all(out["valid"][0, : n_pos + 2]) and not out["valid"][0, n_pos + 2 :].any()
    decoded = np.asarray(decode_boxes(out["rois"][0, :n_pos], out["deltas"][0, :n_pos], STD))
    np.testing.assert_allclose(decoded, np.repeat(gt_boxes[0], n_pos, 0), atol=1e-3)
    exact = [i for i in range(n_pos) if np.allclose(out["rois"][0, i], gt_boxes[0, 0])][0]
    np.testing.assert_array_equal(out["masks"][0, exact], [[1, 1, 0, 0]] * 4)
    assert np.all(out["masks"][0, n_pos:] == 0) and np.all(out["deltas"][0, n_pos:] == 0)


def test_detection_targets_without_cells_are_all_background():
    proposals = np.array([[[0, 0, 10, 10], [20, 20, 40, 40], [0, 0, 0, 0]]], np.float32)
    out = _detection_targets(
        proposals, np.array([[True, True, False]]), np.zeros((1, 2), np.int32),
        np.zeros((1, 2, 4), np.float32), np.zeros((1, 2, 8, 8), np.float32),
    )
    assert np.all(out["class_ids"] == 0)
    assert out["valid"].sum() == 2
