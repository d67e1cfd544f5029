"""Checking outlines read from other tools before they become :class:`Instance`s.

Contract: polygons are ``(N, 2)`` float64 ``(x, y)`` arrays in image pixels.
An outline with fewer than 3 distinct points is refused (:class:`FormatError`
naming the file and the region). An outline that crosses the image border is
clipped to ``[0, width] x [0, height]`` with a logged warning; one that lies
wholly outside the image is skipped with a logged warning (the rest of the file is kept).
Overlapping parts of one cell are joined after reading (:func:`join_overlapping_parts`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bloodview.core.annotation import Dataset
from bloodview.core.geometry import as_polygon, clip_polygon, is_valid_polygon, join_overlapping, polygon_area
from bloodview.errors import FormatError, GeometryError

log = logging.getLogger(__name__)


def polygon_from_points(points: object, source: str | Path, where: str) -> np.ndarray:
    """A polygon from a flat ``[x0, y0, x1, y1, ...]`` list or ``[[x, y], ...]`` pairs."""
    try:
        polygon = as_polygon(points)  # type: ignore[arg-type]
    except (GeometryError, ValueError, TypeError) as exc:
        raise FormatError(source, f"{where}: outline is not a list of numbers ({exc})") from exc
    if len({(x, y) for x, y in polygon.tolist()}) < 3:
        raise FormatError(source, f"{where}: outline has {len(polygon)} point(s); a cell outline needs at least 3")
    return polygon


def polygon_from_xy(xs: object, ys: object, source: str | Path, where: str) -> np.ndarray:
    """A polygon from separate x and y lists (VIA ``all_points_x/all_points_y``)."""
    if not isinstance(xs, Sequence) or not isinstance(ys, Sequence) or len(xs) != len(ys):
        raise FormatError(source, f"{where}: all_points_x and all_points_y must be lists of the same length")
    return polygon_from_points([[x, y] for x, y in zip(xs, ys)], source, where)


def fit_to_image(
    polygons: Sequence[np.ndarray], width: int, height: int, source: str | Path, where: str
) -> list[np.ndarray]:
    """Clip outlines to the image; drop, with a warning, those with no area inside it.

    An empty list means the whole object lies outside the image: callers skip that
    object and keep reading, so one stray box (BCCD has a few) does not stop an import.
    """
    fitted: list[np.ndarray] = []
    for polygon in polygons:
        inside = (
            polygon[:, 0].min() >= 0 and polygon[:, 1].min() >= 0
            and polygon[:, 0].max() <= width and polygon[:, 1].max() <= height
        )
        if inside:
            fitted.append(polygon)
            continue
        clipped = [p for p in clip_polygon(polygon, width, height) if polygon_area(p) > 0]
        if not clipped:
            log.warning("%s: %s: outline lies outside the %dx%d image; skipped", source, where, width, height)
            continue
        log.warning("%s: %s: outline crosses the image border; clipped to the image", source, where)
        fitted.extend(clipped)
    return fitted


def join_overlapping_parts(dataset: Dataset, source: str | Path) -> int:
    """Join the overlapping parts of each cell of ``dataset`` into one outline; how many cells changed.

    Why: a cell covers the union of its parts, but :attr:`Instance.area` sums them, so a COCO
    cell of two overlapping polygons had ``area`` 2800 where pycocotools counts 2000 pixels,
    was exported so, and measured too large in µm. Done once per dataset after reading, not in
    :func:`fit_to_image`: LabelMe ``group_id`` groups and VIA regions sharing a record are
    joined into one cell only after their shapes are read one by one. Parts that overlap
    nothing stay as they are, as do box-only cells (a union of boxes is no box) and
    self-intersecting parts (kept as read; joining needs valid parts). Each joined cell is
    logged as a warning (summarised by :mod:`bloodview.io.read_warnings`).
    """
    changed = 0
    for image in dataset.images:
        for index, instance in enumerate(image.instances):
            if len(instance.polygons) < 2 or instance.box_only:
                continue
            valid = [p for p in instance.polygons if is_valid_polygon(p)]
            if len(valid) < 2:
                continue
            joined = join_overlapping(valid)
            if len(joined) == len(valid):
                continue
            instance.polygons = joined + [p for p in instance.polygons if not any(p is v for v in valid)]
            changed += 1
            log.warning("%s: %s: parts of one cell overlap; joined into one outline (its area counted once)",
                        source, f"{image.image_path.as_posix()} cell {index + 1}")
    return changed
