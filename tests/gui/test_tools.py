"""Editing with simulated mouse and keys on a real BCCD field; every edit goes through undo."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QUndoStack
from PyQt6.QtTest import QTest

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.geometry import is_valid_polygon
from bloodview.core.instance import Source
from bloodview.gui.canvas import CanvasView
from bloodview.gui.canvas.sample import bccd_field, demo_catalogue

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton
NO_MOD = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def field(bccd_dir):
    return bccd_field(bccd_dir)


@pytest.fixture
def canvas(qtbot, field):
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.show()
    view.set_image(field, None, demo_catalogue(), QUndoStack(view))
    return view


def at(view: CanvasView, x: float, y: float) -> QPoint:
    return view.mapFromScene(QPointF(x, y))


def polygons_of(field: ImageAnnotation, instance_id: str) -> list[np.ndarray]:
    return [p.copy() for p in field.find(instance_id).polygons]


def drag(view: CanvasView, start: QPoint, end: QPoint, steps: int = 6, modifiers=NO_MOD) -> None:
    port = view.viewport()
    QTest.mousePress(port, LEFT, modifiers, start)
    for k in range(1, steps + 1):
        QTest.mouseMove(port, start + (end - start) * (k / steps))
    QTest.mouseRelease(port, LEFT, modifiers, end)


def assert_same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pa, pb)


def test_dragging_a_vertex_changes_the_core_and_undo_redo_restore_exactly(canvas, field):
    cell = field.instances[0]
    canvas.select([cell.id])
    before = polygons_of(field, cell.id)
    vertex = before[0][0]
    start = at(canvas, *vertex)
    end = start + QPoint(25, 15)
    drag(canvas, start, end)
    after = polygons_of(field, cell.id)
    target = canvas.mapToScene(end)
    np.testing.assert_allclose(after[0][0], [target.x(), target.y()], atol=1e-9)
    np.testing.assert_array_equal(after[0][1:], before[0][1:])
    assert field.find(cell.id).corrected and field.find(cell.id).source == Source.BOOTSTRAP
    assert canvas.undo_stack.count() == 1  # the whole drag is one step
    canvas.undo_stack.undo()
    assert_same(polygons_of(field, cell.id), before)
    assert not field.find(cell.id).corrected
    canvas.undo_stack.redo()
    assert_same(polygons_of(field, cell.id), after)


def test_dragging_inside_a_cell_moves_it(canvas, field):
    cell = field.instances[2]
    start = at(canvas, *cell.centroid)
    drag(canvas, start, start + QPoint(30, 0))
    shift = polygons_of(field, cell.id)[0] - cell.polygons[0]
    assert np.allclose(shift[:, 1], 0) and np.allclose(shift[:, 0], shift[0, 0]) and shift[0, 0] > 10
    assert canvas.undo_stack.count() == 1


def test_double_click_on_an_edge_inserts_and_alt_click_removes_a_point(canvas, field):
    cell = field.instances[0]
    canvas.select([cell.id])
    polygon = cell.polygons[0]
    middle = (polygon[0] + polygon[1]) / 2
    QTest.mouseDClick(canvas.viewport(), LEFT, NO_MOD, at(canvas, *middle))
    grown = polygons_of(field, cell.id)[0]
    assert len(grown) == len(polygon) + 1
    np.testing.assert_allclose(grown[1], middle, atol=1.0)
    QTest.mouseClick(canvas.viewport(), LEFT, Qt.KeyboardModifier.AltModifier, at(canvas, *grown[1]))
    assert len(polygons_of(field, cell.id)[0]) == len(polygon)


def test_delete_key_removes_selected_cells_and_undo_brings_them_back(canvas, field):
    ids = [field.instances[0].id, field.instances[1].id]
    canvas.select(ids)
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_Delete)
    assert all(field.find(i) is None for i in ids) and canvas.selected_ids() == []
    canvas.undo_stack.undo()
    assert all(field.find(i) is not None and canvas.instance_item(i) is not None for i in ids)


def click_points(view: CanvasView, points) -> None:
    for x, y in points:
        QTest.mouseClick(view.viewport(), LEFT, NO_MOD, at(view, x, y))


def test_draw_by_clicks_and_enter_adds_a_cell_of_the_active_class(canvas, field):
    canvas.set_tool("draw")
    canvas.set_active_class("platelet")
    count = len(field)
    click_points(canvas, [(600, 20), (630, 20), (630, 45), (600, 45)])
    QTest.keyClick(canvas, Qt.Key.Key_Return)
    assert len(field) == count + 1
    new = field.instances[-1]
    assert new.class_name == "platelet" and new.source == Source.HUMAN and new.reviewed
    assert 600 < new.area < 900 and canvas.selected_ids() == [new.id]
    canvas.undo_stack.undo()
    assert len(field) == count


def test_esc_cancels_and_backspace_removes_the_last_point(canvas, field):
    canvas.set_tool("draw")
    count = len(field)
    click_points(canvas, [(600, 20), (630, 20), (630, 45)])
    QTest.keyClick(canvas, Qt.Key.Key_Backspace)
    assert len(canvas.tool().points) == 2
    QTest.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.tool().points == []
    QTest.keyClick(canvas, Qt.Key.Key_Return)
    assert len(field) == count and canvas.undo_stack.count() == 0


def test_self_intersecting_drawing_is_repaired_into_valid_parts(canvas, field):
    canvas.set_tool("draw")
    messages = []
    canvas.statusMessage.connect(messages.append)
    click_points(canvas, [(560, 20), (620, 80), (620, 20), (560, 80)])  # a bow-tie
    QTest.keyClick(canvas, Qt.Key.Key_Return)
    new = field.instances[-1]
    assert len(new.polygons) == 2 and all(is_valid_polygon(p) for p in new.polygons)
    assert any("crossed itself" in m for m in messages)


def test_drawing_with_no_area_is_refused(canvas, field):
    canvas.set_tool("draw")
    messages = []
    canvas.statusMessage.connect(messages.append)
    count = len(field)
    click_points(canvas, [(560, 20), (580, 20), (600, 20)])  # a straight line
    QTest.keyClick(canvas, Qt.Key.Key_Return)
    assert len(field) == count and "no area" in messages[-1]
    assert canvas.toast.isVisible() and canvas.toast.text() == messages[-1]  # told over the image too


def test_vertex_drag_that_crosses_the_outline_is_repaired_in_the_same_step(canvas, field):
    cell = field.instances[0]
    canvas.select([cell.id])
    polygon = cell.polygons[0]
    opposite = polygon[len(polygon) // 2]
    beyond = opposite + (opposite - polygon[0]) * 0.3
    canvas.zoom_by(1.0)
    drag(canvas, at(canvas, *polygon[0]), at(canvas, *beyond), steps=8)
    assert all(is_valid_polygon(p) for p in field.find(cell.id).polygons)
    assert canvas.undo_stack.count() == 1
    canvas.undo_stack.undo()
    assert_same(polygons_of(field, cell.id), cell.polygons)


def stroke_through(canvas: CanvasView, field: ImageAnnotation, tool: str, x_from: float, x_to: float):
    """Select the first cell and drag ``tool`` horizontally through its middle."""
    cell = field.instances[0]
    canvas.select([cell.id])
    canvas.set_tool(tool)
    y = (cell.bbox[1] + cell.bbox[3]) / 2
    drag(canvas, at(canvas, x_from, y), at(canvas, x_to, y), steps=10)
    return cell, field.find(cell.id)


def test_brush_stroke_grows_the_mask_in_one_undo_step(canvas, field):
    canvas.tool("brush").set_radius(10)
    right = field.instances[0].bbox[2]
    cell, grown = stroke_through(canvas, field, "brush", right - 5, right + 25)
    assert grown.area > cell.area + 400 and grown.bbox[2] > right + 25
    assert canvas.undo_stack.count() == 1
    canvas.undo_stack.undo()
    assert_same(polygons_of(field, cell.id), cell.polygons)


def test_eraser_shrinks_the_selected_cell_and_brackets_change_the_size(canvas, field):
    canvas.set_tool("eraser")
    radius = canvas.tool().radius
    QTest.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert canvas.tool().radius > radius
    x1, _, x2, _ = field.instances[0].bbox
    cell, cut = stroke_through(canvas, field, "eraser", x1 - 5, x2 + 5)
    assert cut.area < cell.area - 200 and len(cut.polygons) == 2  # cut in two halves
    assert canvas.undo_stack.count() == 1


def test_brush_on_empty_image_paints_a_new_cell(canvas, field):
    canvas.set_tool("brush")
    canvas.set_active_class("platelet")
    count = len(field)
    drag(canvas, at(canvas, 600, 440), at(canvas, 620, 440))
    assert len(field) == count + 1 and field.instances[-1].class_name == "platelet"


def test_tool_keys_win_over_window_shortcuts_only_while_they_matter(qtbot, field):
    from PyQt6.QtGui import QAction, QKeySequence
    from PyQt6.QtWidgets import QApplication, QMainWindow

    window = QMainWindow()
    qtbot.addWidget(window)
    view = CanvasView()
    window.setCentralWidget(view)
    fired = []
    for key in ("Esc", "Del"):
        action = QAction(key, window)
        action.setShortcut(QKeySequence(key))
        action.triggered.connect(lambda _c=False, k=key: fired.append(k))
        window.addAction(action)
    window.resize(900, 640)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)  # shortcuts need an active window
    view.set_image(field, None, demo_catalogue(), QUndoStack(view))
    view.setFocus()
    view.set_tool("draw")
    click_points(view, [(600, 20), (630, 20)])
    QTest.keyClick(view, Qt.Key.Key_Escape)
    assert view.tool().points == [] and fired == []  # Esc cancelled the drawing
    QTest.keyClick(view, Qt.Key.Key_Escape)
    assert fired == ["Esc"]  # nothing to cancel: the window's action runs
    view.set_tool("select")
    cell = field.instances[0]
    view.select([cell.id])
    vertex = at(view, *cell.polygons[0][0])
    QTest.mouseMove(view.viewport(), vertex)
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert len(field.find(cell.id).polygons[0]) == len(cell.polygons[0]) - 1 and fired == ["Esc"]


def test_double_click_just_outside_an_edge_inserts_and_an_edge_drag_pulls_a_new_point(canvas, field):
    cell = field.instances[0]
    canvas.select([cell.id])
    a, b = cell.polygons[0][0], cell.polygons[0][1]
    normal = np.array([b[1] - a[1], a[0] - b[0]]) / np.hypot(*(b - a))
    middle = (a + b) / 2
    outside = middle + normal * 2.0 * np.sign(np.dot(normal, middle - np.array(cell.centroid)))
    QTest.mouseDClick(canvas.viewport(), LEFT, NO_MOD, at(canvas, *outside))
    assert canvas.selected_ids() == [cell.id]
    assert len(field.find(cell.id).polygons[0]) == len(cell.polygons[0]) + 1
    canvas.undo_stack.undo()
    start = at(canvas, *middle)
    end = at(canvas, *(middle + (outside - middle) * 10))  # pull the edge 20 px outwards
    drag(canvas, start, end)
    pulled = field.find(cell.id).polygons[0]
    assert len(pulled) == len(cell.polygons[0]) + 1
    np.testing.assert_allclose(pulled[1], [canvas.mapToScene(end).x(), canvas.mapToScene(end).y()])
    assert canvas.undo_stack.count() == 1 and canvas.undo_stack.index() == 1


def test_exported_view_leaves_out_the_brush_circle(canvas, field):
    from bloodview.gui.qt_image import qimage_to_numpy

    plain = qimage_to_numpy(canvas.render_view())
    canvas.set_tool("brush")
    canvas.tool().set_radius(30)
    QTest.mouseMove(canvas.viewport(), QPoint(5, 5))  # the dark margin: no cell to highlight
    assert canvas.tool()._cursor_item.isVisible()
    np.testing.assert_array_equal(qimage_to_numpy(canvas.render_view()), plain)
    assert canvas.tool()._cursor_item.isVisible()


def test_a_shaky_click_on_a_cell_selects_it_without_moving_it(canvas, field):
    cell = field.instances[2]
    start = at(canvas, *cell.centroid)
    drag(canvas, start, start + QPoint(3, 2), steps=2)
    assert canvas.selected_ids() == [cell.id]
    assert field.find(cell.id) is cell and canvas.undo_stack.count() == 0
