"""What a brush or eraser stroke does to a cell's outline, as exact geometry (Shapely, no Qt).

The swept area of a stroke is the polyline of the mouse positions widened by the radius with
round caps and joins - the same shape the canvas shows while the button is held
(``QPainterPathStroker``). The brush unites it with the parts of the cell it touches, the eraser
cuts it out of them. Parts the stroke does not touch are returned as the very same arrays, and
the vertices of a touched part away from the stroke keep their exact coordinates.

Why not paint a mask and trace it back: that re-drew the whole outline on the pixel grid at
every stroke, so a stroke that missed the cell still moved every point of it (a model outline
of 30 points came back as 51 staircase points, ~100 px² different), repeated strokes drifted,
and a platelet a few pixels wide lost its shape. Outlines are outer boundaries only, so a hole
the eraser would make inside a cell is not kept (the tool says so).

Coordinates: ``(N, 2)`` float64 ``(x, y)`` image pixels, as everywhere in bloodview.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.validation import make_valid

from bloodview.core.geometry import join_overlapping

MIN_PART_AREA = 4.0  # px²: smaller crumbs a stroke leaves (or paints) are dropped
MIN_PART_WIDTH = 0.5  # px: so are hairlines (mean width 2 * area / perimeter), e.g. the strip an
# eraser run along a straight edge leaves: 0.05 px wide and invisible, yet a second part in COCO
ARC_ERROR = 0.25  # px, at most: how far the swept area's outline may stray from the exact one
ARC_SHARE = 0.02  # ... and at most this share of the radius (a 2-px brush on a platelet at 800 %)


@dataclass
class StrokeResult:
    """The cell's parts after a stroke.

    ``changed``: False when the outline is exactly what it was (the stroke missed the cell,
    or painted only inside it); ``hole_only``: the eraser stayed inside the cell, which
    would only make a hole; ``outside``: the stroke never touched the image.
    """

    polygons: list[np.ndarray]
    changed: bool
    hole_only: bool = False
    outside: bool = False


def swept_area(points: np.ndarray, radius: float, width: float, height: float):
    """The area a stroke through ``points`` (``(K, 2)``) with ``radius`` covers, inside the image.

    Round caps and joins; arcs within :data:`ARC_ERROR` (or :data:`ARC_SHARE` of the radius) of a
    circle, and the outline simplified within that too, so a long stroke adds few points.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    keep = np.ones(len(points), dtype=bool)
    keep[1:] = np.any(np.diff(points, axis=0) != 0, axis=1)
    points = points[keep]
    radius = max(float(radius), 0.01)  # the tool keeps 1..200 px
    error = min(ARC_ERROR, ARC_SHARE * radius)
    quad_segs = int(min(max(math.ceil(math.pi / 2 / math.acos(1.0 - error / radius)), 2), 32))
    centre = Point(points[0]) if len(points) == 1 else LineString(points)
    shape = centre.buffer(radius, quad_segs=quad_segs).simplify(error, preserve_topology=True)
    return shape.intersection(shapely.box(0.0, 0.0, float(width), float(height)))


def stroke_outline(
    polygons: list[np.ndarray], points: np.ndarray, radius: float, erase: bool, width: int, height: int
) -> StrokeResult:
    """The outline after painting (``erase=False``) or erasing ``points`` with ``radius``.

    ``polygons`` are the cell's parts (``[]`` for a new cell). Brush: the parts the stroke
    touches and the swept area become one part; a stroke touching no part adds a part. Eraser:
    the swept area is cut out of the parts it overlaps; a part cut in two gives two parts of the
    same cell. Crumbs under :data:`MIN_PART_AREA` and hairlines thinner than :data:`MIN_PART_WIDTH`
    are dropped, and parts never overlap; ``polygons == []`` when nothing is left. Untouched parts
    are the very same arrays.
    """
    stroke = swept_area(points, radius, width, height)
    parts = [np.asarray(p, dtype=np.float64) for p in polygons]
    if stroke.is_empty or stroke.area <= 0:
        return StrokeResult(parts, False, outside=True)
    shapes = [_valid(p) for p in parts]
    if erase:
        return _erase(parts, shapes, stroke)
    return _paint(parts, shapes, stroke)


def _paint(parts: list[np.ndarray], shapes: list, stroke) -> StrokeResult:
    touched = [i for i, shape in enumerate(shapes) if shape.intersects(stroke)]
    covered = shapely.union_all([shapes[i] for i in touched]) if touched else None
    if covered is not None and stroke.difference(covered).area <= 1e-9 * max(stroke.area, 1.0):
        return StrokeResult(parts, False)  # painted only inside the cell
    merged = shapely.union_all([stroke] + [shapes[i] for i in touched])
    new = _outer_parts(merged)
    kept = [p for i, p in enumerate(parts) if i not in touched]
    # a loop of the brush round another part of the cell fills over it: join, never overlap
    return StrokeResult(join_overlapping(new + kept), True)


def _erase(parts: list[np.ndarray], shapes: list, stroke) -> StrokeResult:
    out: list[np.ndarray] = []
    changed = hole_only = False
    for part, shape in zip(parts, shapes):
        if not shape.intersects(stroke) or shape.intersection(stroke).area <= 0:
            out.append(part)
            continue
        pieces = _outer_parts(shape.difference(stroke))
        if len(pieces) == 1 and abs(Polygon(pieces[0]).area - shape.area) <= 1e-9 * max(shape.area, 1.0):
            out.append(part)  # only a hole would be cut: outlines have none
            hole_only = True
            continue
        out.extend(pieces)
        changed = True
    return StrokeResult(out, changed, hole_only and not changed)


def _valid(polygon: np.ndarray):
    shape = Polygon(polygon) if len(polygon) >= 3 else Polygon()
    return shape if shape.is_valid else make_valid(shape)


def _outer_parts(shape) -> list[np.ndarray]:
    """Outer rings of the polygons in ``shape`` (holes filled), largest first, crumbs and hairlines
    dropped."""
    filled = []
    for geometry in shapely.get_parts(shape):
        if isinstance(geometry, Polygon):
            filled.append(Polygon(geometry.exterior))
        elif hasattr(geometry, "geoms"):
            filled.extend(Polygon(g.exterior) for g in geometry.geoms if isinstance(g, Polygon))
    # an island the eraser left inside a ring it cut lies in the filled hole: one part, not two
    found = [g for g in shapely.get_parts(shapely.union_all(filled)) if isinstance(g, Polygon)] if filled else []
    found = [Polygon(g.exterior) for g in found]
    found = [g for g in found if g.area >= MIN_PART_AREA and 2.0 * g.area >= MIN_PART_WIDTH * g.length]
    found.sort(key=lambda g: -g.area)
    return [np.asarray(g.exterior.coords, dtype=np.float64)[:-1] for g in found]


def apply_stroke(
    polygons: list[np.ndarray], points: np.ndarray, radius: float, erase: bool, width: int, height: int
) -> list[np.ndarray]:
    """:func:`stroke_outline`'s parts only (``[]`` when nothing is left)."""
    return stroke_outline(polygons, points, radius, erase, width, height).polygons
