"""CanvasView on a real BCCD field: drawing from the core, selection, display settings."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, QRectF, Qt
from PyQt6.QtGui import QUndoStack
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.instance import Instance
from bloodview.gui.canvas import CanvasView
from bloodview.gui.canvas.items import InstanceItem
from bloodview.gui.canvas.sample import bccd_field, demo_catalogue, ellipse
from bloodview.gui.commands import AddInstanceCommand, ChangeClassCommand
from bloodview.gui.qt_image import qimage_to_numpy

pytestmark = pytest.mark.gui

@pytest.fixture
def canvas(qtbot, bccd_dir):
    """An 800 x 600 canvas showing a real BCCD field with box-shaped cells."""
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.set_image(bccd_field(bccd_dir), None, demo_catalogue(), QUndoStack(view))
    return view


@pytest.fixture
def field(canvas):
    return canvas.annotation


def screen_point(view: CanvasView, x: float, y: float) -> QPoint:
    return view.mapFromScene(QPointF(x, y))


def test_every_cell_has_an_item_and_the_real_image_is_shown(canvas, field):
    items = [i for i in canvas.scene().items() if isinstance(i, InstanceItem)]
    assert sorted(i.instance_id for i in items) == sorted(c.id for c in field.instances)
    shot = qimage_to_numpy(canvas.render_view())
    assert shot.shape[:2] == (canvas.viewport().height(), canvas.viewport().width())
    assert shot.std() > 10  # a smear, not a blank background


def test_click_selects_the_cell_under_the_mouse_and_ctrl_click_adds(canvas, field, qtbot):
    first, second = field.instances[0], field.instances[1]
    with qtbot.waitSignal(canvas.selectionChanged) as signal:
        QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=screen_point(canvas, *first.centroid))
    assert signal.args == [[canvas.instance_at(QPointF(*first.centroid))]]
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     screen_point(canvas, *second.centroid))
    assert len(canvas.selected_ids()) == 2
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(2, 2))  # empty margin
    assert canvas.selected_ids() == []


def test_rubber_band_selects_cells_inside(canvas, field):
    QTest.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                     screen_point(canvas, 0, 0))
    QTest.mouseMove(canvas.viewport(), screen_point(canvas, 320, 480))
    QTest.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                       screen_point(canvas, 320, 480))
    expected = {c.id for c in field.instances if c.bbox[2] <= 320}
    assert expected and set(canvas.selected_ids()) == expected


def test_canvas_follows_commands_pushed_by_someone_else(canvas, field):
    stack = canvas.undo_stack
    new = Instance([ellipse(10, 10, 30, 30)], "platelet")
    stack.push(AddInstanceCommand(field, new))
    assert canvas.instance_item(new.id) is not None
    target = field.instances[0].id
    stack.push(ChangeClassCommand(field, [target], "lymphocyte"))
    assert canvas.instance_item(target).instance.class_name == "lymphocyte"
    stack.undo()
    stack.undo()
    assert canvas.instance_item(new.id) is None
    assert canvas.instance_item(target).instance.class_name == field.find(target).class_name


def test_class_visibility_hides_items_and_drops_them_from_the_selection(canvas, field):
    rbc = [c.id for c in field.instances if c.class_name == "rbc"]
    canvas.select(rbc[:2])
    canvas.set_class_visible("rbc", False)
    assert all(not canvas.instance_item(i).isVisible() for i in rbc)
    assert canvas.selected_ids() == []
    assert canvas.instance_at(QPointF(*field.find(rbc[0]).centroid)) in (None, *[c.id for c in field.instances if c.class_name != "rbc"])
    canvas.set_class_visible("rbc", True)
    assert all(canvas.instance_item(i).isVisible() for i in rbc)


def test_opacity_changes_what_is_drawn(canvas, field):
    canvas.set_opacity(0.0)
    plain = qimage_to_numpy(canvas.render_view()).astype(int)
    canvas.set_opacity(0.9)
    filled = qimage_to_numpy(canvas.render_view()).astype(int)
    centre = screen_point(canvas, *field.instances[0].centroid)
    assert np.abs(plain[centre.y(), centre.x()] - filled[centre.y(), centre.x()]).sum() > 30


def screen_rect(view: CanvasView, label) -> QRectF:
    return label.deviceTransform(view.viewportTransform()).mapRect(label.boundingRect())


def test_labels_toggle_without_overlapping_and_low_scores_are_unidentified(canvas, field):
    canvas.set_min_score(0.99)
    canvas.set_labels_visible(True)
    labels = [canvas.instance_item(c.id).label_item() for c in field.instances]
    shown = [label for label in labels if label is not None and label.isVisible()]
    assert len(shown) >= len(labels) // 2
    assert all(label.text.startswith("Unidentified") for label in shown)
    rects = [screen_rect(canvas, label) for label in shown]
    assert not any(a.intersects(b) for k, a in enumerate(rects) for b in rects[k + 1:])
    canvas.set_labels_visible(False)
    assert not any(label.isVisible() for label in labels if label is not None)


def test_checked_cells_below_the_threshold_are_not_drawn_as_unidentified(canvas, field):
    """Bug: a confirmed, corrected or hand-drawn cell scored 0.56 was labelled "Unidentified 0.56 ✓"
    and dashed grey, although the review rule (review.is_unidentified) says it is identified."""
    from bloodview.core.instance import Source
    from bloodview.gui.commands import SetReviewedCommand
    from bloodview.gui.review import is_unidentified

    machine = [c for c in field.instances if c.score is not None]
    confirmed, corrected, untouched = machine[0], machine[1], machine[2]
    drawn = Instance([ellipse(500, 20, 540, 60)], "lymphocyte", score=0.3, source=Source.HUMAN)
    canvas.undo_stack.push(AddInstanceCommand(field, drawn))
    canvas.undo_stack.push(SetReviewedCommand(field, [confirmed.id], True))
    canvas.undo_stack.push(ChangeClassCommand(field, [corrected.id], "monocyte"))
    canvas.set_min_score(1.0)  # every score is below it
    for cell_id in (confirmed.id, corrected.id, drawn.id):
        item = canvas.instance_item(cell_id)
        assert not is_unidentified(item.instance, 1.0)
        assert not item.label_text().startswith("Unidentified") and "\u2713" in item.label_text()
        assert item.outline_style() == Qt.PenStyle.SolidLine
    assert canvas.instance_item(corrected.id).label_text().startswith("Monocyte")
    item = canvas.instance_item(untouched.id)
    assert item.label_text() == f"Unidentified {untouched.score:.2f}"
    assert item.outline_style() == Qt.PenStyle.DashLine


def test_a_platelet_label_never_covers_the_platelet(canvas, field, qtbot):
    platelet = Instance([ellipse(300, 300, 306, 305)], "platelet", score=0.9)
    canvas.undo_stack.push(AddInstanceCommand(field, platelet))
    canvas.select([platelet.id])  # selected: its label is shown
    label = canvas.instance_item(platelet.id).label_item()
    assert label is not None and label.isVisible()
    x1, y1, x2, y2 = platelet.bbox
    cell_on_screen = canvas.mapFromScene(QRectF(x1, y1, x2 - x1, y2 - y1)).boundingRect()
    assert not screen_rect(canvas, label).intersects(QRectF(cell_on_screen))


def test_zoom_keeps_the_point_under_the_mouse(canvas, qtbot):
    anchor = QPointF(200, 150)
    before = canvas.mapToScene(anchor.toPoint())
    with qtbot.waitSignal(canvas.zoomChanged):
        canvas.zoom_by(3.0, anchor)
    after = canvas.mapToScene(anchor.toPoint())
    assert abs(before.x() - after.x()) < 1.0 and abs(before.y() - after.y()) < 1.0
    canvas.fit()
    assert canvas.mapToScene(canvas.viewport().rect()).boundingRect().contains(QRectF(0, 0, 640, 480))


def test_center_on_brings_any_cell_to_the_middle_even_at_the_image_edge(canvas, field):
    canvas.zoom_by(4.0)
    for cell in (field.instances[-1], min(field.instances, key=lambda c: c.bbox[0])):
        canvas.center_on(cell.id)
        centre = canvas.mapToScene(canvas.viewport().rect().center())
        x1, y1, x2, y2 = cell.bbox
        assert abs(centre.x() - (x1 + x2) / 2) < 2 and abs(centre.y() - (y1 + y2) / 2) < 2


def test_array_image_is_shown_at_every_zoom_and_clear_forgets_it(qtbot, bccd_dir):
    field = bccd_field(bccd_dir)
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    big = ImageAnnotation(field.image_path, 3000, 2000, [])
    rgb = np.zeros((2000, 3000, 3), dtype=np.uint8)
    rgb[:, :1500] = (200, 30, 30)
    rgb[:, 1500:] = (30, 30, 200)
    view.set_image(big, rgb, demo_catalogue(), QUndoStack(view))
    for zoom in (0.05, 0.13, 0.5, 4.0):  # pyramid levels and sharp pixels
        view.set_zoom(zoom)
        view.centerOn(1500, 1000)
        shot = qimage_to_numpy(view.render_view()).astype(int)
        left = shot[150, view.mapFromScene(QPointF(1500 - 6 / zoom, 1000)).x()]
        right = shot[150, view.mapFromScene(QPointF(1500 + 6 / zoom, 1000)).x()]
        assert abs(left - (200, 30, 30)).max() < 12 and abs(right - (30, 30, 200)).max() < 12
    view.clear()
    assert view.annotation is None and view.scene().items() == []
    field.add(Instance([ellipse(1, 1, 9, 9)], "platelet"))  # no longer listened to: nothing breaks


def test_wheel_zooms_and_right_or_middle_drag_pans(canvas, qtbot):
    from PyQt6.QtCore import QPoint as P
    from PyQt6.QtGui import QWheelEvent

    port = canvas.viewport()
    zoom = canvas.zoom()
    pos = QPointF(300, 200)
    wheel = QWheelEvent(pos, QPointF(canvas.mapToGlobal(pos.toPoint())), P(0, 0), P(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(port, wheel)
    assert canvas.zoom() == pytest.approx(zoom * 1.25 ** 2)
    for button in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton):
        before = canvas.mapToScene(P(400, 300))
        QTest.mousePress(port, button, Qt.KeyboardModifier.NoModifier, P(400, 300))
        QTest.mouseMove(port, P(350, 280))
        QTest.mouseRelease(port, button, Qt.KeyboardModifier.NoModifier, P(350, 280))
        after = canvas.mapToScene(P(400, 300))
        assert after.x() - before.x() == pytest.approx(50 / canvas.zoom(), abs=1.0)
        assert canvas.undo_stack.count() == 0 and canvas.selected_ids() == []


def test_hovering_an_edge_of_the_selected_cell_hints_how_to_insert_a_point(canvas, field):
    cell = field.instances[0]
    canvas.select([cell.id])
    messages = []
    canvas.statusMessage.connect(messages.append)
    middle = (cell.polygons[0][0] + cell.polygons[0][1]) / 2
    QTest.mouseMove(canvas.viewport(), screen_point(canvas, *middle))
    assert messages[-1] == "Double-click edge: insert point · Alt-click/Delete: remove point"
    QTest.mouseMove(canvas.viewport(), screen_point(canvas, *cell.polygons[0][0]))
    assert "remove point" in messages[-1] and canvas.instance_item(cell.id)._hot_vertex == (0, 0)


def test_labels_switched_on_before_the_image_are_shown(qtbot, bccd_dir):
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.set_labels_visible(True)
    field = bccd_field(bccd_dir)
    view.set_image(field, None, demo_catalogue(), QUndoStack(view))
    shown = [view.instance_item(c.id).label_item() for c in field.instances]
    assert sum(1 for label in shown if label is not None and label.isVisible()) >= len(shown) // 2


def test_hovering_a_cell_shows_its_label_and_leaving_hides_it(canvas, field):
    cell = next(c for c in field.instances if c.class_name == "neutrophil")
    item = canvas.instance_item(cell.id)
    QTest.mouseMove(canvas.viewport(), screen_point(canvas, *cell.centroid))
    label = item.label_item()
    assert label is not None and label.isVisible() and label.text == f"Neutrophil {cell.score:.2f}"
    QTest.mouseMove(canvas.viewport(), QPoint(2, 2))
    assert not label.isVisible()


def test_double_click_inside_a_cell_activates_it(canvas, field, qtbot):
    cell = field.instances[0]
    with qtbot.waitSignal(canvas.instanceActivated) as signal:
        QTest.mouseDClick(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                          screen_point(canvas, *cell.centroid))
    assert signal.args == [canvas.instance_at(QPointF(*cell.centroid))]
    assert canvas.undo_stack.count() == 0  # a double-click changes nothing


def test_box_only_and_low_score_cells_look_different(canvas, field):
    from bloodview.core.geometry import rectangle

    box = Instance([rectangle(600, 400, 630, 430)], "platelet", box_only=True)
    canvas.undo_stack.push(AddInstanceCommand(field, box))
    canvas.set_min_score(0.7)
    styles = {c.id: canvas.instance_item(c.id).outline_style() for c in field.instances}
    assert styles[box.id] == Qt.PenStyle.DotLine
    low = [c.id for c in field.instances if c.score is not None and c.score < 0.7]
    high = [c.id for c in field.instances if c.score is not None and c.score >= 0.7]
    assert low and high
    assert {styles[i] for i in low} == {Qt.PenStyle.DashLine} and {styles[i] for i in high} == {Qt.PenStyle.SolidLine}


def test_a_cell_a_few_screen_pixels_wide_is_still_drawn(qtbot, bccd_dir):
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    tiny = Instance([ellipse(100, 100, 103, 103)], "platelet")
    grey = np.full((300, 400, 3), 230, dtype=np.uint8)
    view.set_image(ImageAnnotation(bccd_dir / "tiny.png", 400, 300, [tiny]), grey, demo_catalogue(), QUndoStack(view))
    view.set_zoom(1.0)
    view.centerOn(200, 150)
    shot = qimage_to_numpy(view.render_view()).astype(int)
    spot = view.mapFromScene(QPointF(101.5, 101.5))
    assert abs(shot[spot.y(), spot.x()] - 230).max() > 40  # the platelet's colour, not the background


def test_right_click_on_a_cell_selects_it_and_asks_for_a_menu(canvas, field, qtbot):
    cell = field.instances[1]
    with qtbot.waitSignal(canvas.contextMenuRequested) as signal:
        QTest.mouseClick(canvas.viewport(), Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier,
                         screen_point(canvas, *cell.centroid))
    ids, _where = signal.args
    assert ids == canvas.selected_ids() == [canvas.instance_at(QPointF(*cell.centroid))]


def test_a_deleted_canvas_stops_listening_to_the_annotation(qtbot, bccd_dir):
    from PyQt6 import sip

    field = bccd_field(bccd_dir)
    view = CanvasView()
    view.set_image(field, None, demo_catalogue(), QUndoStack())
    sip.delete(view)  # the window went away without clear()
    field.add(Instance([ellipse(1, 1, 9, 9)], "platelet"))  # must not touch the dead widget
    assert field.instances[-1].class_name == "platelet"


def test_center_on_a_platelet_keeps_its_neighbours_in_view(canvas, field):
    """Bug: centring on a 5-pixel platelet zoomed to 16x, filling the window with one blurred cell."""
    platelet = Instance([ellipse(300, 300, 305, 305)], "platelet", score=0.9)
    canvas.undo_stack.push(AddInstanceCommand(field, platelet))
    canvas.fit()
    canvas.center_on(platelet.id)
    shown = canvas.mapToScene(canvas.viewport().rect()).boundingRect()
    assert canvas.zoom() <= 4.0
    assert min(shown.width(), shown.height()) >= 150  # image pixels of context around the cell
    assert shown.contains(QRectF(300, 300, 5, 5))
    on_screen = max(platelet.bbox[2] - platelet.bbox[0], platelet.bbox[3] - platelet.bbox[1]) * canvas.zoom()
    assert on_screen >= 15  # still zoomed in enough to see it
    canvas.set_zoom(10.0)  # a person zoomed in further: centring keeps their zoom
    canvas.center_on(platelet.id)
    assert canvas.zoom() == pytest.approx(10.0)
