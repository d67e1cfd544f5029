"""Small binary-mask helpers (OpenCV only) shared by the segmenters.

Masks are ``bool`` ``(H, W)`` arrays; radii are in pixels of the array given.
"""

from __future__ import annotations

import cv2
import numpy as np


def disk(radius: float) -> np.ndarray:
    """Elliptic structuring element of the given radius (at least 3x3)."""
    r = max(1, int(round(radius)))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def dilate(mask: np.ndarray, radius: float) -> np.ndarray:
    if radius <= 0:
        return mask.copy()
    return cv2.dilate(mask.astype(np.uint8), disk(radius)).astype(bool)


def erode(mask: np.ndarray, radius: float) -> np.ndarray:
    if radius <= 0:
        return mask.copy()
    return cv2.erode(mask.astype(np.uint8), disk(radius)).astype(bool)


def open_(mask: np.ndarray, radius: float) -> np.ndarray:
    if radius <= 0:
        return mask.copy()
    return cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, disk(radius)).astype(bool)


def close(mask: np.ndarray, radius: float) -> np.ndarray:
    if radius <= 0:
        return mask.copy()
    padded = cv2.copyMakeBorder(mask.astype(np.uint8), *(int(radius) + 1,) * 4, cv2.BORDER_REPLICATE)
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, disk(radius))
    p = int(radius) + 1
    return closed[p:-p, p:-p].astype(bool)


def fill_holes(mask: np.ndarray, max_area: float | None = None) -> np.ndarray:
    """Set every background region that does not reach the image border
    (only those of at most ``max_area`` pixels when given)."""
    m = mask.astype(np.uint8)
    h, w = m.shape
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = m
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((h + 4, w + 4), np.uint8), (0, 0), 1)
    holes = flood[1:-1, 1:-1] == 0
    if max_area is not None and holes.any():
        count, labels, stats = components(holes)
        small = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] <= max_area]
        holes = np.isin(labels, small)
    return mask.astype(bool) | holes


def components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """``(count, labels, stats)`` of 8-connected regions (label 0 is background)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return count, labels, stats


def keep_touching(mask: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """The connected regions of ``mask`` that share a pixel with ``seed``."""
    count, labels, _ = components(mask)
    if count <= 1:
        return mask.astype(bool)
    hit = np.unique(labels[seed & mask])
    hit = hit[hit > 0]
    return np.isin(labels, hit)


def largest_component(mask: np.ndarray) -> np.ndarray:
    count, labels, stats = components(mask)
    if count <= 1:
        return mask.astype(bool)
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == best


def distance_to(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance (px, float32) of every pixel to the nearest set pixel of ``mask``."""
    if not mask.any():
        return np.full(mask.shape, np.float32(1e6))
    return cv2.distanceTransform((~mask.astype(bool)).astype(np.uint8), cv2.DIST_L2, 5)


def inside_distance(mask: np.ndarray) -> np.ndarray:
    """Distance (px) of each set pixel to the nearest unset pixel (0 outside)."""
    return cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)


def star_clip(mask: np.ndarray, centre: tuple[float, float], rays: int = 72,
              window: int = 25, slack: float = 1.2, margin: float = 2.0) -> np.ndarray:
    """Cut narrow protrusions off a roughly round region.

    The outline radius is measured along ``rays`` directions from ``centre``
    ``(x, y)``; each radius is capped at ``slack`` x the circular median over
    ``window`` neighbouring rays plus ``margin`` px. A red cell glued to a white
    cell makes a bump a few rays wide; the cap removes it, a round cell is kept.
    """
    h, w = mask.shape
    cx, cy = centre
    max_r = int(np.hypot(h, w)) + 1
    polar = cv2.warpPolar(mask.astype(np.uint8) * 255, (max_r, rays), (cx, cy), max_r,
                          cv2.WARP_POLAR_LINEAR + cv2.INTER_NEAREST + cv2.WARP_FILL_OUTLIERS)
    inside = polar > 127
    idx = np.arange(max_r)
    radius = np.where(inside.any(axis=1), (inside * idx).max(axis=1) + 1, 0).astype(np.float32)
    half = window // 2
    ring = np.concatenate([radius[-half:], radius, radius[:half]])
    stacked = np.stack([ring[i:i + rays] for i in range(window)])
    cap = np.median(stacked, axis=0) * slack + margin
    limit = np.minimum(radius, cap)
    angles = np.arange(rays) * 2 * np.pi / rays
    pts = np.stack([cx + limit * np.cos(angles), cy + limit * np.sin(angles)], axis=1)
    hull = np.zeros((h, w), np.uint8)
    cv2.fillPoly(hull, [np.round(pts).astype(np.int32)], 1)
    return mask & hull.astype(bool)


def convex_hull(mask: np.ndarray) -> np.ndarray:
    """The filled convex hull of all set pixels (empty stays empty)."""
    points = cv2.findNonZero(mask.astype(np.uint8))
    if points is None:
        return mask.astype(bool)
    hull = np.zeros(mask.shape, np.uint8)
    cv2.fillPoly(hull, [cv2.convexHull(points)], 1)
    return hull.astype(bool)


def smooth(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Blur the 0/1 mask by ``sigma`` px and threshold at 0.5 (rounds ragged outlines)."""
    if sigma <= 0:
        return mask.astype(bool)
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma) >= 0.5


def resize_mask(mask: np.ndarray, width: int, height: int, smooth: float = 0.0) -> np.ndarray:
    """Resample a mask to ``(height, width)`` with a smooth outline.

    Linear interpolation of the 0/1 image, an optional Gaussian of ``smooth`` px
    (target resolution), then a 0.5 threshold: outlines follow the shape, not
    the staircase of the coarse grid.
    """
    soft = cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    if smooth > 0:
        soft = cv2.GaussianBlur(soft, (0, 0), smooth)
    return soft >= 0.5


def flood_markers(relief: np.ndarray, markers: np.ndarray, allowed: np.ndarray, levels: int = 24) -> np.ndarray:
    """Marker-controlled watershed by immersion on a scalar ``relief`` (low floods first).

    ``markers`` is an int32 ``(H, W)`` array (0 = unlabelled, 1..K labels);
    labels grow, level by level, into 8-connected ``allowed`` pixels whose
    relief is at or below the current level; where labels meet, the one that
    arrives first keeps the pixel. Returns the filled label image (pixels never
    reached keep 0). OpenCV's own ``cv2.watershed`` floods by local colour steps
    instead, which leaks through soft (blurred) cell edges. The work is done in
    the bounding box of ``allowed`` (plus one pixel), where labels can change.
    """
    labels = markers.astype(np.int32).copy()
    if not allowed.any():
        return labels
    ys, xs = np.nonzero(allowed)
    y0, y1 = max(0, ys.min() - 1), min(allowed.shape[0], ys.max() + 2)
    x0, x1 = max(0, xs.min() - 1), min(allowed.shape[1], xs.max() + 2)
    sub = labels[y0:y1, x0:x1]
    free = allowed[y0:y1, x0:x1] & (sub == 0)
    ridge = relief[y0:y1, x0:x1]
    ids = [int(i) for i in np.unique(sub) if i > 0]
    if not ids:
        return labels
    kernel = np.ones((3, 3), np.uint8)
    region = [(sub == i).astype(np.uint8) for i in ids]
    low, high = float(ridge[free].min()), float(ridge[free].max())
    for level in np.linspace(low, high, levels):
        open_ = free & (ridge <= level)
        while open_.any():
            grew = False
            for i, current in zip(ids, region):
                front = cv2.dilate(current, kernel).astype(bool) & open_
                if front.any():
                    current[front] = 1
                    sub[front] = i
                    open_ &= ~front
                    free &= ~front
                    grew = True
            if not grew:
                break
    return labels
