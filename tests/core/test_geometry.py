"""Geometry: the polygon <-> mask conventions every other layer relies on."""

from __future__ import annotations

import numpy as np
import pytest

from bloodview.core import geometry as g
from bloodview.errors import GeometryError


def _ellipse(h, w, cx, cy, rx, ry, angle=0.0):
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    c, s = np.cos(angle), np.sin(angle)
    u = (xx - cx) * c + (yy - cy) * s
    v = -(xx - cx) * s + (yy - cy) * c
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def test_one_pixel_cell_becomes_its_unit_square_and_back():
    mask = np.zeros((5, 6), bool)
    mask[2, 3] = True
    polygons = g.mask_to_polygons(mask, tolerance=0, min_area=0)
    assert len(polygons) == 1
    assert g.polygon_area(polygons[0]) == pytest.approx(1.0)
    assert g.polygons_bbox(polygons) == (3.0, 2.0, 4.0, 3.0)
    assert np.array_equal(g.polygons_to_mask(polygons, 5, 6), mask)


def test_unit_square_rasterises_to_exactly_one_pixel():
    square = g.rectangle(3, 2, 4, 3)
    mask = g.polygon_to_mask(square, 5, 6)
    assert mask.sum() == 1 and mask[2, 3]


@pytest.mark.parametrize("seed", range(12))
def test_cell_sized_shapes_survive_polygon_mask_polygon(seed):
    """Property: random cell-like ellipses (8-80 px) keep IoU >= 0.98 through the round trip."""
    rng = np.random.default_rng(seed)
    h, w = 160, 170
    rx, ry = rng.uniform(4, 40, size=2)
    cx, cy = rng.uniform(45, 120), rng.uniform(45, 110)
    mask = _ellipse(h, w, cx, cy, rx, ry, rng.uniform(0, np.pi))
    polygons = g.mask_to_polygons(mask, tolerance=0.5, min_area=1)
    back = g.polygons_to_mask(polygons, h, w)
    assert g.mask_iou(mask, back) >= 0.98
    # and polygon -> mask -> polygon keeps the outline
    again = g.mask_to_polygons(back, tolerance=0.5, min_area=1)
    assert g.polygon_iou(polygons, again) >= 0.98


def test_unsimplified_round_trip_is_exact_for_any_blob():
    rng = np.random.default_rng(7)
    mask = rng.random((40, 50)) > 0.55
    polygons = g.mask_to_polygons(mask, tolerance=0, min_area=0)
    # holes are not represented: compare with the hole-filled mask of each region
    back = g.polygons_to_mask(polygons, 40, 50)
    assert (back | ~mask).all(), "every foreground pixel is inside some outline"


def test_regions_come_largest_first_and_small_ones_drop():
    mask = np.zeros((30, 30), bool)
    mask[1:3, 1:3] = True  # area 4
    mask[10:20, 10:25] = True  # area 150
    polygons = g.mask_to_polygons(mask, min_area=5)
    assert len(polygons) == 1
    assert g.polygon_area(polygons[0]) == pytest.approx(150)


def test_empty_mask_gives_no_polygons():
    assert g.mask_to_polygons(np.zeros((10, 10), bool)) == []


def test_polygon_outside_image_rasterises_clipped():
    mask = g.polygon_to_mask(g.rectangle(-5, -5, 3, 3), 5, 5)
    assert mask.sum() == 9


def test_bow_tie_is_repaired_into_two_triangles():
    parts = g.repair_polygon([[0, 0], [10, 10], [10, 0], [0, 10]])
    assert len(parts) == 2
    assert sum(g.polygon_area(p) for p in parts) == pytest.approx(50.0)
    assert all(g.is_valid_polygon(p) for p in parts)


def test_degenerate_outline_is_refused_with_a_reason():
    with pytest.raises(GeometryError, match="at least 3 points"):
        g.repair_polygon([[0, 0], [1, 1]])
    with pytest.raises(GeometryError, match="no area"):
        g.repair_polygon([[0, 0], [1, 1], [2, 2]])


def test_closed_and_flat_inputs_are_normalised():
    closed = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]
    assert g.as_polygon(closed).shape == (4, 2)
    assert g.as_polygon([0, 0, 4, 0, 4, 4]).shape == (3, 2)
    with pytest.raises(GeometryError):
        g.as_polygon([0, 0, 4])
    with pytest.raises(GeometryError, match="finite"):
        g.as_polygon([[0, 0], [np.nan, 1], [2, 2]])


def test_box_iou_matches_hand_computed_values():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 0, 0]])
    iou = g.box_iou(a, b)
    assert iou.shape == (1, 4)
    assert iou[0, 0] == pytest.approx(1.0)
    assert iou[0, 1] == pytest.approx(50 / 150)
    assert iou[0, 2] == 0.0 and iou[0, 3] == 0.0


def test_mask_iou_and_shape_mismatch():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:2] = True
    b[1:3] = True
    assert g.mask_iou(a, b) == pytest.approx(4 / 12)
    assert g.mask_iou(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0
    with pytest.raises(GeometryError):
        g.mask_iou(a, np.zeros((3, 3)))


def test_clip_polygon_to_image():
    parts = g.clip_polygon(g.rectangle(-5, -5, 5, 5), 10, 10)
    assert g.polygon_area(parts[0]) == pytest.approx(25)


def test_large_mask_round_trip_is_fast_enough_and_exact():
    big = np.zeros((2000, 2000), bool)
    big[100:1900, 200:1800] = True
    polygons = g.mask_to_polygons(big)
    assert len(polygons[0]) == 4
    assert g.mask_iou(big, g.polygons_to_mask(polygons, 2000, 2000)) == 1.0


# --- outlines made for hands (issue 19): pixel staircases simplified for editing -------------
def _traced_and_simplified(mask):
    (traced,) = g.mask_to_polygons(mask)[:1]
    simple = g.simplify_outline(traced)
    h, w = mask.shape
    iou = g.mask_iou(g.polygons_to_mask([traced], h, w), g.polygons_to_mask([simple], h, w))
    return traced, simple, iou


def _kidney(h, w, cx, cy, r):
    """A monocyte-like cell: a disc with a notch bitten out of one side."""
    return _ellipse(h, w, cx, cy, r, 0.9 * r) & ~_ellipse(h, w, cx + 0.95 * r, cy, 0.45 * r, 0.45 * r)


@pytest.mark.parametrize("diameter", [40, 100, 160, 400])
def test_a_traced_cell_becomes_20_to_40_vertices_at_iou_above_0_99_at_any_size(diameter):
    r = diameter / 2
    size = int(diameter * 1.3)
    traced, simple, iou = _traced_and_simplified(_kidney(size, size, size / 2, size / 2, r))
    assert len(traced) >= 80  # the staircase a technician had to drag
    assert 20 <= len(simple) <= 40 and iou > 0.99
    assert g.polygon_area(simple) == pytest.approx(g.polygon_area(traced), rel=0.005)
    assert g.is_valid_polygon(simple)


def test_real_white_cell_outlines_from_zheng_masks(zheng_dir):
    from PIL import Image

    counts, ious = [], []
    for k in range(1, 301, 15):  # 20 real WBC masks: whole cell = mask > 0
        mask = np.array(Image.open(zheng_dir / f"{k:03d}.png")) > 0
        traced, simple, iou = _traced_and_simplified(mask)
        counts.append((len(traced), len(simple)))
        ious.append(iou)
    assert min(t for t, _ in counts) > 100 and all(15 <= s <= 40 for _, s in counts), counts
    assert min(ious) > 0.99, ious


def test_a_small_platelet_stays_round_and_tiny_outlines_are_left_alone():
    platelet = _ellipse(20, 20, 10, 10, 4, 4)
    traced, simple, iou = _traced_and_simplified(platelet)
    assert len(simple) >= 8 and iou > 0.9
    square = g.rectangle(1, 1, 5, 5)
    assert np.array_equal(g.simplify_outline(square), square)


def test_simplify_keeps_every_part_and_an_explicit_tolerance():
    two = _ellipse(80, 160, 40, 40, 30, 25) | _ellipse(80, 160, 120, 40, 20, 20)
    traced = g.mask_to_polygons(two)
    simple = g.simplify_outlines(traced)
    assert len(simple) == 2 and all(len(s) < len(t) for s, t in zip(simple, traced))
    coarse = g.simplify_outline(traced[0], tolerance=3.0, min_vertices=3)
    assert 3 <= len(coarse) < len(simple[0])
