"""Polygon and mask geometry for cell outlines.

Conventions used everywhere in bloodview:

* A polygon is a float array of shape ``(N, 2)``, N >= 3,
  of ``(x, y)`` vertices in image pixel coordinates, *not* closed (the first
  vertex is not repeated). Pixel ``(col, row)`` covers ``[col, col+1) x [row, row+1)``,
  so a polygon around a whole 1-pixel cell is the unit square around it.
* A mask is a ``bool`` array of shape ``(height, width)``.
* A box is ``(x1, y1, x2, y2)`` in pixels, ``x2 > x1``; COCO's ``(x, y, w, h)`` is
  converted at the io boundary only.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.validation import make_valid

from bloodview.errors import GeometryError

PolygonArray = np.ndarray  # (N, 2) float64, x then y


def as_polygon(points: Sequence[Sequence[float]] | np.ndarray) -> PolygonArray:
    """Return ``points`` as an ``(N, 2)`` float64 array without a repeated last vertex."""
    array = np.asarray(points, dtype=np.float64)
    if array.ndim == 1:
        if array.size % 2:
            raise GeometryError(f"a flat polygon needs an even number of coordinates, got {array.size}")
        array = array.reshape(-1, 2)
    if array.ndim != 2 or array.shape[1] != 2:
        raise GeometryError(f"a polygon must be a list of (x, y) points, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise GeometryError("a polygon has a coordinate that is not a finite number")
    if len(array) > 1 and np.array_equal(array[0], array[-1]):
        array = array[:-1]
    return array


def polygon_area(polygon: np.ndarray) -> float:
    """Area in square pixels (shoelace formula, orientation ignored)."""
    p = as_polygon(polygon)
    if len(p) < 3:
        return 0.0
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def polygons_bbox(polygons: Sequence[np.ndarray]) -> tuple[float, float, float, float]:
    """Enclosing box ``(x1, y1, x2, y2)`` of one or more polygons."""
    points = np.concatenate([as_polygon(p) for p in polygons], axis=0)
    return (
        float(points[:, 0].min()),
        float(points[:, 1].min()),
        float(points[:, 0].max()),
        float(points[:, 1].max()),
    )


def polygons_to_mask(polygons: Sequence[np.ndarray], height: int, width: int) -> np.ndarray:
    """Rasterise polygons (union of their insides) into a bool mask.

    A pixel is set when its centre ``(col + 0.5, row + 0.5)`` is inside the outline
    (even-odd rule, half-open spans), so an outline along pixel edges gives back
    exactly those pixels. Vectorised scanline fill: every edge's crossing of every
    pixel-centre row is computed at once, spans are written with a difference array.
    """
    height, width = int(height), int(width)
    mask = np.zeros((height, width), dtype=bool)
    for polygon in polygons:
        p = as_polygon(polygon)
        if len(p) >= 3 and height > 0 and width > 0:
            mask |= _fill_polygon(p, height, width)
    return mask


def _fill_polygon(p: np.ndarray, height: int, width: int) -> np.ndarray:
    x0, y0 = p[:, 0], p[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    y_low, y_high = np.minimum(y0, y1), np.maximum(y0, y1)
    # Rows whose centre lies in [y_low, y_high) of each edge.
    first = np.clip(np.ceil(y_low - 0.5), 0, height).astype(np.int64)
    last = np.clip(np.ceil(y_high - 0.5), 0, height).astype(np.int64)
    counts = np.maximum(last - first, 0)
    counts[y0 == y1] = 0
    total = int(counts.sum())
    out = np.zeros((height, width + 1), dtype=np.int32)
    if total == 0:
        return out[:, :width].astype(bool)
    edge = np.repeat(np.arange(len(p)), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = first[edge] + offsets
    yc = rows + 0.5
    t = (yc - y0[edge]) / (y1[edge] - y0[edge])
    xs = x0[edge] + t * (x1[edge] - x0[edge])
    order = np.lexsort((xs, rows))
    rows, xs = rows[order], xs[order]
    starts = np.clip(np.ceil(xs[0::2] - 0.5), 0, width).astype(np.int64)
    ends = np.clip(np.ceil(xs[1::2] - 0.5), 0, width).astype(np.int64)
    span_rows = rows[0::2]
    np.add.at(out, (span_rows, starts), 1)
    np.add.at(out, (span_rows, ends), -1)
    return np.cumsum(out, axis=1)[:, :width] > 0


def polygon_to_mask(polygon: np.ndarray, height: int, width: int) -> np.ndarray:
    return polygons_to_mask([polygon], height, width)


def mask_to_polygons(
    mask: np.ndarray, tolerance: float = 0.5, min_area: float = 4.0
) -> list[PolygonArray]:
    """Outer outlines of the connected regions of ``mask`` as polygons.

    Contours run along pixel edges (so a 1-pixel mask gives its unit square) and
    are simplified with Shapely (Douglas-Peucker, ``tolerance`` in pixels, topology
    preserved). Regions smaller than ``min_area`` square pixels are dropped.
    Largest region first.
    """
    mask = np.ascontiguousarray(mask, dtype=np.uint8)
    if mask.ndim != 2:
        raise GeometryError(f"a mask must be 2-D, got shape {mask.shape}")
    if not mask.any():
        return []
    # Upsample x2 with nearest neighbour: contours of the doubled mask, traced
    # through pixel centres, land on the original pixel edges after mapping back.
    doubled = cv2.resize(mask, (mask.shape[1] * 2, mask.shape[0] * 2), interpolation=cv2.INTER_NEAREST)
    padded = cv2.copyMakeBorder(doubled, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    contours, _ = cv2.findContours(padded, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons: list[tuple[float, PolygonArray]] = []
    for contour in contours:
        pts = contour.reshape(-1, 2).astype(np.float64) - 1.0  # undo padding
        # Doubled-grid pixel centre c maps to original coordinate (c + 0.5) / 2;
        # outer boundary pixels sit half a doubled pixel inside the true edge.
        pts = (pts + 0.5) / 2.0
        pts = _push_to_pixel_edges(pts)
        if len(pts) < 3:
            continue
        shape = Polygon(pts)
        if not shape.is_valid:
            shape = make_valid(shape)
        if tolerance > 0:
            shape = shape.simplify(tolerance, preserve_topology=True)
        for part in _polygons_of(shape):
            if part.area >= min_area:
                coords = np.asarray(part.exterior.coords, dtype=np.float64)[:-1]
                polygons.append((part.area, coords))
    polygons.sort(key=lambda item: -item[0])
    return [p for _, p in polygons]


def _push_to_pixel_edges(points: np.ndarray) -> np.ndarray:
    """Round contour points of the doubled mask to the nearest half-pixel grid line.

    After mapping back, boundary points sit at k + 0.25 or k + 0.75; the true
    pixel edges are the integers, so snap outward to the nearest integer.
    """
    return np.round(points)


def _polygons_of(shape) -> list[Polygon]:
    if isinstance(shape, Polygon):
        return [shape] if not shape.is_empty else []
    if isinstance(shape, MultiPolygon):
        return [g for g in shape.geoms if not g.is_empty]
    if hasattr(shape, "geoms"):
        out: list[Polygon] = []
        for g in shape.geoms:
            out.extend(_polygons_of(g))
        return out
    return []


# Outlines traced from masks follow pixel edges: 100-400 vertices of staircase per cell, too
# many handles to edit by hand. Measured on the default model's outlines of 40 PBC val images
# (benchmarks/outline_simplify.py): 0.6 % of the diameter after a 5-step average gives ~30
# vertices at mask IoU > 0.99 against the staircase.
SIMPLIFY_TOLERANCE = 0.006  # Douglas-Peucker tolerance, as a fraction of the outline's equivalent diameter
SIMPLIFY_SMOOTHING = 5  # one-pixel steps averaged to take the staircase out before simplifying
MIN_TOLERANCE = 0.25  # pixels


def simplify_outline(
    polygon: np.ndarray,
    tolerance: float | None = None,
    smoothing: int = SIMPLIFY_SMOOTHING,
    min_vertices: int = 8,
) -> PolygonArray:
    """A pixel-staircase outline as a few vertices that keep its shape and area.

    1. The outline is walked in steps of at most one pixel and each point averaged
       with its ``smoothing`` neighbours (a circular moving average), which takes
       out the one-pixel staircase of the mask;
    2. Douglas-Peucker with ``tolerance`` pixels, topology preserved (default:
       :data:`SIMPLIFY_TOLERANCE` of the outline's equivalent diameter, at least
       :data:`MIN_TOLERANCE`), so the same share of detail goes at any image scale;
    3. the result is offset (mitre joins, no new vertices) by the area lost over
       its perimeter: chords of a convex outline cut inside it, this puts the area back.

    A result with fewer than ``min_vertices`` is redone at half the tolerance (a
    small platelet stays round). An outline with ``min_vertices`` or fewer, or
    one that cannot be simplified into a valid polygon, is returned as it was.
    """
    p = as_polygon(polygon)
    original = Polygon(p)
    if len(p) <= min_vertices or not original.is_valid or original.area <= 0:
        return p
    if tolerance is None:
        diameter = 2.0 * np.sqrt(original.area / np.pi)
        tolerance = max(MIN_TOLERANCE, SIMPLIFY_TOLERANCE * diameter)
    smoothed = Polygon(_moving_average(_unit_steps(p), smoothing))
    if not smoothed.is_valid:
        smoothed = original
    for _ in range(3):
        simple = smoothed.simplify(tolerance, preserve_topology=False)  # 4x faster; checked below
        if not (isinstance(simple, Polygon) and simple.is_valid):
            simple = smoothed.simplify(tolerance, preserve_topology=True)
        if isinstance(simple, Polygon) and len(simple.exterior.coords) - 1 >= min_vertices:
            break
        tolerance /= 2.0
    if not isinstance(simple, Polygon) or simple.is_empty or not simple.is_valid:
        return p
    grown = simple.buffer((original.area - simple.area) / simple.length, join_style="mitre", mitre_limit=5.0)
    if isinstance(grown, Polygon) and grown.is_valid and len(grown.exterior.coords) <= len(simple.exterior.coords):
        simple = grown
    return np.asarray(simple.exterior.coords, dtype=np.float64)[:-1]


def simplify_outlines(polygons: Sequence[np.ndarray], **options) -> list[PolygonArray]:
    """:func:`simplify_outline` of each part of a cell."""
    return [simplify_outline(p, **options) for p in polygons]


def _unit_steps(p: np.ndarray) -> np.ndarray:
    """The closed outline with extra points so no step is longer than one pixel."""
    nxt = np.roll(p, -1, axis=0)
    steps = np.maximum(1, np.ceil(np.hypot(*(nxt - p).T)).astype(np.int64))
    edge = np.repeat(np.arange(len(p)), steps)
    t = (np.arange(steps.sum()) - np.repeat(np.cumsum(steps) - steps, steps)) / steps[edge]
    return p[edge] + (nxt[edge] - p[edge]) * t[:, None]


def _moving_average(points: np.ndarray, width: int) -> np.ndarray:
    """Circular moving average of ``width`` points (``width <= 1``: unchanged)."""
    if width <= 1 or len(points) <= width:
        return points
    half = width // 2
    wrapped = np.concatenate([points[-half:], points, points[: width - 1 - half]])
    sums = np.cumsum(np.vstack([np.zeros((1, 2)), wrapped]), axis=0)
    return (sums[width:] - sums[:-width]) / width


def repair_polygon(polygon: np.ndarray, min_area: float = 1.0) -> list[PolygonArray]:
    """Turn a possibly self-intersecting outline into valid simple polygons.

    A bow-tie becomes its two triangles; spikes and zero-area parts vanish.
    Raises :class:`GeometryError` when nothing with area is left.
    """
    p = as_polygon(polygon)
    if len(p) < 3:
        raise GeometryError(f"a cell outline needs at least 3 points, got {len(p)}")
    shape = Polygon(p)
    if not shape.is_valid:
        shape = make_valid(shape)
    parts = [g for g in _polygons_of(shape) if g.area >= min_area]
    if not parts:
        raise GeometryError("the outline encloses no area (all points on a line or a single spot)")
    parts.sort(key=lambda g: -g.area)
    return [np.asarray(g.exterior.coords, dtype=np.float64)[:-1] for g in parts]


def is_valid_polygon(polygon: np.ndarray) -> bool:
    p = as_polygon(polygon)
    return len(p) >= 3 and bool(shapely.is_valid(Polygon(p))) and polygon_area(p) > 0


def clip_polygon(polygon: np.ndarray, width: int, height: int) -> list[PolygonArray]:
    """Intersect an outline with the image rectangle ``[0, width] x [0, height]``."""
    p = as_polygon(polygon)
    shape = Polygon(p)
    if not shape.is_valid:
        shape = make_valid(shape)
    clipped = shape.intersection(shapely.box(0, 0, width, height))
    return [np.asarray(g.exterior.coords, dtype=np.float64)[:-1] for g in _polygons_of(clipped) if g.area > 0]


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two same-shaped bool masks (1.0 if both empty)."""
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    if a.shape != b.shape:
        raise GeometryError(f"masks of different shapes {a.shape} and {b.shape}")
    union = np.logical_or(a, b).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(a, b).sum() / union)


def box_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``(N, 4)`` and ``(M, 4)`` boxes ``(x1, y1, x2, y2)`` -> ``(N, M)``."""
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    return iou


def polygon_iou(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """Exact area IoU of two outlines (each one or more polygons), via Shapely."""
    shape_a = shapely.union_all([make_valid(Polygon(as_polygon(p))) for p in a])
    shape_b = shapely.union_all([make_valid(Polygon(as_polygon(p))) for p in b])
    union = shape_a.union(shape_b).area
    if union == 0:
        return 1.0
    return float(shape_a.intersection(shape_b).area / union)


def rectangle(x1: float, y1: float, x2: float, y2: float) -> PolygonArray:
    """The 4-vertex polygon of a box, clockwise from top-left."""
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float64)


def translate(polygon: np.ndarray, dx: float, dy: float) -> PolygonArray:
    return as_polygon(polygon) + np.array([dx, dy])


def join_overlapping(parts: Sequence[np.ndarray]) -> list[PolygonArray]:
    """The parts of one cell with every group of overlapping ones replaced by the outer ring of
    their union.

    A cell covers the union of its parts; overlapping parts would make the summed polygon
    area (COCO's ``area``) larger than the mask, and an odd-even fill show the overlap as a
    hole. ``parts`` must each be valid (see :func:`repair_polygon`). Parts that overlap
    nothing are returned as the same arrays (touching at a point or along an edge is not
    overlapping). Joined parts come first, largest first.
    """
    if len(parts) < 2:
        return list(parts)
    shapes = [Polygon(p) for p in parts]
    tree = shapely.STRtree(shapes)
    group = list(range(len(parts)))  # union-find over overlapping pairs

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for i, j in zip(*tree.query(shapes, predicate="overlaps")):
        if i < j:
            group[root(i)] = root(j)
    for i, j in zip(*tree.query(shapes, predicate="contains")):
        if i != j:
            group[root(i)] = root(j)
    members: dict[int, list[int]] = {}
    for i in range(len(parts)):
        members.setdefault(root(i), []).append(i)
    if all(len(m) == 1 for m in members.values()):
        return list(parts)
    joined: list[Polygon] = []
    alone: list[np.ndarray] = []
    for indices in members.values():
        if len(indices) == 1:
            alone.append(parts[indices[0]])
            continue
        union = shapely.union_all([shapes[i] for i in indices])
        joined.extend(Polygon(g.exterior) for g in shapely.get_parts(union) if isinstance(g, Polygon))
    joined.sort(key=lambda g: -g.area)
    return [np.asarray(g.exterior.coords, dtype=np.float64)[:-1] for g in joined] + alone
