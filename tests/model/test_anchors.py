"""Anchor pyramid: count, centres, sizes and order against NumPy arithmetic."""

from __future__ import annotations

import numpy as np

from bloodview.model.anchors import level_anchors, pyramid_anchors


def test_count_is_cells_times_ratios_summed_over_levels():
    anchors = pyramid_anchors(128, [8, 16, 32, 64, 128], [0.5, 1, 2], [4, 8, 16, 32, 64])
    cells = sum((128 // s) ** 2 for s in [4, 8, 16, 32, 64])
    assert anchors.shape == (cells * 3, 4)
    assert anchors.dtype == np.float32


def test_centres_sit_on_feature_cell_centres_and_order_is_row_col_ratio():
    anchors = level_anchors(16, [0.5, 1.0, 2.0], (4, 4), stride=8)
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2
    # anchor index = (row * 4 + col) * 3 + ratio
    np.testing.assert_allclose(centres[(1 * 4 + 2) * 3 + 1], [12.0, 20.0])
    np.testing.assert_allclose(centres[(3 * 4 + 0) * 3 + 2], [28.0, 4.0])


def test_sizes_keep_area_and_ratio_is_width_over_height():
    anchors = level_anchors(32, [0.5, 1.0, 2.0], (2, 2), stride=4)
    h = anchors[:3, 2] - anchors[:3, 0]
    w = anchors[:3, 3] - anchors[:3, 1]
    np.testing.assert_allclose(h * w, [32 * 32] * 3, rtol=1e-5)
    np.testing.assert_allclose(w / h, [0.5, 1.0, 2.0], rtol=1e-5)


def test_anchor_stride_skips_cells():
    anchors = level_anchors(16, [1.0], (8, 8), stride=4, anchor_stride=2)
    assert anchors.shape == (16, 4)
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2
    np.testing.assert_allclose(centres[1], [2.0, 10.0])
