"""ROI Align on tensors whose crops are known exactly (bilinear is exact on ramps)."""

from __future__ import annotations

import numpy as np

from bloodview.model.ops import roi_align
from bloodview.model.roi_align import assign_levels, pyramid_roi_align


def _ramp(size=32):
    rows, cols = np.mgrid[:size, :size].astype(np.float32)
    # value at pixel centre (r + 0.5, c + 0.5) in pixel-edge coordinates is 10 r + c
    return (10 * rows + cols)[None, :, :, None]


def test_crop_of_a_ramp_samples_bin_centres():
    box = np.array([[4.0, 6.0, 12.0, 18.0]], np.float32)  # y1, x1, y2, x2 (pixel edges)
    crop = np.asarray(roi_align(_ramp(), box, np.zeros(1, np.int32), (4, 3)))[0, :, :, 0]
    i, j = np.mgrid[:4, :3]
    y = 4.0 + (i + 0.5) * 8.0 / 4 - 0.5  # bin centre -> pixel index (centres at +0.5)
    x = 6.0 + (j + 0.5) * 12.0 / 3 - 0.5
    np.testing.assert_allclose(crop, 10 * y + x, atol=1e-3)


def test_whole_image_box_at_native_size_returns_the_image():
    image = _ramp(16)
    crop = np.asarray(roi_align(image, np.array([[0, 0, 16, 16]], np.float32), np.zeros(1, np.int32), (16, 16)))
    np.testing.assert_allclose(crop, image, atol=1e-3)


def test_box_index_picks_the_image():
    images = np.concatenate([_ramp(8), _ramp(8) + 1000.0])
    crop = np.asarray(roi_align(images, np.array([[0, 0, 8, 8]] * 2, np.float32), np.array([1, 0], np.int32), (2, 2)))
    assert crop[0].min() >= 1000 and crop[1].max() < 1000


def test_level_assignment_follows_box_size():
    boxes = np.array([[0, 0, 30, 30], [0, 0, 112, 112], [0, 0, 224, 224], [0, 0, 500, 500]], np.float32)
    np.testing.assert_array_equal(np.asarray(assign_levels(boxes, 4)), [0, 1, 2, 3])


def test_smaller_canonical_size_lifts_cells_to_deeper_levels():
    """A whole cell at 256-px input (~85 px) sits on P2 with 224 but on P3 with 112 and P4 with 56."""
    cell = np.array([[0, 0, 85, 85]], np.float32)
    levels = [int(np.asarray(assign_levels(cell, 4, canonical))[0]) for canonical in (224.0, 112.0, 56.0)]
    assert levels == [0, 1, 2]
    features = [np.full((1, 64, 64, 1), float(l), np.float32) for l in range(4)]
    pooled = pyramid_roi_align(features, cell, np.array([0], np.int32), (2, 2), canonical_size=56.0)
    assert np.all(np.asarray(pooled) == 2.0)


def test_pyramid_align_reads_each_box_from_its_level_in_input_order():
    # Level l is filled with the constant l; every box's crop must be that constant.
    features = [np.full((2, 512 // s, 512 // s, 3), float(l), np.float32) for l, s in enumerate([4, 8, 16, 32])]
    boxes = np.array([[0, 0, 240, 240], [0, 0, 20, 20], [8, 8, 120, 120]], np.float32)
    pooled = np.asarray(pyramid_roi_align(features, boxes, np.array([1, 0, 1], np.int32), (2, 2)))
    assert pooled.shape == (3, 2, 2, 3)
    expected = np.asarray(assign_levels(boxes, 4), np.float32)
    np.testing.assert_array_equal(expected, [2, 0, 1])
    np.testing.assert_allclose(pooled[..., 0], np.broadcast_to(expected[:, None, None], (3, 2, 2)))
