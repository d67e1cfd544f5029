"""Magnification of a smear image, estimated from its red cells.

Why red cells: a normal red cell in a dried, stained film is a disc about 7.5 µm across (normal
range roughly 7-8 µm), whatever the lab, microscope or stain: the textbook figure, e.g. B. J.
Bain, *Blood Cells: A Practical Guide* (Wiley), and the reason haematologists size other cells
against red cells. Nearly every smear image shows several, so the median red-cell diameter in
pixels gives the image's pixel size in µm without knowing the objective, the camera or how
the picture was cropped.

How (see docs/scale.md for figures):

1. Colour. The glass colour is the median of the brightest tenth of the pixels; optical density
   (OD, per channel, relative to the glass) makes the stain independent of the lamp. Red cells
   absorb green light, so green OD above a threshold learnt per image (a third of the typical
   red-cell OD) is "cell". Nuclei are much darker than a red cell, or let blue light through
   where red cells absorb blue nearly as much as green; the large ones are white-cell nuclei.
   Round holes in the cell mask (pale centres, glints) are filled.
2. Cells. The Euclidean distance to the nearest non-cell pixel peaks at each red cell's centre
   with that cell's radius, even inside clumps of touching or overlapping cells (the distance
   from a disc's centre to the outside of a union of discs is that disc's radius). A peak is a
   whole red cell when its disc, grown by 5 %, lies inside the image, no nucleus is next to it,
   and the distance map falls like a cone around it (a ridge is a strip of cytoplasm, a smudged
   cell or a cell's rim). Its radius is a low percentile of 32 rays to the cell's edge: an oval
   cell's mean radius rather than its smallest, while the rays that run on into a touching
   neighbour are ignored.
3. Median. Discs under a third of the largest nucleus are gaps and fragments; the diameters
   within 25 % of the area-weighted median are kept and their median is the red-cell diameter.
   At least ``MIN_CELLS`` whole cells are needed, else there is no estimate.

Speed: the work is done on a copy shrunk so its longer side is ``WORK_SIDE`` pixels; when the
red cells come out small there (or not at all), it is redone on a larger copy of at most
``MAX_WORK_PIXELS`` pixels.

Contract: images are ``uint8`` RGB ``(H, W, 3)`` (RGBA's alpha is ignored) or grey ``(H, W)``;
sizes are in the original image's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

RBC_DIAMETER_UM = 7.5
"""Diameter of a normal red cell in µm (see the module docstring for the sources)."""

WORK_SIDE = 512
"""Longer side, in pixels, of the copy the first measurement is made on."""
MIN_WORK_DIAMETER = 28.0
"""Below this red-cell diameter (work pixels) the measurement is redone on a larger copy."""
TARGET_WORK_DIAMETER = 40.0
"""Red-cell diameter (work pixels) the larger copy is sized for."""
MAX_WORK_PIXELS = 1_500_000
"""Largest copy measured (keeps a 4000 x 3000 frame under a second)."""
STAINED_OD = 0.03
"""Green optical density above the glass below which a pixel counts as glass."""
CELL_FRACTION = 0.33
"""A pixel is red cell when its green OD is above this share of the typical red cell's."""
RED_CELL_MIN_BLUE_RATIO = 0.5
"""Red cells absorb blue light at least half as much as green (nuclei far less: 0-0.3)."""
GLINT_AREA = 30
"""Holes in the cell mask under this many (work) pixels are filled whatever their shape."""
MIN_PEAK_RADIUS = 3.0
RAY_ANGLES = np.linspace(0.0, 2.0 * np.pi, 32, endpoint=False)
RAY_CAP = 1.3
RAY_STEPS = 48
EDGE_MARGIN = 1.05
"""A cell is whole when its inscribed disc, grown by 5 % and 2 px, lies inside the image."""
RAY_PERCENTILE = 35
"""Rays running on into a touching cell are the long ones: a low percentile ignores them."""
ROUND_RAY_LIMIT = 1.2
ROUND_RAY_SHARE = 0.5
"""A whole cell ends within 1.2 inscribed radii on at least half of the rays from its centre."""
CONE_LIMIT = 0.9
"""A disc's distance map halves halfway to its edge; a ridge's stays near its peak."""
NUCLEUS_SHARE = 0.2
"""Dark parts smaller than this share of the largest one are specks, not nuclei."""
MIN_RBC_PER_NUCLEUS = 0.35
"""Smallest red-cell diameter, as a share of the largest nucleus's equivalent diameter."""
MIN_CELLS = 2
"""An estimate needs at least this many whole red cells (one alone is too often a white cell)."""
MIN_CELLS_GOOD = 5
"""An estimate resting on fewer whole red cells is "weak"."""
MAX_SPREAD_GOOD = 0.15
"""Relative spread ((p75 - p25) / median) of the diameters above which the estimate is weak."""
MIN_SIDE = 8
"""Images with a side under this many pixels cannot show two whole red cells: no estimate.

A whole cell needs a distance peak of ``MIN_PEAK_RADIUS`` (3 px) plus the edge margin, and the
glass and smoothing steps need a few pixels round it; a 1 x 1 thumbnail or a 300 x 7 strip (a
scan line, a ruler) is a legal image that simply holds no cell."""


@dataclass(frozen=True)
class ScaleEstimate:
    """Pixel size of an image and what it rests on.

    ``um_per_pixel``: µm per (original) image pixel. ``rbc_diameter_px``: the median red-cell
    diameter measured, in original pixels (``RBC_DIAMETER_UM / um_per_pixel`` when given).
    ``cells_measured``: red cells the median rests on (0 when given). ``source``: ``"red cells"``,
    ``"given"``, ``"model default"``… ``confidence``: ``"good"`` or ``"weak"`` (few cells or a
    large spread). ``spread``: (p75 - p25) / median of the measured diameters.
    """

    um_per_pixel: float
    rbc_diameter_px: float
    cells_measured: int
    source: str
    confidence: str
    spread: float = 0.0


MAGNIFICATION_REACH = (0.125, 8.0)
"""How far a model rescales an image towards its own pixel size (factor = image µm/px ÷ model µm/px).
Beyond it the image is read clipped, its cells larger or smaller than the model learnt them, so its
results need checking (a BCCD field enlarged 12.5x, 2026-12-07: read 1.7x too large, 32 cells found
against 34 in the original field; further out the outlines fall apart)."""


def beyond_reach(um_per_pixel: float, model_um_per_pixel: float | None) -> bool:
    """Whether an image at ``um_per_pixel`` lies outside :data:`MAGNIFICATION_REACH` of a model at
    ``model_um_per_pixel`` (None: a model without a pixel size fits every image, so never)."""
    if not model_um_per_pixel:
        return False
    low, high = MAGNIFICATION_REACH
    return not low <= float(um_per_pixel) / float(model_um_per_pixel) <= high


def scale_from_pixel_size(um_per_pixel: float) -> ScaleEstimate:
    """A pixel size the user knows (calibrated microscope): ``source="given"``, ``"good"``."""
    value = float(um_per_pixel)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"a pixel size must be a positive number of µm, got {um_per_pixel!r}")
    return ScaleEstimate(value, RBC_DIAMETER_UM / value, 0, "given", "good")


def estimate_scale(image: np.ndarray) -> ScaleEstimate | None:
    """Estimate the pixel size of ``image`` from its red cells; ``None`` when none is usable.

    ``None`` too for an image with a side under :data:`MIN_SIDE` pixels, too small to hold a
    cell: callers (the app's Detect, bootstrap, predict) treat it like a field without red cells.
    Raises ``ValueError`` only for an array that is not an image (wrong dtype or shape).
    """
    rgb = _as_rgb(image)
    if min(rgb.shape[:2]) < MIN_SIDE:
        return None
    h, w = rgb.shape[:2]
    factor = min(1.0, WORK_SIDE / max(h, w))
    diameters = _measure(rgb, factor)
    if factor < 1.0:
        largest = min(1.0, float(np.sqrt(MAX_WORK_PIXELS / (h * w))))
        if diameters.size == 0:
            bigger = largest  # cells may be too small to see on the first copy
        elif float(np.median(diameters)) * factor < MIN_WORK_DIAMETER:
            bigger = min(largest, factor * TARGET_WORK_DIAMETER / (float(np.median(diameters)) * factor))
        else:
            bigger = factor
        if bigger > factor * 1.2:
            retry = _measure(rgb, bigger)
            if retry.size >= diameters.size or retry.size >= MIN_CELLS_GOOD:
                diameters = retry
    if diameters.size < MIN_CELLS:
        return None
    median = float(np.median(diameters))
    p25, p75 = np.percentile(diameters, [25, 75])
    spread = float((p75 - p25) / median)
    good = diameters.size >= MIN_CELLS_GOOD and spread <= MAX_SPREAD_GOOD
    return ScaleEstimate(
        um_per_pixel=RBC_DIAMETER_UM / median,
        rbc_diameter_px=median,
        cells_measured=int(diameters.size),
        source="red cells",
        confidence="good" if good else "weak",
        spread=spread,
    )


def _as_rgb(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGB (H, W, 3) or grey (H, W) image, got shape {array.shape}")
    array = array[:, :, :3]
    if array.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {array.dtype}")
    return array


def _measure(rgb: np.ndarray, factor: float) -> np.ndarray:
    """Red-cell diameters (original pixels) measured on a copy shrunk by ``factor``."""
    small = rgb if factor >= 1.0 else cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    masks = cell_masks(small)
    diameters = _peak_diameters(masks.cells, masks.nuclei)
    return _reject_outliers(diameters) / factor


@dataclass
class CellMasks:
    """``cells``: red-cell-coloured pixels, pale centres filled; ``nuclei``: white-cell nuclei
    (the large dark or purple parts). Both bool, the work image's shape."""

    cells: np.ndarray
    nuclei: np.ndarray


def cell_masks(rgb: np.ndarray) -> CellMasks:
    """Split a (work-size) RGB image into red-cell pixels and nucleus/platelet pixels."""
    smooth = cv2.GaussianBlur(rgb, (0, 0), 1.0)
    pixels = smooth.reshape(-1, 3)
    brightness = pixels.sum(axis=1, dtype=np.int32)
    white = np.median(pixels[brightness >= np.percentile(brightness, 90)], axis=0)
    od = optical_density(smooth, white)
    green = od[:, :, 1] - _glass_level(od[:, :, 1])
    empty = np.zeros(green.shape, bool)
    stained = green > STAINED_OD
    if stained.sum() < 0.01 * green.size:
        return CellMasks(empty, empty)
    blue_ratio = od[:, :, 2] / np.maximum(od[:, :, 1], 1e-3)
    reddish = stained & (blue_ratio > RED_CELL_MIN_BLUE_RATIO)
    if reddish.sum() < 0.01 * green.size:
        return CellMasks(empty, empty)
    level = float(np.median(green[reddish]))
    moderate = reddish & (green > 0.6 * level) & (green < 2.0 * level)
    red_cell_blue = float(np.median(blue_ratio[moderate])) if moderate.any() else 0.7
    # Nuclei and platelets: much darker than a red cell, or purple/blue: they let blue light
    # through where red cells absorb blue nearly as much as green.
    purple = (blue_ratio < 0.4 * red_cell_blue) & (green > 0.6 * level)
    dark = _open((green > 2.2 * level) | _open(purple, 2), 1)
    nuclei = _large_parts(dark, NUCLEUS_SHARE)
    cells = (green > max(STAINED_OD, CELL_FRACTION * level)) & ~nuclei
    cells = _fill_round_holes(_open(cells, 1))
    return CellMasks(cells & ~nuclei, nuclei)


def _large_parts(mask: np.ndarray, share: float) -> np.ndarray:
    """The connected parts of ``mask`` at least ``share`` of its largest part's area.

    Keeps white-cell nuclei and drops the small dark specks (platelets, dust, stain
    precipitate) that sit on red cells.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return mask.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(count, bool)
    keep[1:] = areas >= share * areas.max()
    return keep[labels]


def optical_density(rgb: np.ndarray, white: np.ndarray) -> np.ndarray:
    """Per-channel OD ``(H, W, 3)`` float32 relative to ``white``, by table look-up (uint8 in)."""
    levels = np.arange(256, dtype=np.float32)[:, None]
    tables = -np.log10(np.clip((levels + 1.0) / (np.asarray(white, np.float32) + 1.0), 1e-3, 2.0))
    return np.stack([tables[:, c][rgb[:, :, c]] for c in range(3)], axis=2)


def _glass_level(green: np.ndarray) -> float:
    """Green OD of the empty glass: the most common value below the image's median."""
    values = green[green <= np.median(green)]
    counts, edges = np.histogram(values, bins=64)
    counts = np.convolve(counts, np.ones(3) / 3, mode="same")
    peak = int(np.argmax(counts))
    return float((edges[peak] + edges[peak + 1]) / 2)


def _open(mask: np.ndarray, radius: int) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)


def _fill_round_holes(mask: np.ndarray) -> np.ndarray:
    """Fill holes that look like a red cell's pale centre (round, convex), not gaps in a clump."""
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return mask
    out = mask.astype(np.uint8)
    holes = []
    for index, contour in enumerate(contours):
        if hierarchy[0][index][3] < 0:
            continue
        area = cv2.contourArea(contour)
        if area < GLINT_AREA:
            holes.append(contour)
            continue
        perimeter = cv2.arcLength(contour, True)
        hull = cv2.contourArea(cv2.convexHull(contour))
        round_ = 4 * np.pi * area / max(perimeter, 1e-6) ** 2
        if hull > 0 and area / hull > 0.85 and round_ > 0.7:
            holes.append(contour)
    if holes:  # one call for all: a field has hundreds of pale centres
        cv2.drawContours(out, holes, -1, 1, -1)
    return out.astype(bool)


def _peak_diameters(cells: np.ndarray, nuclei: np.ndarray) -> np.ndarray:
    """Diameters (work pixels) of the red cells whose centre is a cone-shaped distance peak.

    A red cell (7.5 µm) is never under a third (``MIN_RBC_PER_NUCLEUS``) of the largest dark
    part's equivalent diameter: a white cell's nucleus (~6-12 µm) or, for a basophil or an
    eosinophil, the whole dark granular cell (up to ~17 µm). Smaller discs are gaps between
    cells, pieces of faint cell rims or platelets, and are dropped.
    """
    found = red_cell_circles(cells, nuclei)
    diameters = found[:, 3] * 2.0 if found.size else np.zeros(0)
    if nuclei.any():
        count, _, stats, _ = cv2.connectedComponentsWithStats(nuclei.astype(np.uint8), connectivity=8)
        nucleus = 2.0 * np.sqrt(stats[1:, cv2.CC_STAT_AREA].max() / np.pi)
        diameters = diameters[diameters >= MIN_RBC_PER_NUCLEUS * nucleus]
    return diameters


def red_cell_circles(cells: np.ndarray, nuclei: np.ndarray) -> np.ndarray:
    """Whole red cells found on the masks: ``(N, 4)`` float ``(x, y, inscribed radius, radius)``.

    The inscribed radius is the distance peak; the radius is the ``RAY_PERCENTILE`` percentile
    of the lengths of rays from the peak to the cell's edge, each ray cut at ``RAY_CAP``
    inscribed radii where it runs on into a touching cell. Mask pixels.
    """
    if not cells.any():
        return np.zeros((0, 4))
    padded = np.pad(cells.astype(np.uint8), 1)
    distance = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    if nuclei.any():
        to_nucleus = cv2.distanceTransform((~nuclei).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    else:
        to_nucleus = np.full(cells.shape, np.inf, np.float32)
    local_max = distance >= cv2.dilate(distance, np.ones((5, 5), np.uint8)) - 1e-3
    ys, xs = np.nonzero(local_max & (distance >= MIN_PEAK_RADIUS))
    if ys.size == 0:
        return np.zeros((0, 4))
    radii = distance[ys, xs]
    order = np.argsort(-radii)
    ys, xs, radii = ys[order], xs[order], radii[order]
    h, w = cells.shape
    kept: list[tuple[int, int, float]] = []
    suppressed = np.zeros((h, w), np.uint8)  # within 0.8 radii of a larger peak already kept
    for y, x, r in zip(ys, xs, radii):
        if suppressed[y, x]:
            continue
        kept.append((int(y), int(x), float(r)))
        cv2.circle(suppressed, (int(x), int(y)), int(0.8 * r), 1, -1)
    if not kept:
        return np.zeros((0, 4))
    y, x, r = (np.asarray(v) for v in zip(*kept))
    y, x = y.astype(int), x.astype(int)
    whole = np.minimum.reduce([x, y, w - 1 - x, h - 1 - y]) >= EDGE_MARGIN * r + 2.0  # not cut by the edge
    clear = to_nucleus[y, x] >= 1.1 * r + 1.0  # not white-cell cytoplasm round a nucleus
    y, x, r = y[whole & clear], x[whole & clear], r[whole & clear]
    cos, sin = np.cos(RAY_ANGLES)[None, :], np.sin(RAY_ANGLES)[None, :]
    half_y = np.round(y[:, None] + 0.5 * r[:, None] * sin).astype(int)
    half_x = np.round(x[:, None] + 0.5 * r[:, None] * cos).astype(int)
    disc = distance[half_y, half_x].max(axis=1) <= CONE_LIMIT * r  # not a ridge
    y, x, r = y[disc], x[disc], r[disc]
    if r.size == 0:
        return np.zeros((0, 4))
    # rays from 0.5 to RAY_CAP inscribed radii, RAY_STEPS samples each
    fractions = np.linspace(0.5, RAY_CAP, RAY_STEPS)
    steps = r[:, None] * fractions[None, :]  # (N, S)
    ray_y = np.round(y[:, None, None] + steps[:, None, :] * sin[:, :, None]).astype(int)
    ray_x = np.round(x[:, None, None] + steps[:, None, :] * cos[:, :, None]).astype(int)
    in_image = (ray_y >= 0) & (ray_y < h) & (ray_x >= 0) & (ray_x < w)
    inside = cells[np.clip(ray_y, 0, h - 1), np.clip(ray_x, 0, w - 1)] & in_image  # (N, angles, S)
    first_out = np.where(inside.all(axis=2), RAY_STEPS - 1, np.argmin(inside, axis=2))
    lengths = np.take_along_axis(steps[:, None, :].repeat(len(RAY_ANGLES), 1), first_out[:, :, None], 2)[:, :, 0]
    ray_length = np.percentile(lengths, RAY_PERCENTILE, axis=1)
    # a cell's edge runs near its inscribed circle most of the way round; a circle inscribed in
    # a clump of overlapping cells whose borders do not show touches its edge at a few points
    round_ = np.mean(lengths <= ROUND_RAY_LIMIT * r[:, None], axis=1) >= ROUND_RAY_SHARE
    x, y, r, ray_length = x[round_], y[round_], r[round_], ray_length[round_]
    # both distances run to the centre of the first pixel outside: the edge is half a pixel in
    circles = np.stack([x, y, r - 0.5, ray_length - 0.5], axis=1)
    return circles.astype(np.float64)


def _reject_outliers(diameters: np.ndarray) -> np.ndarray:
    """Keep the diameters within 25 % of the area-weighted median, twice over.

    Weighting by area (as a granulometry does) keeps many small fragments and platelets from
    pulling the first median down to their size.
    """
    if diameters.size == 0:
        return diameters
    order = np.sort(diameters)
    weights = np.cumsum(order**2)
    centre = float(order[np.searchsorted(weights, weights[-1] / 2)])
    kept = diameters
    for _ in range(3):
        kept = diameters[(diameters > 0.75 * centre) & (diameters < 1.25 * centre)]
        if kept.size == 0:
            return kept
        centre = float(np.median(kept))
    return kept
