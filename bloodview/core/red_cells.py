"""Red cells found and outlined by classical image analysis, for counting them in a field.

Labs count red cells to give the platelet estimate per 1,000 red cells and to see a field's
density; the detector network was trained on white cells and platelets only, so red cells come
from here. A red cell is a disc about 7.5 µm across (:data:`bloodview.core.scale.RBC_DIAMETER_UM`),
whatever the lab, so at a known pixel size its edge is a circle of known radius:

1. the image is brought to :data:`WORK_UM` µm per pixel (a red cell ~30 px across);
2. circles of 0.65-1.35 red-cell radii are voted for on the edges of the green channel, its
   contrast stretched (Hough transform: a cell whose rim shows over half its length is found even inside a clump, where
   a threshold alone sees one blob);
3. a circle is kept when most of its disc is red-cell-coloured stain
   (:func:`bloodview.core.scale.cell_masks`), little of it is a white cell's nucleus or lies on
   a cell the caller already found (``exclude``: the model's white cells and platelets), and it
   does not mostly repeat a circle with more votes;
4. each kept cell is outlined by the stain round its centre, shared with touching cells along the
   line between them (each pixel goes to the nearest centre, in each cell's own radii) and never
   over a cell found otherwise; an outline that does not look like one cell (too small, too large)
   falls back to the circle.

Measured on the 72 BCCD ``test`` fields (box IoU >= 0.5 against the red-cell boxes):
``benchmarks/fields.py --only bccd``, see docs/model.md. NumPy + OpenCV only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from bloodview.core.instance import Instance, Source
from bloodview.core.scale import RBC_DIAMETER_UM, cell_masks

RED_CELL_CLASS = "rbc"
"""The class name red cells get (as BCCD and VOC files spell it; any spelling resolves to it,
:func:`bloodview.core.classes.is_red_cell_name`)."""
ORIGIN = "red-cell finder"

WORK_UM = 0.25
"""µm per pixel of the copy the search runs on: a red cell is 30 px across."""
MAX_WORK_PIXELS = 6_000_000
"""The work copy of a huge frame is shrunk further, so memory stays bounded."""
RADIUS_RANGE = (0.65, 1.35)
"""Circles searched, in red-cell radii (3.75 µm): small and large red cells, sizes misjudged."""
MIN_DISTANCE = 1.1
"""Circle centres at least this many radii apart (OpenCV's own first suppression)."""
HOUGH_EDGE = 80
"""Canny's upper threshold on the blurred green channel (grey levels, after the stretch below)."""
STRETCH_PERCENTILES = (1.0, 99.0)
"""The green channel's levels mapped to 0 and 255 before the edges are found."""
HOUGH_VOTES = 18
"""Accumulator votes a circle needs: low, because the stain check below removes what is not a cell."""
HOUGH_DP = 1.5
"""Accumulator resolution (work pixels per accumulator cell)."""
MIN_STAINED = 0.3
"""Share of a circle's disc that must be red-cell stain."""
MAX_NUCLEUS = 0.2
"""Share of a circle's disc that may be white-cell nucleus (or platelet)."""
MAX_EXCLUDED = 0.3
"""Share of a circle's disc that may lie on a cell the caller already found."""
MAX_REPEAT = 0.6
"""Share of a circle's disc that may lie inside a circle kept before it."""
REACH = 1.3
"""How far (in its circle's radii) a cell's outline may reach beyond its circle: Hough often fits
the ring round a red cell's pale centre or its inner rim."""
OUTLINE_AREA = (0.5, 1.7)
"""A traced outline's area, in its circle's areas, to be believed; else the circle is the outline."""
OUTLINE_SMOOTHING = 5
"""Contour points (work pixels) averaged into each point of an outline, taking out the pixel staircase."""
OUTLINE_TOLERANCE = 0.25
"""How far (work pixels) the kept vertices may cut inside the smoothed outline: ~20 vertices round a
free red cell, whose facets no longer show on the image (0.8 gave ~12, a visible polygon)."""


@dataclass(frozen=True)
class RedCell:
    """One red cell: ``polygon`` ``(N, 2)`` (x, y) in the image's pixels; ``centre`` and ``radius``
    of its circle (pixels); ``quality`` 0..1, the share of its disc that is red-cell stain
    (lowered by nucleus or already-found cells on it); ``traced`` False when the outline is the
    circle itself."""

    polygon: np.ndarray
    centre: tuple[float, float]
    radius: float
    quality: float
    traced: bool


def find_red_cells(
    image: np.ndarray, um_per_pixel: float, exclude: Sequence[np.ndarray] = ()
) -> list[RedCell]:
    """The red cells of an RGB ``image`` read at ``um_per_pixel``.

    ``exclude``: outlines (``(N, 2)`` x, y in the image's pixels) of cells found otherwise (white
    cells, platelets): a circle mostly on them is not a red cell. They are filled on the small
    work copy, so a 4000 x 3000 frame's hundred cells cost milliseconds. Cut cells at the image's
    edge are kept (a lab counts what it sees in the field). An image narrower than one red cell
    (a 1 x 1 thumbnail, a 300 x 7 strip) has none: ``[]``. Raises ``ValueError`` for a pixel
    size that is not positive.
    """
    if not np.isfinite(um_per_pixel) or um_per_pixel <= 0:
        raise ValueError(f"a pixel size must be a positive number of µm, got {um_per_pixel!r}")
    rgb = _as_rgb(image)
    height, width = rgb.shape[:2]
    factor = min(um_per_pixel / WORK_UM, float(np.sqrt(MAX_WORK_PIXELS / max(height * width, 1))))
    radius = RBC_DIAMETER_UM / 2.0 / um_per_pixel * factor  # work pixels
    # decided before the resize: a 1 x 1 or 300 x 7 image shrunk to the work scale would be
    # 0 pixels high, which OpenCV refuses; such an image holds no whole red cell anyway
    if radius < 4.0 or min(height, width) * factor < 2 * radius:
        return []  # cells too small to see, or an image smaller than one red cell
    small = rgb if abs(factor - 1.0) < 1e-3 else cv2.resize(
        rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
    if min(small.shape[:2]) < 2 * radius:
        return []  # the resize rounded the copy's side below one red cell
    masks = cell_masks(small)
    if not masks.cells.any():
        return []
    blocked = np.zeros(small.shape[:2], np.uint8)
    outlines = [np.round(np.asarray(p, np.float64) * factor).astype(np.int32) for p in exclude if len(p) >= 3]
    if outlines:
        cv2.fillPoly(blocked, outlines, 1)
    blocked = blocked.astype(bool)
    circles = _vote(small, radius)
    kept = _keep(circles, masks.cells, masks.nuclei, blocked)
    if not kept:
        return []
    outlines = _trace(small, masks.cells, blocked, kept)
    cells = []
    for (x, y, r, quality), outline in zip(kept, outlines):
        if outline is None:
            continue
        polygon, traced = outline
        polygon = polygon / factor
        polygon[:, 0] = np.clip(polygon[:, 0], 0, width)
        polygon[:, 1] = np.clip(polygon[:, 1], 0, height)
        cells.append(RedCell(polygon, (x / factor, y / factor), r / factor, quality, traced))
    return cells


def red_cell_instances(
    image: np.ndarray, um_per_pixel: float, found: list[Instance] = (), origin: str = ORIGIN
) -> list[Instance]:
    """The red cells of ``image`` as cells of class :data:`RED_CELL_CLASS`, none on the ``found`` cells.

    They are classical guesses (``Source.BOOTSTRAP``, ``quality`` = :attr:`RedCell.quality`, no
    model score): a new detection replaces them, a person's check keeps them, and one whose disc is
    not mostly clean stain is left below the review threshold, out of the count.
    """
    polygons = [p for cell in found for p in cell.polygons]
    return [
        Instance([cell.polygon], RED_CELL_CLASS, source=Source.BOOTSTRAP, quality=round(cell.quality, 3),
                 origin=origin, extra={"outline": "traced" if cell.traced else "circle"})
        for cell in find_red_cells(image, um_per_pixel, polygons)
    ]


def _as_rgb(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] < 3:
        raise ValueError(f"expected an RGB image, got shape {array.shape}")
    array = array[:, :, :3]
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(array)


def _vote(small: np.ndarray, radius: float) -> np.ndarray:
    """Candidate circles ``(N, 3)`` (x, y, r) in work pixels, most votes first."""
    green = cv2.GaussianBlur(small[:, :, 1], (0, 0), 1.0).astype(np.float32)
    # the edge threshold is in grey levels: stretch the channel so a paler stain, a dimmer lamp or a
    # flatter camera gives the same edges (halving the contrast halved the cells found without it)
    low, high = np.percentile(green, STRETCH_PERCENTILES)
    green = np.clip((green - low) * (255.0 / max(high - low, 1.0)), 0, 255).astype(np.uint8)
    found = cv2.HoughCircles(
        green, cv2.HOUGH_GRADIENT, dp=HOUGH_DP, minDist=MIN_DISTANCE * radius, param1=HOUGH_EDGE,
        param2=HOUGH_VOTES, minRadius=int(RADIUS_RANGE[0] * radius), maxRadius=int(np.ceil(RADIUS_RANGE[1] * radius)),
    )
    return np.zeros((0, 3)) if found is None else found[0].astype(np.float64)


def _keep(circles: np.ndarray, cells: np.ndarray, nuclei: np.ndarray, blocked: np.ndarray) -> list[tuple]:
    """The circles that are red cells: ``(x, y, r, quality)`` each, in vote order."""
    h, w = cells.shape
    taken = np.zeros((h, w), np.uint8)
    kept = []
    for x, y, r in circles:
        x0, y0 = max(0, int(x - r - 1)), max(0, int(y - r - 1))
        x1, y1 = min(w, int(x + r + 2)), min(h, int(y + r + 2))
        if x1 <= x0 or y1 <= y0:
            continue
        disc = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.circle(disc, (int(round(x - x0)), int(round(y - y0))), int(round(r)), 1, -1)
        inside = disc.astype(bool)
        area = inside.sum()
        if area == 0:
            continue
        stained = cells[y0:y1, x0:x1][inside].mean()
        nucleus = nuclei[y0:y1, x0:x1][inside].mean()
        excluded = blocked[y0:y1, x0:x1][inside].mean()
        repeat = taken[y0:y1, x0:x1][inside].mean()
        if stained < MIN_STAINED or nucleus > MAX_NUCLEUS or excluded > MAX_EXCLUDED or repeat > MAX_REPEAT:
            continue
        quality = float(np.clip(stained - nucleus - excluded, 0.0, 1.0))
        kept.append((float(x), float(y), float(r), quality))
        taken[y0:y1, x0:x1] |= disc
    return kept


def _trace(small: np.ndarray, stained: np.ndarray, blocked: np.ndarray,
           kept: list[tuple]) -> list[tuple[np.ndarray, bool] | None]:
    """Each kept cell's ``(outline, traced)`` in work pixels, or None when nothing of it is left.

    Its *own* pixels are those within :data:`REACH` radii of its centre that are nearer to it than
    to any other kept cell (distances in each cell's own radii) and not on a cell found otherwise;
    the outline is the convex hull of its stained own pixels (a red cell's pale centre filled),
    else its circle, cut to its own pixels either way.
    """
    h, w = stained.shape
    centres = np.array([(x, y) for x, y, _, _ in kept])
    radii = np.array([r for _, _, r, _ in kept])
    outlines: list[tuple[np.ndarray, bool] | None] = []
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    for k, (x, y, r, _) in enumerate(kept):
        x0, y0 = max(0, int(x - REACH * r)), max(0, int(y - REACH * r))
        x1, y1 = min(w, int(x + REACH * r) + 2), min(h, int(y + REACH * r) + 2)
        # only a cell whose reach overlaps this one's can take its pixels (squared distances, in
        # each cell's own radii: the same order as the distances, without the square roots)
        near = np.flatnonzero(np.hypot(centres[:, 0] - x, centres[:, 1] - y) < REACH * (r + radii))
        dx = (np.arange(x0, x1) - centres[near, 0, None]) ** 2
        dy = (np.arange(y0, y1) - centres[near, 1, None]) ** 2
        scaled = (dy[:, :, None] + dx[:, None, :]) / (radii[near, None, None] ** 2)
        own = (near[np.argmin(scaled, axis=0)] == k) & (scaled[int(np.searchsorted(near, k))] <= REACH**2)
        own &= ~blocked[y0:y1, x0:x1]
        region = cv2.morphologyEx((own & stained[y0:y1, x0:x1]).astype(np.uint8), cv2.MORPH_OPEN, kernel)
        outlines.append(_outline(region, own, (x - x0, y - y0, r), (x0, y0)))
    return outlines


def _outline(region: np.ndarray, own: np.ndarray, circle: tuple[float, float, float],
             origin: tuple[int, int]) -> tuple[np.ndarray, bool] | None:
    cx, cy, r = circle
    circle_area = np.pi * r * r
    shape = np.zeros(region.shape, np.uint8)
    traced = False
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if contours:
        # the convex hull: a red cell is a disc, and its pale centre (a hole, or a bay where the
        # pallor meets the cell's edge) belongs to it
        hull = cv2.convexHull(max(contours, key=cv2.contourArea))
        if OUTLINE_AREA[0] * circle_area <= cv2.contourArea(hull) <= OUTLINE_AREA[1] * circle_area:
            cv2.drawContours(shape, [hull], -1, 1, -1)
            traced = True
    if not traced:
        cv2.circle(shape, (int(round(cx)), int(round(cy))), int(round(r)), 1, -1)
    shape &= own.astype(np.uint8)
    contours, _ = cv2.findContours(shape, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    if cv2.contourArea(contour) < OUTLINE_AREA[0] * circle_area / 2:
        return None  # hardly anything of it off the cells found otherwise
    points = _smoothed(contour[:, 0, :].astype(np.float32))
    contour = cv2.approxPolyDP(points.reshape(-1, 1, 2), OUTLINE_TOLERANCE, True)
    if len(contour) < 3:
        return None
    # contour points are pixel centres: +0.5 puts them on the pixel grid's corners' scale
    return contour[:, 0, :].astype(np.float64) + np.array([origin[0] + 0.5, origin[1] + 0.5]), traced


def _smoothed(points: np.ndarray) -> np.ndarray:
    """A closed pixel contour with each point averaged with its neighbours (:data:`OUTLINE_SMOOTHING`).

    The work copy's contour is a staircase of whole pixels, each ~0.25 µm; on the image, often
    three times finer, the steps showed as corners. Averaging takes them out, so the outline can be
    kept with many vertices and still be a smooth curve."""
    n = len(points)
    if n <= OUTLINE_SMOOTHING:
        return points
    half = OUTLINE_SMOOTHING // 2
    padded = np.concatenate([points[-half:], points, points[:half]])
    kernel = np.full(OUTLINE_SMOOTHING, 1.0 / OUTLINE_SMOOTHING, np.float32)
    return np.stack([np.convolve(padded[:, i], kernel, mode="valid") for i in (0, 1)], axis=1)
