"""Pure outline edits used by the tools (NumPy only, no Qt): hit tests and vertex changes.

Polygons follow the core convention: ``(N, 2)`` float64 ``(x, y)`` image pixels, not
closed. An instance's outline is a list of such parts; ``(part, index)`` names a vertex.
Tolerances are in image pixels (the tools convert from screen pixels).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bloodview.core.geometry import is_valid_polygon, join_overlapping, repair_polygon
from bloodview.errors import GeometryError

MIN_VERTICES = 3


def nearest_vertex(
    polygons: Sequence[np.ndarray], point: tuple[float, float], tolerance: float
) -> tuple[int, int] | None:
    """The ``(part, index)`` of the vertex closest to ``point`` within ``tolerance``."""
    best: tuple[float, int, int] | None = None
    px, py = point
    for part, polygon in enumerate(polygons):
        if len(polygon) == 0:
            continue
        distances = np.hypot(polygon[:, 0] - px, polygon[:, 1] - py)
        index = int(np.argmin(distances))
        if distances[index] <= tolerance and (best is None or distances[index] < best[0]):
            best = (float(distances[index]), part, index)
    return None if best is None else (best[1], best[2])


def nearest_edge(
    polygons: Sequence[np.ndarray], point: tuple[float, float], tolerance: float
) -> tuple[int, int, tuple[float, float]] | None:
    """The edge closest to ``point`` within ``tolerance``.

    Returns ``(part, insert_index, foot)``: inserting ``foot`` (the closest point on
    the edge) at ``insert_index`` splits that edge.
    """
    best: tuple[float, int, int, tuple[float, float]] | None = None
    p = np.asarray(point, dtype=np.float64)
    for part, polygon in enumerate(polygons):
        if len(polygon) < 2:
            continue
        a = polygon
        b = np.roll(polygon, -1, axis=0)
        ab = b - a
        length2 = np.einsum("ij,ij->i", ab, ab)
        t = np.where(length2 > 0, np.einsum("ij,ij->i", p - a, ab) / np.where(length2 > 0, length2, 1), 0.0)
        t = np.clip(t, 0.0, 1.0)
        feet = a + t[:, None] * ab
        distances = np.hypot(feet[:, 0] - p[0], feet[:, 1] - p[1])
        edge = int(np.argmin(distances))
        if distances[edge] <= tolerance and (best is None or distances[edge] < best[0]):
            foot = (float(feet[edge, 0]), float(feet[edge, 1]))
            best = (float(distances[edge]), part, edge + 1, foot)
    return None if best is None else (best[1], best[2], best[3])


def _replace_part(polygons: Sequence[np.ndarray], part: int, new: np.ndarray) -> list[np.ndarray]:
    out = [np.array(p, dtype=np.float64, copy=True) for p in polygons]
    out[part] = new
    return out


def move_vertex(polygons: Sequence[np.ndarray], part: int, index: int, xy: tuple[float, float]) -> list[np.ndarray]:
    """A copy of ``polygons`` with one vertex moved to ``xy``."""
    new = np.array(polygons[part], dtype=np.float64, copy=True)
    new[index] = xy
    return _replace_part(polygons, part, new)


def insert_vertex(polygons: Sequence[np.ndarray], part: int, index: int, xy: tuple[float, float]) -> list[np.ndarray]:
    """A copy with ``xy`` inserted before position ``index`` of ``part``."""
    new = np.insert(np.asarray(polygons[part], dtype=np.float64), index, xy, axis=0)
    return _replace_part(polygons, part, new)


def delete_vertex(polygons: Sequence[np.ndarray], part: int, index: int) -> list[np.ndarray]:
    """A copy without one vertex; refuses to leave a part with fewer than 3 points.

    A 3-point part of a cell with other parts (the small triangle a point dragged past its
    neighbour leaves) goes as a whole: removing one of its points removes that part, so it
    can be cleaned up without deleting the cell.
    """
    if len(polygons[part]) <= MIN_VERTICES:
        if len(polygons) > 1:
            return [np.array(p, dtype=np.float64, copy=True) for i, p in enumerate(polygons) if i != part]
        raise GeometryError("a cell outline needs at least 3 points; delete the cell instead")
    new = np.delete(np.asarray(polygons[part], dtype=np.float64), index, axis=0)
    return _replace_part(polygons, part, new)


def translate_polygons(polygons: Sequence[np.ndarray], dx: float, dy: float) -> list[np.ndarray]:
    return [np.asarray(p, dtype=np.float64) + np.array([dx, dy]) for p in polygons]


def clamp_point(xy: tuple[float, float], width: float, height: float) -> tuple[float, float]:
    """Keep a point inside the image rectangle ``[0, width] x [0, height]``."""
    return (min(max(float(xy[0]), 0.0), float(width)), min(max(float(xy[1]), 0.0), float(height)))


def clamp_shift(
    bbox: tuple[float, float, float, float], dx: float, dy: float, width: float, height: float
) -> tuple[float, float]:
    """Limit a move ``(dx, dy)`` so the box stays inside the image."""
    x1, y1, x2, y2 = bbox
    dx = min(max(dx, -x1), width - x2)
    dy = min(max(dy, -y1), height - y2)
    return dx, dy


def repaired(polygons: Sequence[np.ndarray]) -> tuple[list[np.ndarray], bool]:
    """Valid simple parts for an outline, and whether anything had to be repaired.

    Self-intersecting parts are split with :func:`repair_polygon` (a bow-tie becomes
    two triangles); parts with no area are dropped; parts that overlap each other (a
    point of one part dragged into another) are joined into one, since a cell covers
    the union of its parts and the mask, the canvas fill and COCO's ``area`` must agree.
    Raises :class:`GeometryError` when nothing with area is left.
    """
    out: list[np.ndarray] = []
    changed = False
    for polygon in polygons:
        if len(polygon) >= MIN_VERTICES and is_valid_polygon(polygon):
            out.append(np.asarray(polygon, dtype=np.float64))
            continue
        changed = True
        try:
            out.extend(repair_polygon(polygon))
        except GeometryError:
            continue
    if not out:
        raise GeometryError("the outline encloses no area")
    joined = join_overlapping(out)
    return joined, changed or len(joined) != len(out)
