"""Stain-aware colour features for May-Grünwald-Giemsa (and similar) smears.

Why optical density: a smear is a thin absorbing layer on a lit background, so
``OD = -log10(I / I_background)`` is (Beer-Lambert) proportional to the amount
of dye per pixel and independent of the lamp colour. Dividing by the image's own
background colour is the stain normalisation step: PBC's pinkish-white, Zheng's
yellow and some PBC images' bluish backgrounds all become OD ~ 0.

Contract: every function takes an RGB ``uint8`` ``(H, W, 3)`` image (or the
float OD array made from it) and returns arrays of the same height and width.
OD channels are in image channel order ``(red, green, blue)``; purple nuclei
absorb red light strongly, pink red cells hardly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Share of the brightest pixels whose median colour is taken as the background.
BRIGHTEST_FRACTION = 0.03
MAX_OD = 3.0


def background_colour(rgb: np.ndarray, fraction: float = BRIGHTEST_FRACTION) -> np.ndarray:
    """Median RGB colour (float, shape ``(3,)``) of the brightest ``fraction`` of pixels.

    Smear images always show some empty glass; it is the brightest part.
    """
    pixels = rgb.reshape(-1, 3).astype(np.float32)
    brightness = pixels.sum(axis=1)
    cut = np.percentile(brightness, 100.0 * (1.0 - fraction))
    white = np.median(pixels[brightness >= cut], axis=0)
    return np.maximum(white, 1.0)


def optical_density(rgb: np.ndarray, white: np.ndarray | None = None) -> np.ndarray:
    """Per-channel optical density ``(H, W, 3)`` float32, 0 on background, >= 0."""
    if white is None:
        white = background_colour(rgb)
    ratio = (rgb.astype(np.float32) + 1.0) / (np.asarray(white, np.float32) + 1.0)
    od = -np.log10(np.clip(ratio, 10.0 ** -MAX_OD, 1.0))
    return od.astype(np.float32)


def otsu_threshold(values: np.ndarray) -> float:
    """Otsu's threshold of a 1-D float sample (histogram of 256 bins over its range)."""
    values = np.asarray(values, np.float32).ravel()
    if values.size == 0:
        return 0.0
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-6:
        return high
    scaled = ((values - low) / (high - low) * 255.0).astype(np.uint8).reshape(-1, 1)
    t, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return low + (float(t) + 0.5) / 255.0 * (high - low)


@dataclass
class StainFeatures:
    """Smoothed colour features of one (working-resolution) image.

    ``od``: ``(H, W, 3)`` optical density; ``total``: summed OD (how much dye);
    ``purple``: red-channel OD (nuclei, platelets, basophilic cytoplasm are high,
    red cells and eosinophil granules low); ``display``: an 8-bit 3-channel image
    of the OD for OpenCV's colour watershed (edges between differently stained
    regions are steps in it).
    """

    od: np.ndarray
    total: np.ndarray
    purple: np.ndarray
    display: np.ndarray
    white: np.ndarray


def stain_features(rgb: np.ndarray, sigma: float = 1.0) -> StainFeatures:
    """Compute :class:`StainFeatures` of an RGB ``uint8`` image (smoothed by ``sigma`` px)."""
    white = background_colour(rgb)
    od = optical_density(rgb, white)
    if sigma > 0:
        od = cv2.GaussianBlur(od, (0, 0), sigma)
    total = od.sum(axis=2)
    display = np.clip(od * 160.0, 0, 255).astype(np.uint8)
    return StainFeatures(od=od, total=total, purple=od[..., 0], display=display, white=white)
