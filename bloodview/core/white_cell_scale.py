"""Magnification of a one-cell crop without red cells, from the size of its white cell.

Red cells (:mod:`bloodview.core.scale`) are the reliable ruler, but a tight crop of one
white cell often has none whole: another lab's 120-px crops (Zheng et al.) show only faint
rings cut by the edges. Before this module such a crop was read as if framed like the
model's training crops, which for those crops is 1.8x off and costs most of their cells'
classes. The white cell itself is a coarser ruler: in a dried, stained film a normal white
cell is about 10-15 µm across (lymphocytes 7-10, neutrophils 12-15, monocytes up to 20;
B. J. Bain, *Blood Cells: A Practical Guide*), so assuming :data:`WHITE_CELL_DIAMETER_UM`
puts a crop within roughly ±25 % of its true scale: close enough for the detector and the
cell classifier (trained with zoom jitter), far better than a framing guess. The estimate
is therefore always ``"weak"`` and is never used to give cells a size in µm (that would
only return the assumption).

How: optical density relative to the glass (the brightest tenth of the pixels); the
nucleus is the dark (Otsu within the stained pixels) component that is largest and
nearest the centre, with its lobes; the cell is everything stained above
:data:`CELL_OD_SHARE` of the way from glass to nucleus that connects to it, closed and
opened at a third of the nucleus radius, holes filled. The result is refused when it does
not look like one whole cell: touching the image edge, or not convex (merged with
neighbouring red cells, as in a crowded field), or too small a part of the crop.

Measured (docs/scale.md): Zheng Dataset 1, 300 crops: 90 % get an estimate, the cell's
diameter against the expert masks' p10-p90 0.94-1.02, outline IoU 0.94 (median).
"""

from __future__ import annotations

import cv2
import numpy as np

from bloodview.core.scale import RBC_DIAMETER_UM, ScaleEstimate, optical_density

SOURCE_WHITE_CELL = "white cell"
WHITE_CELL_DIAMETER_UM = 12.5
"""Assumed diameter of the crop's white cell: the median whole white cell of Zheng's 300
expert masks (12.5 µm at the 0.17 µm/px their red-cell rings give) and of the PBC ``val``
cells this module outlines whole (12.4 µm at PBC's 0.103 µm/px)."""
CELL_OD_SHARE = 0.15
"""A pixel belongs to the cell when its OD is this share of the way from the glass to the nucleus."""
MIN_SOLIDITY = 0.9
"""Area / convex-hull area below this: the outline ran into neighbours; no estimate."""
MAX_EDGE_SHARE = 0.05
"""Share of the image's border pixels the cell may cover (a cell cut by the edge measures short)."""
MIN_FRAME_SHARE = 0.3
"""The cell's diameter must be at least this share of the crop's shorter side: a crop framed on one
cell (Zheng's: 0.5-0.7; PBC's, framed with room for neighbours: 0.25-0.4). In a looser frame the
central object may be a platelet or a neighbour's piece, and the framing fallback is as good."""
MAX_CENTRE_OFFSET = 0.3
"""The nucleus must lie within this share of the crop's size from its centre."""


def estimate_scale_from_white_cell(image: np.ndarray) -> ScaleEstimate | None:
    """Pixel size of a crop centred on one white cell, or ``None`` when it is not such a crop.

    ``image``: uint8 RGB ``(H, W, 3)`` (or RGBA). ``source`` is :data:`SOURCE_WHITE_CELL`,
    ``confidence`` always ``"weak"``, ``cells_measured`` 1.
    """
    diameter = central_white_cell_diameter(image)
    if diameter is None:
        return None
    um_per_pixel = WHITE_CELL_DIAMETER_UM / diameter
    return ScaleEstimate(
        um_per_pixel=um_per_pixel,
        rbc_diameter_px=RBC_DIAMETER_UM / um_per_pixel,
        cells_measured=1,
        source=SOURCE_WHITE_CELL,
        confidence="weak",
    )


def central_white_cell_diameter(image: np.ndarray) -> float | None:
    """Equivalent-circle diameter (px) of the white cell at the centre of ``image``, or ``None``."""
    cell = central_white_cell_mask(image)
    if cell is None:
        return None
    return float(2.0 * np.sqrt(cell.sum() / np.pi))


def central_white_cell_mask(image: np.ndarray) -> np.ndarray | None:
    """Bool mask ``(H, W)`` of the whole white cell at the centre, or ``None`` when none is clear."""
    rgb = np.asarray(image)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4) or rgb.dtype != np.uint8 or min(rgb.shape[:2]) < 16:
        return None
    rgb = np.ascontiguousarray(rgb[:, :, :3])
    od = _summed_density(rgb)
    nucleus = _central_nucleus(od)
    if nucleus is None:
        return None
    cell = _cell_around(od, nucleus)
    return cell if _is_one_whole_cell(cell) else None


def _summed_density(rgb: np.ndarray) -> np.ndarray:
    smooth = cv2.GaussianBlur(rgb, (0, 0), 1.0)
    pixels = smooth.reshape(-1, 3)
    brightness = pixels.sum(axis=1, dtype=np.int32)
    glass = np.median(pixels[brightness >= np.percentile(brightness, 90)], axis=0)
    return optical_density(smooth, glass).sum(axis=2)


def _otsu(values: np.ndarray) -> float:
    """Otsu threshold of float ``values`` (on a 256-level scale of their range)."""
    top = float(values.max())
    if top <= 0:
        return np.inf
    levels = np.clip(values / top * 255.0, 0, 255).astype(np.uint8).reshape(-1, 1)
    threshold, _ = cv2.threshold(levels, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(threshold) / 255.0 * top


def _central_nucleus(od: np.ndarray) -> np.ndarray | None:
    """The nucleus (with its lobes) nearest the centre: the darkest class of the stained pixels."""
    height, width = od.shape
    stained = od > _otsu(od)
    if stained.sum() < 0.01 * od.size:
        return None
    dark = od > _otsu(od[stained]) if stained.any() else stained
    count, labels, stats, centres = cv2.connectedComponentsWithStats(dark.astype(np.uint8))
    if count <= 1:
        return None
    distance = np.hypot(centres[1:, 0] - width / 2.0, centres[1:, 1] - height / 2.0)
    areas = stats[1:, cv2.CC_STAT_AREA].astype(float)
    best = int(np.argmax(areas / (1.0 + (distance / (0.25 * max(height, width))) ** 2))) + 1
    nucleus = labels == best
    radius = float(np.sqrt(nucleus.sum() / np.pi))
    reach = cv2.dilate(nucleus.astype(np.uint8), _disc(radius)).astype(bool)
    for label in range(1, count):  # a segmented nucleus: its other lobes lie within a radius
        if label != best and stats[label, cv2.CC_STAT_AREA] > 0.05 * nucleus.sum() and (reach & (labels == label)).any():
            nucleus |= labels == label
    y, x = np.nonzero(nucleus)
    if abs(y.mean() - height / 2.0) > MAX_CENTRE_OFFSET * height or abs(x.mean() - width / 2.0) > MAX_CENTRE_OFFSET * width:
        return None
    return nucleus


def _cell_around(od: np.ndarray, nucleus: np.ndarray) -> np.ndarray:
    glass = float(np.median(od[od <= np.percentile(od, 30)]))
    level = glass + CELL_OD_SHARE * (float(np.median(od[nucleus])) - glass)
    disc = _disc(max(1.0, 0.35 * np.sqrt(nucleus.sum() / np.pi)))
    stained = cv2.morphologyEx((od > level).astype(np.uint8), cv2.MORPH_CLOSE, disc)
    stained = cv2.morphologyEx(stained, cv2.MORPH_OPEN, disc).astype(bool) | nucleus
    _, labels = cv2.connectedComponents(stained.astype(np.uint8))
    touching = np.unique(labels[nucleus])
    cell = np.isin(labels, touching[touching > 0]).astype(np.uint8)
    contours, _ = cv2.findContours(cell, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(cell)
    cv2.drawContours(filled, contours, -1, 1, -1)
    return filled.astype(bool)


def _is_one_whole_cell(cell: np.ndarray) -> bool:
    contours, _ = cv2.findContours(cell.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return False
    largest = max(contours, key=cv2.contourArea)
    hull = cv2.contourArea(cv2.convexHull(largest))
    if hull <= 0 or cv2.contourArea(largest) / hull < MIN_SOLIDITY:
        return False
    edge = np.concatenate([cell[0], cell[-1], cell[:, 0], cell[:, -1]])
    if edge.mean() > MAX_EDGE_SHARE:
        return False
    diameter = 2.0 * np.sqrt(cell.sum() / np.pi)
    return diameter >= MIN_FRAME_SHARE * min(cell.shape)


def _disc(radius: float) -> np.ndarray:
    side = 2 * int(round(radius)) + 1
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
