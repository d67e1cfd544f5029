"""Detections in the model input -> outlines in the original image."""

from __future__ import annotations

import numpy as np
import pytest

from bloodview.core.geometry import mask_iou, polygons_to_mask
from bloodview.core.instance import Source
from bloodview.model.postprocess import detections_to_instances, paste_mask, paste_mask_crop


def detections(boxes, class_ids, scores, masks, count=None):
    return {
        "boxes": np.asarray(boxes, dtype=np.float32),
        "class_ids": np.asarray(class_ids, dtype=np.int32),
        "scores": np.asarray(scores, dtype=np.float32),
        "masks": np.asarray(masks, dtype=np.float32),
        "count": len(boxes) if count is None else count,
    }


def test_full_mask_becomes_its_box_in_original_pixels():
    # Original 300 x 200 (h x w) scaled by 0.5 into a 256 input: window (0, 0, 150, 100).
    full = np.ones((28, 28))
    found = detections_to_instances(
        detections([[10, 20, 60, 70]], [2], [0.9], [full]), (0, 0, 150, 100), 300, 200,
        ["neutrophil", "platelet"], origin="m@d",
    )
    (cell,) = found
    assert cell.class_name == "platelet" and cell.score == pytest.approx(0.9)
    assert cell.source is Source.MODEL and cell.origin == "m@d"
    np.testing.assert_allclose(cell.bbox, (40, 20, 140, 120))


def test_disc_mask_pastes_back_with_its_shape():
    yy, xx = np.mgrid[0:28, 0:28] + 0.5
    disc = ((yy - 14) ** 2 + (xx - 14) ** 2 <= 13 ** 2).astype(np.float32)
    box = (12.3, 30.6, 52.3, 70.6)
    pasted = paste_mask(disc, box, 80, 100)
    cy, cx, r = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, 20 * 13 / 14
    ys, xs = np.mgrid[0:80, 0:100] + 0.5
    expected = (ys - cy) ** 2 + (xs - cx) ** 2 <= r ** 2
    assert mask_iou(pasted, expected) >= 0.93


def test_rows_that_are_padding_unsure_or_empty_are_dropped():
    full, empty = np.ones((28, 28)), np.zeros((28, 28))
    found = detections_to_instances(
        detections(
            [[0, 0, 10, 10], [0, 0, 10, 10], [20, 20, 40, 40], [5, 5, 9, 9], [1, 1, 5, 5]],
            [1, 0, 1, 2, 1],
            [0.95, 0.9, 0.3, 0.99, 0.99],
            [full, full, full, empty, full],
            count=4,
        ),
        (0, 0, 64, 64), 64, 64, ["neutrophil", "platelet"], min_confidence=0.5,
    )
    assert len(found) == 1 and found[0].bbox == (0, 0, 10, 10)


def test_box_outside_the_image_is_clipped_to_it():
    crop, x0, y0 = paste_mask_crop(np.ones((28, 28)), (-5, -5, 10, 10), 8, 8)
    assert (x0, y0) == (0, 0) and crop.shape == (8, 8) and crop.all()
    crop, _, _ = paste_mask_crop(np.ones((28, 28)), (20, 20, 30, 30), 8, 8)
    assert crop.size == 0


def test_outline_follows_pixel_edges():
    mask = np.zeros((28, 28))
    mask[:, :14] = 1.0  # left half of a 20 x 20 box
    (cell,) = detections_to_instances(
        detections([[0, 0, 20, 20]], [1], [0.8], [mask]), (0, 0, 20, 20), 20, 20, ["neutrophil", "platelet"]
    )
    assert mask_iou(polygons_to_mask(cell.polygons, 20, 20), np.pad(np.ones((20, 10), bool), ((0, 0), (0, 10)))) == 1.0


def _disc_detection(box, image_size):
    """A notched disc as the mask head gives it: sigmoid probabilities on a 28 x 28 grid."""
    yy, xx = np.mgrid[0:28, 0:28] + 0.5
    inside = np.minimum(13 - np.hypot(yy - 14, xx - 14), np.hypot(yy - 14, xx - 26) - 5)  # grid cells
    probs = 1 / (1 + np.exp(-2 * inside))
    return detections([box], [1], [0.9], [probs.astype(np.float32)]), (0, 0, image_size, image_size)


def test_model_outlines_come_simplified_for_editing_unless_full_precision_is_asked():
    """Issue 19: a 130-px cell traced from its mask had ~250 staircase vertices to drag."""
    found, window = _disc_detection([20, 20, 150, 150], 200)
    (full,) = detections_to_instances(found, window, 200, 200, ["neutrophil"], simplify=False)
    (simple,) = detections_to_instances(found, window, 200, 200, ["neutrophil"])
    assert len(full.polygons[0]) > 150
    assert 20 <= len(simple.polygons[0]) <= 40
    iou = mask_iou(polygons_to_mask(full.polygons, 200, 200), polygons_to_mask(simple.polygons, 200, 200))
    assert iou > 0.99
    assert (simple.class_name, simple.score, simple.source) == (full.class_name, full.score, full.source)


def test_a_simplified_cell_cut_by_the_image_edge_stays_inside_the_image():
    found, window = _disc_detection([-30, -30, 100, 100], 120)
    (cell,) = detections_to_instances(found, window, 120, 120, ["neutrophil"])
    points = np.concatenate(cell.polygons)
    assert points.min() >= 0 and points.max() <= 120
    assert len(points) <= 40


def test_a_mask_read_in_a_grown_box_is_pasted_over_that_box_not_the_detection_box():
    """``mask_boxes``: the network's mask head read the box grown by ``mask_box_scale``; a cell
    wider than its detection box keeps its round sides instead of being cut flat along them."""
    yy, xx = np.mgrid[0:28, 0:28] + 0.5
    disc = ((yy - 14) ** 2 + (xx - 14) ** 2 <= 13 ** 2).astype(np.float32)
    found = detections([[30, 30, 70, 70]], [1], [0.9], [disc])
    found["mask_boxes"] = np.array([[26, 26, 74, 74]], np.float32)  # grown by 1.2
    (cell,) = detections_to_instances(found, (0, 0, 100, 100), 100, 100, ["neutrophil"])
    x0, y0, x1, y1 = cell.bbox
    assert x0 < 30 and y0 < 30 and x1 > 70 and y1 > 70  # beyond the detection box
    ys, xs = np.mgrid[0:100, 0:100] + 0.5
    expected = (ys - 50) ** 2 + (xs - 50) ** 2 <= (24 * 13 / 14) ** 2
    assert mask_iou(polygons_to_mask(cell.polygons, 100, 100), expected) >= 0.93
