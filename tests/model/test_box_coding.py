"""Box deltas and IoU against straightforward NumPy references."""

from __future__ import annotations

import numpy as np

from bloodview.model.box_coding import clip_boxes, decode_boxes, encode_boxes, pairwise_iou

STD = (0.1, 0.1, 0.2, 0.2)


def _numpy_encode(ref, tgt, std):
    rh, rw = ref[:, 2] - ref[:, 0], ref[:, 3] - ref[:, 1]
    th, tw = tgt[:, 2] - tgt[:, 0], tgt[:, 3] - tgt[:, 1]
    dy = (tgt[:, 0] + th / 2 - ref[:, 0] - rh / 2) / rh
    dx = (tgt[:, 1] + tw / 2 - ref[:, 1] - rw / 2) / rw
    return np.stack([dy, dx, np.log(th / rh), np.log(tw / rw)], axis=1) / np.asarray(std)


def _random_boxes(rng, n):
    yx = rng.uniform(0, 200, size=(n, 2))
    hw = rng.uniform(2, 80, size=(n, 2))
    return np.concatenate([yx, yx + hw], axis=1).astype(np.float32)


def test_encode_matches_numpy_and_decode_inverts_it():
    rng = np.random.default_rng(0)
    ref, tgt = _random_boxes(rng, 50), _random_boxes(rng, 50)
    deltas = np.asarray(encode_boxes(ref, tgt, STD))
    np.testing.assert_allclose(deltas, _numpy_encode(ref, tgt, STD), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(decode_boxes(ref, deltas, STD)), tgt, atol=1e-3)


def test_decode_of_huge_size_delta_stays_finite():
    ref = np.array([[0, 0, 10, 10]], np.float32)
    out = np.asarray(decode_boxes(ref, np.array([[0, 0, 1e4, 1e4]], np.float32), STD))
    assert np.all(np.isfinite(out))


def test_iou_of_hand_made_pairs():
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 0, 0]], np.float32)
    iou = np.asarray(pairwise_iou(a, b))
    assert iou.shape == (2, 4)
    np.testing.assert_allclose(iou[0], [1.0, 50 / 150, 0.0, 0.0], atol=1e-6)


def test_batched_iou_matches_per_image():
    rng = np.random.default_rng(1)
    a = np.stack([_random_boxes(rng, 7), _random_boxes(rng, 7)])
    b = np.stack([_random_boxes(rng, 3), _random_boxes(rng, 3)])
    batched = np.asarray(pairwise_iou(a, b))
    for i in range(2):
        np.testing.assert_allclose(batched[i], np.asarray(pairwise_iou(a[i], b[i])), atol=1e-6)


def test_clip_to_window_per_image():
    boxes = np.array([[[-5, -5, 50, 300]], [[-5, -5, 50, 300]]], np.float32)
    windows = np.array([[0, 0, 100, 100], [10, 20, 40, 60]], np.float32)
    clipped = np.asarray(clip_boxes(boxes, windows))
    np.testing.assert_allclose(clipped[0, 0], [0, 0, 50, 100])
    np.testing.assert_allclose(clipped[1, 0], [10, 20, 40, 60])


def test_grown_boxes_keep_their_centres_and_stay_in_the_window():
    from bloodview.model.box_coding import grow_boxes

    boxes = np.array([[[10, 20, 50, 100], [0, 0, 0, 0], [2, 90, 22, 118]]], np.float32)
    windows = np.array([[0, 0, 100, 120]], np.float32)
    grown = np.asarray(grow_boxes(boxes, 1.5, windows))
    np.testing.assert_allclose(grown[0, 0], [0, 0, 60, 120])  # 40 x 80 -> 60 x 120 about (30, 60)
    np.testing.assert_allclose(grown[0, 1], [0, 0, 0, 0])  # an empty row stays empty
    np.testing.assert_allclose(grown[0, 2], [0, 83, 27, 120])  # cut by the window's top and right
    assert np.asarray(grow_boxes(boxes, 1.0, windows)) is boxes or np.array_equal(grow_boxes(boxes, 1.0, windows), boxes)
