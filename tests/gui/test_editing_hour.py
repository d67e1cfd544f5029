"""An annotator's hour on a real BCCD field, compressed: two dozen edits with every tool, at fit
and at 800 %, at the image border and past it; then undo all of it and redo all of it, checking
after every step that the cells are exactly (vertex for vertex, provenance too) what they were;
then save the project, reopen it, export COCO and read it back with pycocotools.

What a lab needs: no step of undo or redo is off by a point, nothing is lost by saving, and every
edited cell reaches the export as one annotation whose ``area`` is the area it covers.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtTest import QTest
from shapely.geometry import Point, Polygon
from shapely.ops import unary_union

from bloodview.core.annotation import Dataset
from bloodview.io.coco import save_coco
from bloodview.io.project import load_project, save_project

from tests.gui.test_editing_strokes import LEFT, NO_MOD, at, canvas, red_cells, smear, stroke, zoom_on  # noqa: F401

pytestmark = pytest.mark.gui


def state(annotation) -> list[tuple]:
    """Everything a person could see or export of the cells, exactly."""
    return [(c.id, c.class_name, c.source, c.corrected, c.reviewed, c.score,
             tuple(p.tobytes() for p in c.polygons)) for c in annotation.instances]


def union(instance):
    return unary_union([Polygon(p) for p in instance.polygons])


def drag(view, start: QPoint, end: QPoint, steps: int = 8, modifiers=NO_MOD) -> None:
    port = view.viewport()
    QTest.mousePress(port, LEFT, modifiers, start)
    for k in range(1, steps + 1):
        QTest.mouseMove(port, start + (end - start) * (k / steps))
    QTest.mouseRelease(port, LEFT, modifiers, end)


def longest_edge_middle(cell) -> np.ndarray:
    """The middle of the cell's longest edge (far from its points, so a click there hits the edge)."""
    poly = cell.polygons[0]
    nxt = np.roll(poly, -1, axis=0)
    k = int(np.argmax(np.hypot(*(nxt - poly).T)))
    return (poly[k] + nxt[k]) / 2


def empty_spot(annotation, near: tuple[float, float], radius: float) -> tuple[float, float]:
    """A point at least ``radius`` from every cell and the border, searched outwards from ``near``."""
    cells = unary_union([union(c) for c in annotation.instances])
    for step in range(0, 400, 4):
        for angle in np.linspace(0, 2 * np.pi, 24, endpoint=False):
            x, y = near[0] + step * np.cos(angle), near[1] + step * np.sin(angle)
            if radius < x < annotation.width - radius and radius < y < annotation.height - radius \
                    and cells.distance(Point(x, y)) > radius:
                return x, y
    raise AssertionError("no empty glass on this field")


def test_an_hour_of_edits_undoes_and_redoes_exactly_and_survives_save_reopen_and_coco(canvas, smear, tmp_path):
    annotation, _ = smear
    stack = canvas.undo_stack
    width, height = annotation.width, annotation.height
    reds = sorted(red_cells(annotation), key=lambda c: -c.area)
    platelet = next(c for c in annotation.instances if c.class_name == "platelet")
    inner = [c for c in reds if 10 < c.bbox[0] and c.bbox[2] < width - 10 and 10 < c.bbox[1] and c.bbox[3] < height - 10]
    at_border = max(reds, key=lambda c: c.bbox[3])  # a red cell cut by the bottom edge of the field
    a, b, c_, e, f, g = inner[:6]
    states = [state(annotation)]

    def step(action) -> None:
        count = stack.count()
        action()
        assert stack.count() == count + 1, f"{action.__name__} made {stack.count() - count} undo steps"
        states.append(state(annotation))

    def select(cell) -> None:
        canvas.set_tool("select")
        canvas.select([cell.id])

    def vertex_drag():  # a point of a red cell, 25 px to the side
        select(a)
        p = annotation.find(a.id).polygons[0][0]
        drag(canvas, at(canvas, *p), at(canvas, *p) + QPoint(25, 15))

    def vertex_past_neighbour():  # a self-crossing outline, repaired when let go
        select(a)
        poly = annotation.find(a.id).polygons[0]
        target = poly[2] + (poly[2] - poly[1]) * 0.5
        drag(canvas, at(canvas, *poly[1]), at(canvas, *target))

    def insert_point():
        select(b)
        QTest.mouseDClick(canvas.viewport(), LEFT, NO_MOD, at(canvas, *longest_edge_middle(annotation.find(b.id))))

    def delete_point():
        select(b)
        poly = annotation.find(b.id).polygons[0]
        QTest.mouseClick(canvas.viewport(), LEFT, Qt.KeyboardModifier.AltModifier, at(canvas, *poly[3]))

    def edge_drag():  # pull a new point out of an edge
        select(b)
        middle = longest_edge_middle(annotation.find(b.id))
        drag(canvas, at(canvas, *middle), at(canvas, *middle) + QPoint(-12, 9))

    def draw_across():  # a new cell drawn across a red cell
        canvas.set_tool("draw")
        canvas.set_active_class("lymphocyte")
        x1, y1, x2, y2 = c_.bbox
        for x, y in [(x1 - 15, y1 + 10), ((x1 + x2) / 2, y1 + 5), ((x1 + x2) / 2, y2 - 5), (x1 - 15, y2 - 10)]:
            QTest.mouseClick(canvas.viewport(), LEFT, NO_MOD, at(canvas, x, y))
        QTest.keyClick(canvas, Qt.Key.Key_Return)

    def draw_figure_eight():
        canvas.set_tool("draw")
        x, y = empty_spot(annotation, (width / 2, height / 2), 20)
        for px, py in [(x - 15, y - 15), (x + 15, y + 15), (x + 15, y - 15), (x - 15, y + 15)]:
            QTest.mouseClick(canvas.viewport(), LEFT, NO_MOD, at(canvas, px, py))
        QTest.keyClick(canvas, Qt.Key.Key_Return)

    def brush_into_neighbour():  # grow e towards its nearest neighbour
        select(e)
        canvas.set_tool("brush")
        canvas.tool("brush").set_radius(6)
        here = union(annotation.find(e.id)).representative_point()
        other = min((c for c in annotation.instances if c.id != e.id),
                    key=lambda c: union(c).distance(union(annotation.find(e.id))))
        there = union(other).representative_point()
        before = state(annotation)
        stroke(canvas, [(here.x, here.y), (there.x, there.y)], steps=12)
        # the neighbour is not touched: cells may overlap, as they do on a smear
        assert [s for s in state(annotation) if s[0] == other.id] == [s for s in before if s[0] == other.id]

    def erase_in_two():
        select(f)
        canvas.set_tool("eraser")
        canvas.tool("eraser").set_radius(5)
        x1, y1, x2, y2 = annotation.find(f.id).bbox
        stroke(canvas, [((x1 + x2) / 2, y1 - 8), ((x1 + x2) / 2, y2 + 8)], steps=12)
        assert len(annotation.find(f.id).polygons) == 2

    def join_the_parts():  # a point of the small part dragged into the big one
        select(f)
        parts = annotation.find(f.id).polygons
        inside = Polygon(parts[0]).representative_point()
        start = parts[1][int(np.argmin([Point(p).distance(Polygon(parts[0])) for p in parts[1]]))]
        drag(canvas, at(canvas, *start), at(canvas, inside.x, inside.y))
        assert len(annotation.find(f.id).polygons) == 1

    def platelet_brush_at_800():
        zoom_on(canvas, platelet.centroid, 8.0)
        select(platelet)
        canvas.set_tool("brush")
        canvas.tool("brush").set_radius(1.5)
        x1, y1, x2, y2 = annotation.find(platelet.id).bbox
        stroke(canvas, [(x2 - 1, (y1 + y2) / 2), (x2 + 2, (y1 + y2) / 2 + 1)])

    def platelet_vertex_at_800():
        select(platelet)
        p = annotation.find(platelet.id).polygons[0][0]
        drag(canvas, at(canvas, *p), at(canvas, *p) + QPoint(-10, -6))

    def platelet_erase_at_800():
        select(platelet)
        canvas.set_tool("eraser")
        canvas.tool("eraser").set_radius(1.0)
        poly = annotation.find(platelet.id).polygons[0]
        x, y = poly[int(np.argmin(poly[:, 0]))]
        stroke(canvas, [(x - 2, y), (x + 2, y + 0.5)])
        canvas.fit()

    def border_vertex_out():  # dragged past the image's edge: it stops on the edge
        select(at_border)
        poly = annotation.find(at_border.id).polygons[0]
        k = int(np.argmax(poly[:, 1]))
        drag(canvas, at(canvas, *poly[k]), at(canvas, poly[k][0] + 4, poly[k][1] + 60))
        assert annotation.find(at_border.id).polygons[0][k][1] == height
        assert 0 <= annotation.find(at_border.id).bbox[1] and annotation.find(at_border.id).bbox[3] <= height

    def border_brush_out():  # a stroke half off the image paints only the image
        select(at_border)
        canvas.set_tool("brush")
        canvas.tool("brush").set_radius(8)
        x1, y1, x2, y2 = annotation.find(at_border.id).bbox
        stroke(canvas, [(x1 + 3, height), (x1 - 20, height + 20)])
        bx1, by1, bx2, by2 = annotation.find(at_border.id).bbox
        assert bx1 >= 0 and by1 >= 0 and bx2 <= width and by2 <= height

    def move_cell():
        select(g)
        start = union(annotation.find(g.id)).representative_point()
        drag(canvas, at(canvas, start.x, start.y), at(canvas, start.x, start.y) + QPoint(18, -11))

    def delete_cell():
        select(c_)
        canvas.setFocus()
        QTest.keyClick(canvas, Qt.Key.Key_Delete)

    def paint_new_cell():
        canvas.set_tool("select")
        canvas.select([])
        canvas.set_tool("brush")
        canvas.set_active_class("platelet")
        canvas.tool("brush").set_radius(5)
        x, y = empty_spot(annotation, (width / 3, height / 3), 12)
        stroke(canvas, [(x - 3, y), (x + 3, y)])

    def erase_drawn_cell():
        drawn = [c for c in annotation.instances if c.class_name == "lymphocyte"][0]
        select(drawn)
        canvas.set_tool("eraser")
        canvas.tool("eraser").set_radius(4)
        x1, y1, x2, y2 = drawn.bbox
        stroke(canvas, [(x1 - 5, (y1 + y2) / 2), (x1 + 10, (y1 + y2) / 2)])

    def another_vertex_drag():
        select(a)
        p = annotation.find(a.id).polygons[0][-1]
        drag(canvas, at(canvas, *p), at(canvas, *p) + QPoint(-7, 12))

    def move_platelet():
        select(platelet)
        start = union(annotation.find(platelet.id)).representative_point()
        drag(canvas, at(canvas, start.x, start.y), at(canvas, start.x, start.y) + QPoint(-20, 4))

    def brush_fill_the_cut():  # paint over e again, joining the nearest area back
        select(e)
        canvas.set_tool("brush")
        canvas.tool("brush").set_radius(10)
        x1, y1, x2, y2 = annotation.find(e.id).bbox
        stroke(canvas, [(x2 - 5, y1 + 5), (x2 + 6, y1 + 10)])

    actions = [vertex_drag, vertex_past_neighbour, insert_point, delete_point, edge_drag, draw_across,
               brush_into_neighbour, erase_in_two, join_the_parts, platelet_brush_at_800,
               platelet_vertex_at_800, platelet_erase_at_800, border_vertex_out, border_brush_out,
               move_cell, paint_new_cell, erase_drawn_cell, another_vertex_drag, draw_figure_eight,
               move_platelet, brush_fill_the_cut, delete_cell]
    for action in actions:
        step(action)
    assert stack.count() == len(actions) >= 20

    # a stroke that would erase the whole platelet is refused: no step, nothing lost
    select(platelet)
    canvas.set_tool("eraser")
    canvas.tool("eraser").set_radius(60)
    stroke(canvas, [platelet.centroid, (platelet.centroid[0] + 1, platelet.centroid[1])])
    assert stack.count() == len(actions) and state(annotation) == states[-1]

    for _ in range(2):  # back and forth, twice
        for index in range(len(actions) - 1, -1, -1):
            stack.undo()
            assert state(annotation) == states[index], f"undo of {actions[index].__name__} is not exact"
        for index in range(1, len(actions) + 1):
            stack.redo()
            assert state(annotation) == states[index], f"redo of {actions[index - 1].__name__} is not exact"

    # every edited cell is valid geometry whose parts do not overlap
    for cell in annotation.instances:
        shapes = [Polygon(p) for p in cell.polygons]
        assert all(s.is_valid and s.area > 0 for s in shapes), cell
        assert cell.area == pytest.approx(union(cell).area, rel=1e-9), cell

    # save, reopen: the same cells
    dataset = Dataset([annotation], demo_catalogue_of(canvas), annotation.image_path.parent)
    project = save_project(dataset, tmp_path / "project")
    reopened = load_project(project.folder).dataset.images[0]
    assert [c.id for c in reopened.instances] == [c.id for c in annotation.instances]
    for old, new in zip(annotation.instances, reopened.instances):
        assert new.same_as(old, atol=1e-3), (old, new)

    # export COCO: pycocotools reads every cell, with the area it covers
    coco_file = save_coco(dataset, tmp_path / "cells.json")
    coco = COCO(str(coco_file))
    anns = coco.loadAnns(coco.getAnnIds())
    assert len(anns) == len(annotation.instances)
    for ann, cell in zip(anns, annotation.instances):
        covered = union(cell).area
        assert ann["area"] == pytest.approx(covered, rel=1e-4, abs=0.01)
        pixels = coco.annToMask(ann).sum()
        perimeter = union(cell).length
        assert abs(pixels - covered) <= 0.75 * perimeter + 4, (cell, pixels, covered)
        rle = coco.annToRLE(ann)
        assert mask_utils.area(rle) == pixels
    assert json.loads(coco_file.read_text())["images"][0]["width"] == width


def demo_catalogue_of(view):
    return view.style.classes
