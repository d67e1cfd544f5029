"""Watershed markers and flooding relief for the cell-of-interest segmentation.

Label 1 is the cell of interest (its nucleus group), label 2 everything known
not to be it: glass, other nuclei, cores of neighbouring blobs, pixels
coloured like red cells, pixels too far from the nucleus. All arrays are
working-resolution ``(H, W)``; radii in pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

from bloodview.bootstrap import morphology as morph
from bloodview.bootstrap.params import CellParams, CellPrior
from bloodview.bootstrap.stain import StainFeatures


def cell_markers(
    foreground: np.ndarray,
    nuclei: np.ndarray,
    group: np.ndarray,
    group_radius: float,
    prior: CellPrior,
    params: CellParams,
) -> np.ndarray:
    """Watershed markers: 1 = cell of interest, 2 = everything known not to be it."""
    markers = np.zeros(foreground.shape, np.int32)
    background = ~morph.dilate(foreground, 1)
    others = nuclei & ~group
    to_group = morph.distance_to(group)
    gap = max(3.0, params.foreign_nucleus * group_radius) if prior.lobed else params.foreign_gap
    others &= to_group > gap
    inner = inside_distance_glass_border(foreground)
    window = morph.disk(params.peak_window // 2)
    peaks = (inner >= cv2.dilate(inner, window)) & (inner >= params.min_peak_radius)
    # A peak whose (shrunken) inscribed disc reaches the nucleus belongs to the cell of interest.
    foreign = peaks & (to_group > params.own_peak_reach * inner + 1.0)
    cores = np.zeros(foreground.shape, np.uint8)
    ys, xs = np.nonzero(foreign)
    for y, x in zip(ys, xs):
        cv2.circle(cores, (int(x), int(y)), max(1, int(0.5 * inner[y, x])), 1, -1)
    too_far = to_group > prior.max_growth * group_radius + (1.5 if prior.small else 0.0)
    markers[background | others | cores.astype(bool) | too_far] = 2
    markers[group] = 1
    return markers


def red_cell_cores(
    f: StainFeatures, foreground: np.ndarray, group: np.ndarray, group_radius: float, params: CellParams
) -> np.ndarray:
    """Cores of red-cell-coloured regions (glass-relative colour, learnt per image).

    Red cells absorb relatively more blue light than white-cell cytoplasm
    (OD_blue / OD_total ~ 0.28 vs 0.11-0.23 on PBC). The red-cell colour is
    read from blob cores far from the nucleus and from the image centre; when
    there are too few of them (a crop filled by the cell) or they do not look
    like red cells, nothing is marked.
    """
    inner = inside_distance_glass_border(foreground)
    h, w = foreground.shape
    yy, xx = np.ogrid[0:h, 0:w]
    outer = np.hypot(xx - w / 2.0, yy - h / 2.0) > params.rbc_reference_band * max(h, w)
    far = foreground & outer & (morph.distance_to(group) > params.rbc_reference_distance * group_radius) & (inner > 2)
    if far.sum() < params.rbc_min_reference * far.size:
        return np.zeros_like(foreground)
    blue = cv2.GaussianBlur(f.od[..., 2] / (f.total + 1e-3), (0, 0), 1.5)
    ref_blue = float(np.median(blue[far]))
    ref_total = float(np.median(f.total[far]))
    if ref_blue < params.rbc_min_blue_fraction:
        return np.zeros_like(foreground)
    red_like = foreground & (blue > ref_blue - params.rbc_blue_margin) & (f.total < params.rbc_max_total * ref_total)
    red_like = morph.open_(red_like, 1.5)
    red_like &= morph.distance_to(group) > min(params.rbc_keep_off * group_radius, params.rbc_keep_off_max)
    return morph.erode(red_like, 1)


def inside_distance_glass_border(foreground: np.ndarray) -> np.ndarray:
    """Distance to glass, counting the image border as glass (cut red cells stay small)."""
    padded = cv2.copyMakeBorder(foreground.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    return morph.inside_distance(padded)[1:-1, 1:-1]


def flooding_relief(f: StainFeatures, foreground: np.ndarray, params: CellParams) -> np.ndarray:
    """Flooding relief: deep inside round blobs floods first, stain edges last.

    ``-distance-to-glass`` splits touching round cells at their neck; the OD
    gradient (Sobel, summed over channels) moves the line onto the visible edge.
    """
    inner = inside_distance_glass_border(foreground)
    scale = max(float(inner.max()), 1.0)
    grad = np.zeros(foreground.shape, np.float32)
    for c in range(3):
        gx = cv2.Sobel(f.od[..., c], cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(f.od[..., c], cv2.CV_32F, 0, 1, ksize=3)
        grad += np.sqrt(gx * gx + gy * gy)
    g_scale = max(float(np.percentile(grad[foreground], 95)) if foreground.any() else 1.0, 1e-3)
    return -inner / scale + params.edge_weight * np.minimum(grad / g_scale, 1.5)
