"""Tile planning and ownership: every pixel covered, cores disjoint, each cell owned by one tile."""

from __future__ import annotations

import numpy as np
import pytest

from bloodview.model.dedupe import suppress_duplicates
from bloodview.model.tiling import cut_rows, owned_rows, plan_tiles, tile_shape, tile_starts


@pytest.mark.parametrize("length,tile,overlap", [(100, 384, 100), (384, 384, 100), (385, 384, 100), (1000, 384, 150), (4000, 1024, 200)])
def test_tiles_cover_the_length_with_at_least_the_overlap(length, tile, overlap):
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0 and starts[-1] + min(tile, length) == length
    for earlier, later in zip(starts, starts[1:]):
        assert later - earlier <= tile - overlap, "neighbours overlap by at least the asked overlap"


def test_tile_starts_refuse_an_overlap_as_large_as_the_tile():
    with pytest.raises(ValueError, match="overlap"):
        tile_starts(1000, 256, 256)


def test_cores_partition_the_image():
    tiles = plan_tiles(900, 1300, 384, 120)
    owner = np.zeros((900, 1300), dtype=int)
    for tile in tiles:
        y1, x1, y2, x2 = tile.core
        owner[int(y1):int(y2), int(x1):int(x2)] += 1
        assert tile.y0 <= y1 and y2 <= tile.y0 + tile.height and tile.x0 <= x1 and x2 <= tile.x0 + tile.width
    # cuts fall on half pixels at most; every whole pixel but those rows/columns is owned once
    assert (owner >= 1).mean() > 0.99 and owner.max() == 1


def test_a_cell_centred_in_a_core_is_whole_in_that_tile():
    overlap = 120
    tiles = plan_tiles(900, 1300, 384, overlap)
    rng = np.random.default_rng(0)
    for _ in range(200):
        cy, cx, r = rng.uniform(0, 900), rng.uniform(0, 1300), overlap / 2 - 1
        box = np.array([[cy - r, cx - r, cy + r, cx + r]])
        owners = [t for t in tiles if owned_rows(box - [t.y0, t.x0, t.y0, t.x0], t)[0]]
        assert len(owners) == 1
        t = owners[0]
        local = box[0] - [t.y0, t.x0, t.y0, t.x0]
        top, left, bottom, right = t.inner_edges(900, 1300)
        assert (not top or local[0] >= 0) and (not left or local[1] >= 0)
        assert (not bottom or local[2] <= t.height) and (not right or local[3] <= t.width)


def test_cut_rows_only_flag_edges_inside_the_image():
    (first, second) = plan_tiles(300, 600, 384, 100)
    boxes = np.array([[0, 0, 50, 50], [10, 330, 60, 384]], dtype=float)
    assert cut_rows(boxes, first, 300, 600).tolist() == [False, True]  # left/top are the image's border
    assert cut_rows(np.array([[10, 0, 60, 40]], float), second, 300, 600).tolist() == [True]


def test_duplicates_of_one_cell_keep_the_best_and_neighbours_stay():
    boxes = np.array([[0, 0, 100, 100], [2, 3, 101, 99], [0, 98, 100, 198], [5, 5, 60, 60]], dtype=float)
    scores = np.array([0.66, 1.0, 0.9, 0.95])
    cut = np.array([False, False, False, True])
    kept = suppress_duplicates(boxes, scores, cut)
    assert kept.tolist() == [1, 2], "the 0.66 duplicate and the cut part inside cell 1 go; the touching neighbour stays"


def test_a_cut_detection_with_no_whole_twin_is_kept():
    kept = suppress_duplicates(np.array([[0, 0, 40, 80.0]]), np.array([0.5]), np.array([True]))
    assert kept.tolist() == [0]


@pytest.mark.parametrize("height,width", [(595, 793), (2480, 3306), (1536, 1536), (300, 5000), (9000, 12000), (450, 400)])
def test_tiles_shaped_for_the_image_cover_it_within_the_area_bound(height, width):
    overlap, bound = 206, 2 * 1024 * 1024
    tile_h, tile_w = tile_shape(height, width, overlap, bound)
    assert tile_h % 64 == 0 and tile_w % 64 == 0 and tile_h * tile_w <= bound
    tiles = plan_tiles(height, width, (tile_h, tile_w), overlap)
    covered = np.zeros((height, width), bool)
    for tile in tiles:
        covered[tile.y0 : tile.y0 + tile.height, tile.x0 : tile.x0 + tile.width] = True
        assert tile.height <= tile_h and tile.width <= tile_w
    assert covered.all()
    rows = sorted({t.y0 for t in tiles})
    cols = sorted({t.x0 for t in tiles})
    assert all(b - a <= tile_h - overlap for a, b in zip(rows, rows[1:]))
    assert all(b - a <= tile_w - overlap for a, b in zip(cols, cols[1:]))


def test_a_camera_field_takes_fewer_pixels_than_square_tiles():
    """A BCCD field at the default model's scale (793 x 595) is one 832 x 640 tile, not a 1024 square;
    a 4000 x 3000 field at that scale (3306 x 2480) needs 10.3 million tile pixels, not 12.6."""
    assert tile_shape(595, 793, 206, 2 * 1024 * 1024) == (640, 832)
    tile_h, tile_w = tile_shape(2480, 3306, 206, 2 * 1024 * 1024)
    shaped = len(plan_tiles(2480, 3306, (tile_h, tile_w), 206)) * tile_h * tile_w
    square = len(plan_tiles(2480, 3306, 1024, 206)) * 1024 * 1024
    assert shaped < 0.85 * square


def test_a_tile_bound_too_small_for_the_overlap_is_refused():
    with pytest.raises(ValueError, match="overlap"):
        tile_shape(1000, 1000, 300, 256 * 256)
