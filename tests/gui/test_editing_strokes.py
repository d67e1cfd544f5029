"""Brush and eraser on real cells: a stroke changes the cell where it passes and nowhere else.

Regression (found correcting BCCD fields): a stroke re-drew the whole cell through a pixel
mask, so an eraser stroke that missed the selected cell still moved all its points (30 -> 51
staircase points, ~100 px² different), left an undo step and marked the cell corrected;
eleven such strokes drifted the outline by ~240 px², and a brush touch on a platelet moved
every point of it. Also: a point of one part of a cell dragged into its other part left two
overlapping parts (COCO area 9606 px² for a cell covering 8850).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QUndoStack
from PyQt6.QtTest import QTest
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import unary_union

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.red_cells import red_cell_instances
from bloodview.gui.canvas import CanvasView
from bloodview.gui.canvas.sample import box_cells, demo_catalogue
from bloodview.gui.canvas.strokes import stroke_outline

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton
NO_MOD = Qt.KeyboardModifier.NoModifier
FIELD = "BloodImage_00003"  # red cells, a neutrophil and a platelet
BCCD_UM_PER_PIXEL = 0.08


def bccd_smear(bccd_dir: Path) -> tuple[ImageAnnotation, np.ndarray]:
    """A real BCCD field: its red cells outlined by the classical finder, the white cell and
    platelet as the ellipses of their VOC boxes."""
    path = bccd_dir / "JPEGImages" / f"{FIELD}.jpg"
    rgb = cv2.imread(str(path))[:, :, ::-1].copy()
    others = [c for c in box_cells(bccd_dir / "Annotations" / f"{FIELD}.xml") if c.class_name != "rbc"]
    cells = others + red_cell_instances(rgb, BCCD_UM_PER_PIXEL, others)
    return ImageAnnotation(path, rgb.shape[1], rgb.shape[0], cells), rgb


@pytest.fixture
def smear(bccd_dir):
    return bccd_smear(bccd_dir)


@pytest.fixture
def canvas(qtbot, smear):
    annotation, rgb = smear
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.show()
    view.set_image(annotation, rgb, demo_catalogue(), QUndoStack(view))
    return view


def at(view: CanvasView, x: float, y: float) -> QPoint:
    return view.mapFromScene(QPointF(x, y))


def on_screen(view: CanvasView, x: float, y: float) -> tuple[float, float]:
    """The image point a mouse event at ``(x, y)`` lands on (screen pixels are whole)."""
    point = view.mapToScene(at(view, x, y))
    return point.x(), point.y()


def zoom_on(view: CanvasView, xy: tuple[float, float], zoom: float) -> None:
    """``zoom`` screen pixels per image pixel with the image point ``xy`` in the middle."""
    view.set_zoom(zoom)
    view.centerOn(QPointF(*xy))
    assert view.zoom() == pytest.approx(zoom)


def stroke(view: CanvasView, points, steps: int = 6) -> None:
    """Press at the first image point, move through the others, let go at the last."""
    port = view.viewport()
    QTest.mousePress(port, LEFT, NO_MOD, at(view, *points[0]))
    for a, b in zip(points[:-1], points[1:]):
        for k in range(1, steps + 1):
            t = k / steps
            QTest.mouseMove(port, at(view, a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t))
    QTest.mouseRelease(port, LEFT, NO_MOD, at(view, *points[-1]))


def shape(instance):
    return unary_union([Polygon(p) for p in instance.polygons])


def red_cells(annotation: ImageAnnotation):
    return [c for c in annotation.instances if c.class_name == "rbc"]


def test_an_eraser_stroke_that_misses_the_cell_changes_nothing_and_leaves_no_undo_step(canvas, smear):
    annotation, _ = smear
    cell = max(red_cells(annotation), key=lambda c: c.area)
    canvas.select([cell.id])
    canvas.set_tool("eraser")
    x1, y1, x2, y2 = cell.bbox
    away = (x2 + 12, (y1 + y2) / 2) if x2 + 20 < annotation.width else (x1 - 12, (y1 + y2) / 2)
    messages = []
    canvas.statusMessage.connect(messages.append)
    for _ in range(5):
        stroke(canvas, [away, (away[0], away[1] + 6)])
    now = annotation.find(cell.id)
    assert now is cell  # the same object: not one point moved, not marked corrected
    assert canvas.undo_stack.count() == 0
    assert messages[-1] == "Nothing erased: the stroke does not touch the selected cell"


def test_a_brush_stroke_inside_the_cell_leaves_no_undo_step(canvas, smear):
    annotation, _ = smear
    cell = max(red_cells(annotation), key=lambda c: c.area)
    canvas.select([cell.id])
    canvas.set_tool("brush")
    canvas.tool("brush").set_radius(4)
    centre = Polygon(cell.polygons[0]).centroid
    stroke(canvas, [(centre.x - 5, centre.y), (centre.x + 5, centre.y)])
    assert annotation.find(cell.id) is cell and canvas.undo_stack.count() == 0


def test_brush_on_a_platelet_at_800_percent_adds_the_swept_disc_and_keeps_every_other_point(canvas, smear):
    annotation, _ = smear
    platelet = next(c for c in annotation.instances if c.class_name == "platelet")
    zoom_on(canvas, platelet.centroid, 8.0)
    canvas.select([platelet.id])
    canvas.set_tool("brush")
    canvas.tool("brush").set_radius(2.0)
    x1, y1, x2, y2 = platelet.bbox
    mid = (y1 + y2) / 2
    stroke(canvas, [(x2 - 1.0, mid), (x2 + 3.0, mid)])
    after = annotation.find(platelet.id)
    assert canvas.undo_stack.count() == 1 and len(after.polygons) == 1
    swept = LineString([on_screen(canvas, x2 - 1.0, mid), on_screen(canvas, x2 + 3.0, mid)]).buffer(2.0)
    expected = shape(platelet).union(swept)
    assert shape(after).symmetric_difference(expected).area < 0.02 * swept.area
    assert shape(after).contains(shape(platelet).buffer(-1e-6))  # nothing of the platelet lost
    kept = {tuple(p) for p in after.polygons[0]}
    far = [tuple(p) for p in platelet.polygons[0] if swept.distance(Point(p)) > 0.5]
    assert far and all(p in kept for p in far)  # points away from the stroke, exactly where they were
    canvas.undo_stack.undo()
    assert annotation.find(platelet.id) is platelet


def test_the_eraser_cuts_a_red_cell_into_two_parts_of_one_cell(canvas, smear):
    annotation, _ = smear
    cell = max(red_cells(annotation), key=lambda c: c.area)
    canvas.select([cell.id])
    canvas.set_tool("eraser")
    canvas.tool("eraser").set_radius(5)
    x1, y1, x2, y2 = cell.bbox
    cx = (x1 + x2) / 2
    stroke(canvas, [(cx, y1 - 10), (cx, y2 + 10)], steps=12)
    cut = annotation.find(cell.id)
    assert len(cut.polygons) == 2 and canvas.undo_stack.count() == 1
    gap = LineString([on_screen(canvas, cx, y1 - 10), on_screen(canvas, cx, y2 + 10)]).buffer(5)
    assert abs(shape(cut).area - shape(cell).difference(gap).area) < 1.0
    assert shape(cut).intersection(gap).area < 1.0


def test_dragging_a_point_of_one_part_into_the_other_joins_the_parts(canvas, smear):
    annotation, _ = smear
    cell = max(red_cells(annotation), key=lambda c: c.area)
    x1, y1, x2, y2 = cell.bbox
    cx = (x1 + x2) / 2
    cut = cell.copy(polygons=stroke_outline(cell.polygons, np.array([[cx, y1 - 10], [cx, y2 + 10]]), 5.0, True,
                                            annotation.width, annotation.height).polygons)
    annotation.replace(cut)
    assert len(cut.polygons) == 2
    canvas.select([cell.id])
    second = cut.polygons[1]
    vertex = second[int(np.argmin(np.abs(second[:, 0] - cx)))]
    inside = Polygon(cut.polygons[0]).representative_point()
    port = canvas.viewport()
    messages = []
    canvas.statusMessage.connect(messages.append)
    start, end = at(canvas, *vertex), at(canvas, inside.x, inside.y)
    QTest.mousePress(port, LEFT, NO_MOD, start)
    for k in range(1, 9):
        QTest.mouseMove(port, start + (end - start) * (k / 8))
    QTest.mouseRelease(port, LEFT, NO_MOD, end)
    joined = annotation.find(cell.id)
    assert len(joined.polygons) == 1  # one outline: no part lies on another
    assert joined.area == pytest.approx(shape(joined).area)  # COCO's area is the cell's area
    assert "Parts of the cell overlapped and were joined (1 part(s) now)" in messages
    assert canvas.undo_stack.count() == 1
    canvas.undo_stack.undo()
    assert annotation.find(cell.id) is cut


def test_a_cell_whose_parts_overlap_is_filled_where_they_overlap(canvas, smear):
    """A file may hold a cell as two overlapping polygons: the canvas fills their union (the
    cell's mask and pycocotools do), not the odd-even pattern with a hole in the middle."""
    annotation, _ = smear
    cell = max(red_cells(annotation), key=lambda c: c.area)
    x1, y1, x2, y2 = cell.bbox
    w, h = x2 - x1, y2 - y1
    left = np.array([[x1, y1], [x1 + 0.7 * w, y1], [x1 + 0.7 * w, y2], [x1, y2]])
    right = np.array([[x1 + 0.3 * w, y1], [x2, y1], [x2, y2], [x1 + 0.3 * w, y2]])[::-1]  # other turn
    annotation.replace(cell.copy(polygons=[left, right]))
    item = canvas.instance_item(cell.id)
    middle = QPointF(x1 + 0.5 * w, y1 + 0.5 * h)
    assert item.shape().contains(middle)  # filled, and a click there picks the cell
    assert canvas.instance_at(middle) == cell.id


def test_an_eraser_stroke_inside_a_cell_is_refused_with_a_reason_not_dropped_silently(canvas, smear):
    """Outlines have no holes: a stroke wholly inside the cell would change nothing, so say so."""
    annotation, _ = smear
    cell = max(red_cells(annotation), key=lambda c: c.area)
    canvas.select([cell.id])
    canvas.set_tool("eraser")
    canvas.tool("eraser").set_radius(3)
    messages = []
    canvas.statusMessage.connect(messages.append)
    centre = Polygon(cell.polygons[0]).centroid
    stroke(canvas, [(centre.x - 4, centre.y), (centre.x + 4, centre.y)])
    assert annotation.find(cell.id) is cell and canvas.undo_stack.count() == 0
    assert messages[-1].startswith("Not erased: the stroke stays inside the cell")


def test_trimming_a_straight_edge_with_the_eraser_leaves_no_hairline_part():
    """An eraser stroke along an edge, a twentieth of a pixel short of it, leaves a strip nobody
    can see: it must not become a second part of the cell (a second polygon in COCO)."""
    cell = np.array([[100.0, 100.0], [200.0, 100.0], [200.0, 160.0], [100.0, 160.0]])
    for gap, parts in ((0.05, 1), (0.2, 1), (1.0, 2)):
        centre = 160.0 - gap - 5.0
        result = stroke_outline([cell], np.array([[80.0, centre], [220.0, centre]]), 5.0, True, 400, 400)
        assert len(result.polygons) == parts, gap
        assert Polygon(result.polygons[0]).area == pytest.approx(100 * (60 - gap - 10))


def test_a_brush_stroke_off_the_image_says_so_and_adds_nothing(canvas, smear):
    annotation, _ = smear
    canvas.select([])
    canvas.set_tool("brush")
    canvas.set_zoom(0.5)  # room around the image to paint on
    messages = []
    canvas.statusMessage.connect(messages.append)
    count = len(annotation.instances)
    stroke(canvas, [(-60.0, -40.0), (-30.0, -40.0)])
    assert len(annotation.instances) == count and canvas.undo_stack.count() == 0
    assert messages[-1] == "Nothing changed: the stroke is outside the image"


def test_strokes_that_enclose_something_never_leave_overlapping_parts():
    """Outlines have no holes, so what a stroke encloses is filled: an island the eraser cuts
    free inside a cell stays in it (one part, the cell as it was), and a brush loop around
    another part of the cell takes that part in (found by random strokes on the default model's
    cells: a part left inside another is counted twice in COCO's area)."""
    disc = np.array([[100 + 60 * np.cos(t), 100 + 60 * np.sin(t)] for t in np.linspace(0, 2 * np.pi, 48, endpoint=False)])
    ring = np.array([[100 + 25 * np.cos(t), 100 + 25 * np.sin(t)] for t in np.linspace(0, 2 * np.pi, 40)])
    erased = stroke_outline([disc], ring, 4.0, True, 400, 400)
    assert not erased.changed and erased.hole_only and len(erased.polygons) == 1
    np.testing.assert_array_equal(erased.polygons[0], disc)

    small = np.array([[300.0, 300.0], [310.0, 300.0], [310.0, 310.0], [300.0, 310.0]])
    loop = np.array([[305 + 20 * np.cos(t), 305 + 20 * np.sin(t)] for t in np.linspace(0, 2 * np.pi, 40)])
    painted = stroke_outline([disc, small], loop, 3.0, False, 400, 400)
    shapes = [Polygon(p) for p in painted.polygons]
    assert len(shapes) == 2  # the disc, and the loop with the small square inside it
    assert sum(s.area for s in shapes) == pytest.approx(unary_union(shapes).area)
    np.testing.assert_array_equal(painted.polygons[1], disc)  # untouched, exactly
