"""Pure outline edits behind the tools: hit tests, vertex edits, repair, brush painting."""

from __future__ import annotations

import numpy as np
import pytest

from bloodview.core.geometry import polygons_to_mask, rectangle
from bloodview.errors import GeometryError
from bloodview.gui.canvas import editing
from bloodview.gui.canvas.tools.brush import apply_stroke, paint_stroke

SQUARE = rectangle(10, 10, 20, 20)


def test_nearest_vertex_and_edge_respect_the_tolerance():
    assert editing.nearest_vertex([SQUARE], (20.5, 10.4), 1.0) == (0, 1)
    assert editing.nearest_vertex([SQUARE], (15, 15), 1.0) is None
    part, index, foot = editing.nearest_edge([SQUARE], (15, 9.5), 1.0)
    assert (part, index) == (0, 1) and foot == (15.0, 10.0)
    assert editing.nearest_edge([SQUARE], (15, 15), 1.0) is None


def test_insert_and_delete_keep_at_least_three_points():
    grown = editing.insert_vertex([SQUARE], 0, 1, (15, 10))
    assert grown[0].tolist()[:3] == [[10, 10], [15, 10], [20, 10]]
    assert SQUARE.shape == (4, 2)  # the input is not changed
    triangle = editing.delete_vertex([SQUARE], 0, 3)
    assert len(triangle[0]) == 3
    with pytest.raises(GeometryError, match="at least 3"):
        editing.delete_vertex(triangle, 0, 0)


def test_repaired_splits_a_bow_tie_and_refuses_a_line():
    bow_tie = np.array([[0, 0], [10, 10], [10, 0], [0, 10]], dtype=float)
    parts, changed = editing.repaired([bow_tie])
    assert changed and len(parts) == 2
    parts, changed = editing.repaired([SQUARE])
    assert not changed and np.array_equal(parts[0], SQUARE)
    with pytest.raises(GeometryError):
        editing.repaired([np.array([[0, 0], [5, 0], [10, 0]], dtype=float)])


def test_clamps_keep_points_and_moves_inside_the_image():
    assert editing.clamp_point((-3, 50), 40, 30) == (0.0, 30.0)
    assert editing.clamp_shift((10, 10, 20, 20), 100, -100, 40, 30) == (20, -10)


def test_paint_stroke_sets_pixels_whose_centre_is_within_the_radius():
    mask = np.zeros((20, 20), dtype=bool)
    paint_stroke(mask, np.array([[10.0, 10.0]]), 3.0, True)
    expected = {(r, c) for r in range(20) for c in range(20) if (c + 0.5 - 10) ** 2 + (r + 0.5 - 10) ** 2 <= 9}
    assert set(zip(*np.nonzero(mask))) == expected
    paint_stroke(mask, np.array([[0.0, 10.0], [20.0, 10.0]]), 1.0, False)
    assert not mask[9:11, :].any()


def test_brush_adds_and_eraser_removes_exactly_the_swept_pixels():
    before = polygons_to_mask([SQUARE], 40, 40)
    grown = apply_stroke([SQUARE], np.array([[20.0, 15.0], [30.0, 15.0]]), 2.0, False, 40, 40)
    after = polygons_to_mask(grown, 40, 40)
    assert (after & before).sum() == before.sum() and after.sum() > before.sum() + 30
    assert after[15, 29] and not after[15, 33]
    gone = apply_stroke([SQUARE], np.array([[15.0, 15.0]]), 20.0, True, 40, 40)
    assert gone == []
