import numpy as np

from bloodview.bootstrap.segment_box import clip_box, segment_in_box
from bloodview.core.geometry import mask_iou


def test_boxes_are_clipped_to_the_image_or_refused_with_a_reason():
    assert clip_box((-5, 10, 50, 70), 100, 80).box == (0, 10, 50, 70)
    outside = clip_box((120, 10, 150, 40), 100, 80)
    assert outside.box is None and "outside" in outside.problem
    empty = clip_box((10, 10, 10, 40), 100, 80)
    assert empty.box is None and "no area" in empty.problem


def test_cell_in_box_is_segmented_and_stays_in_its_box(syn):
    rgb, cell, red = syn.white_cell_with_red_cells()
    ys, xs = np.nonzero(cell)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    result = segment_in_box(rgb, box, "wbc")
    assert result.found
    assert mask_iou(result.mask, cell) > 0.85


def test_red_cell_box_gives_the_red_cell(syn):
    rgb, cell, red = syn.white_cell_with_red_cells()
    corner = syn.disc(red.shape, (60, 60), 35)
    result = segment_in_box(rgb, (25, 25, 96, 96), "rbc")
    assert result.found
    assert mask_iou(result.mask, corner) > 0.8


def test_box_on_empty_glass_finds_nothing(syn):
    rgb = syn.finish(syn.smear())
    result = segment_in_box(rgb, (100, 100, 160, 160), "wbc")
    assert not result.found and result.reason
