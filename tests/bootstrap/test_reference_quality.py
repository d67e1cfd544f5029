"""Regression guard on real expert masks (Zheng et al. Dataset 1, first 40 images).

The whole 300-image figure is in benchmarks/bootstrap_quality.py (mean 0.945,
p10 0.920 when this was written); on these 40 the mean was 0.937, min 0.725.
"""

import numpy as np

from bloodview.bootstrap.reference import reference_pairs, whole_cell_ious
from bloodview.bootstrap.segment_cell import segment_cell

MEAN_FLOOR = 0.92  # reached 0.937
P10_FLOOR = 0.88  # reached 0.911


def test_whole_cell_iou_on_zheng_subset_stays_at_the_reached_level(zheng_dir):
    pairs = reference_pairs(zheng_dir)[:40]
    assert len(pairs) == 40
    ious = whole_cell_ious(pairs, lambda rgb: segment_cell(rgb).mask)
    assert ious.mean() >= MEAN_FLOOR, f"mean IoU fell to {ious.mean():.3f}"
    assert np.percentile(ious, 10) >= P10_FLOOR, f"p10 IoU fell to {np.percentile(ious, 10):.3f}"
