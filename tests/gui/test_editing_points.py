"""Point edits with the select tool on real red-cell outlines, after undo and redo.

Regression: the tool remembered the handle under the mouse as ``(cell, part, index)``. After an
undo (Ctrl+Z) that took a point away, Delete removed whichever point now had that index - one
the mouse was not on - or, when the point had been the last one, raised ``IndexError`` inside
the key handler (PyQt6 aborts the program on that: the unsaved hour is gone).
"""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtTest import QTest
from shapely.geometry import Polygon

from bloodview.core.instance import Source

from tests.gui.test_editing_strokes import LEFT, NO_MOD, at, canvas, red_cells, smear  # noqa: F401

pytestmark = pytest.mark.gui


def closing_edge_middle(cell) -> np.ndarray:
    poly = cell.polygons[0]
    return (poly[-1] + poly[0]) / 2


def test_delete_after_undoing_an_inserted_point_removes_the_point_under_the_mouse_or_none(canvas, smear):
    annotation, _ = smear
    cell = max(red_cells(annotation), key=lambda c: np.hypot(*(c.polygons[0][-1] - c.polygons[0][0])))
    canvas.select([cell.id])
    where = at(canvas, *closing_edge_middle(cell))
    QTest.mouseMove(canvas.viewport(), where)
    QTest.mouseDClick(canvas.viewport(), LEFT, NO_MOD, where)  # a point on the closing edge: the last index
    grown = annotation.find(cell.id)
    assert len(grown.polygons[0]) == len(cell.polygons[0]) + 1
    canvas.undo_stack.undo()  # Ctrl+Z with the mouse still there
    assert annotation.find(cell.id) is cell
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_Delete)  # no handle under the mouse any more
    now = annotation.find(cell.id)
    # nothing under the mouse was a point: the selected cell is deleted as Delete says, or kept;
    # never a point elsewhere on it removed, never an exception
    assert now is None or now is cell
    if now is None:
        canvas.undo_stack.undo()
        assert annotation.find(cell.id) is cell


def test_delete_after_undo_removes_the_point_now_under_the_mouse(canvas, smear):
    annotation, _ = smear
    cell = max(red_cells(annotation), key=lambda c: c.area)
    canvas.select([cell.id])
    poly = cell.polygons[0]
    target = poly[5]
    # move point 5 away, hover where it went, undo: point 5 is back under... not the mouse
    start, end = at(canvas, *target), at(canvas, *target) + (at(canvas, 30, 0) - at(canvas, 0, 0))
    port = canvas.viewport()
    QTest.mousePress(port, LEFT, NO_MOD, start)
    for k in range(1, 7):
        QTest.mouseMove(port, start + (end - start) * (k / 6))
    QTest.mouseRelease(port, LEFT, NO_MOD, end)
    moved = annotation.find(cell.id)
    assert not np.array_equal(moved.polygons[0], poly)
    canvas.undo_stack.undo()
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_Delete)
    now = annotation.find(cell.id)
    # the mouse is over empty outline-free space now: point 5 must not be removed from afar
    assert now is None or (now is cell)


def test_dragging_a_point_on_the_image_edge_further_out_changes_nothing_and_marks_nothing(canvas, smear):
    """A point on the bottom edge (a cell the model cut at the border, or a point dragged out
    before) pulled further out stays on the edge: no change, so no undo step, and a model cell
    is not marked "corrected by a person" (which would count it as checked)."""
    annotation, _ = smear
    height = annotation.height
    cell = max(red_cells(annotation), key=lambda c: c.bbox[3])
    poly = cell.polygons[0].copy()
    k = int(np.argmax(poly[:, 1]))
    poly[k, 1] = height
    poly[k, 0] = canvas.mapToScene(at(canvas, *poly[k])).x()  # where a mouse can be: straight down keeps x
    on_edge = cell.copy(polygons=[poly], source=Source.MODEL, corrected=False)
    annotation.replace(on_edge)
    canvas.select([cell.id])
    for moves in (1, 4, 5):
        start = at(canvas, *poly[k])
        end = start + QPoint(0, 40)
        port = canvas.viewport()
        QTest.mousePress(port, LEFT, NO_MOD, start)
        for i in range(1, moves + 1):
            QTest.mouseMove(port, start + (end - start) * (i / moves))
        QTest.mouseRelease(port, LEFT, NO_MOD, end)
        assert annotation.find(cell.id) is on_edge, moves
        assert canvas.undo_stack.count() == 0, moves


def test_a_point_dragged_past_its_neighbour_leaves_a_triangle_that_alt_click_removes(canvas, smear):
    """What is stored for a self-crossing drag: the cell and a small triangle, two parts. The
    triangle can then be removed point-wise (it used to answer "delete the cell instead")."""
    annotation, _ = smear
    cell = max(red_cells(annotation), key=lambda c: c.area)
    canvas.select([cell.id])
    poly = cell.polygons[0]
    nxt = np.roll(poly, -1, axis=0)
    k = int(np.argmax(np.hypot(*(nxt - poly).T)))  # the longest edge k -> k+1
    start, beyond = poly[k], nxt[k] + (nxt[k] - poly[k]) * 0.6
    port = canvas.viewport()
    QTest.mousePress(port, LEFT, NO_MOD, at(canvas, *start))
    for i in range(1, 9):
        QTest.mouseMove(port, at(canvas, *(start + (beyond - start) * i / 8)))
    QTest.mouseRelease(port, LEFT, NO_MOD, at(canvas, *beyond))
    crossed = annotation.find(cell.id)
    assert len(crossed.polygons) == 2 and len(crossed.polygons[1]) == 3
    assert all(Polygon(p).is_valid for p in crossed.polygons)
    assert canvas.undo_stack.count() == 1
    triangle = crossed.polygons[1]
    corner = triangle[int(np.argmax(np.hypot(*(triangle - crossed.polygons[0][:, None]).transpose(2, 0, 1)).min(axis=0)))]
    QTest.mouseClick(port, LEFT, Qt.KeyboardModifier.AltModifier, at(canvas, *corner))
    cleaned = annotation.find(cell.id)
    assert len(cleaned.polygons) == 1
    np.testing.assert_array_equal(cleaned.polygons[0], crossed.polygons[0])
    assert canvas.undo_stack.count() == 2
    canvas.undo_stack.undo()
    assert annotation.find(cell.id) is crossed


def test_hovering_a_whole_selected_field_looks_only_at_outlines_near_the_mouse(qtbot, monkeypatch):
    """Ctrl+A on a 4000 x 3000 camera field selects ~2,000 cells; every mouse move then searched
    every outline for a handle and an edge (~20 ms of CPU per move on 2 cores): now only the
    cells whose box is near the mouse are searched."""
    from bloodview.core.annotation import ImageAnnotation
    from bloodview.core.instance import Instance
    from bloodview.gui.canvas import CanvasView, editing
    from bloodview.gui.canvas.sample import demo_catalogue, ellipse
    from PyQt6.QtGui import QUndoStack

    cells = [Instance([ellipse(x, y, x + 60, y + 60, 30)], "rbc", source=Source.MODEL)
             for y in range(20, 2920, 75) for x in range(20, 3920, 75)]
    field = ImageAnnotation("camera.png", 4000, 3000, cells)
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(1000, 750)
    view.show()
    view.set_image(field, np.full((3000, 4000, 3), 200, np.uint8), demo_catalogue(), QUndoStack(view))
    view.select([c.id for c in cells])
    searched = []
    for name in ("nearest_vertex", "nearest_edge"):
        real = getattr(editing, name)
        monkeypatch.setattr(editing, name, lambda polygons, *a, _real=real: searched.append(1) or _real(polygons, *a))
    target = cells[len(cells) // 2]
    QTest.mouseMove(view.viewport(), at(view, *target.polygons[0][0]))
    assert 0 < len(searched) <= 2 * 12  # the cell under the mouse and a few neighbours, not 2 x 2,028
    assert view.tool("select")._hot is not None and view.tool("select")._hot[0] in {c.id for c in cells}
