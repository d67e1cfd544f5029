"""Bring an image to the scale the bootstrap segmenter was tuned at, and its outlines back.

The segmenter's size limits (nucleus areas, peak radii, keep-off distances in
working pixels) were tuned on PBC crops, whose red cells the estimator of
:mod:`bloodview.core.scale` measures at a median of 72.4 px (docs/scale.md:
480 PBC ``val`` images), i.e. :data:`TUNED_PIXEL_SIZE_UM` µm per pixel. An
image at another magnification (``--pixel-size UM``, or ``auto``: measured on
its red cells) is resized to that scale before segmenting, boxes with it, and
the outlines are mapped back into the image's own pixels. Without a pixel size
nothing changes (the segmenter's behaviour before this module).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from bloodview.core.measure import SOURCE_GIVEN, PixelSize
from bloodview.core.scale import RBC_DIAMETER_UM, estimate_scale

PBC_RBC_DIAMETER_PX = 72.4
TUNED_PIXEL_SIZE_UM = RBC_DIAMETER_UM / PBC_RBC_DIAMETER_PX  # ≈ 0.104 µm per pixel
SAME_SCALE = 0.1
"""Within 10 % (the estimate's own accuracy) an image is left at its size."""
FACTOR_LIMITS = (0.125, 8.0)
"""Resize factors beyond these are clipped (a wrong pixel size must not make a 40,000-px image)."""

PixelSizeOption = float | str | None  # µm per pixel, "auto", or None (no rescaling)


@dataclass(frozen=True)
class Rescale:
    """``factor`` (> 1 enlarges) that brings the image to the tuned scale; ``pixel_size`` it was read at."""

    factor: float = 1.0
    pixel_size: PixelSize | None = None

    def image(self, rgb: np.ndarray) -> np.ndarray:
        if self.factor == 1.0:
            return rgb
        height, width = rgb.shape[:2]
        size = (max(1, round(width * self.factor)), max(1, round(height * self.factor)))
        shrink = self.factor < 1.0
        return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)

    def box(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        return tuple(float(v) * self.factor for v in box)  # type: ignore[return-value]

    def outlines_back(self, polygons: list[np.ndarray], width: int, height: int) -> list[np.ndarray]:
        """Polygons ``(N, 2)`` x, y found on the resized image, in the original image's pixels."""
        if self.factor == 1.0:
            return polygons
        limits = np.array([width, height], dtype=np.float64)
        return [np.clip(np.asarray(p, dtype=np.float64) / self.factor, 0.0, limits) for p in polygons]


def choose_rescale(rgb: np.ndarray, option: PixelSizeOption) -> Rescale:
    """The resize for ``rgb`` given ``--pixel-size`` (µm, ``"auto"`` or ``None``).

    ``auto`` without a usable red-cell estimate leaves the image as it is (and
    records no pixel size), exactly as without the option.
    """
    if option is None:
        return Rescale()
    if option == "auto":
        estimate = estimate_scale(rgb)
        if estimate is None:
            return Rescale()
        pixel_size = PixelSize.from_estimate(estimate)
    else:
        pixel_size = PixelSize(float(option), SOURCE_GIVEN)
    factor = pixel_size.um_per_pixel / TUNED_PIXEL_SIZE_UM
    if abs(factor - 1.0) <= SAME_SCALE:
        factor = 1.0
    low, high = FACTOR_LIMITS
    return Rescale(min(max(factor, low), high), pixel_size)
