"""Training augmentation suited to blood smears (NumPy + OpenCV, no TensorFlow).

Smears have no "up": any flip or quarter turn gives an equally real image, so
those are free. Magnification varies a little between microscopes (small zoom),
and stains vary between labs and batches (small brightness/contrast/hue/
saturation changes). Larger distortions (shear, big rotations, strong colour
changes) would teach the model cells that do not exist and are not used.

Geometry is one 2x3 affine matrix ``A`` acting on *pixel-edge* coordinates
(``(x, y)``; pixel ``(col, row)`` covers ``[col, col+1) x [row, row+1)``, as in
:mod:`bloodview.core.geometry`). The same matrix moves the image (through
:func:`warp_image`) and the cell outlines (through :func:`transform_points`), so
masks and boxes made from the outlines always match the warped pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentSettings:
    """Which augmentations to apply; ``color_jitter`` is the relative strength (0.1 = ±10 %)."""

    flips: bool = True
    rot90: bool = True
    scale_range: tuple[float, float] = (1.0, 1.0)
    color_jitter: float = 0.0
    stain: float = 0.0

    @classmethod
    def from_config(cls, config) -> AugmentSettings:
        low, high = (float(v) for v in config.augment_scale_range)
        if not 0 < low <= high:
            raise ValueError(f"augment_scale_range must be 0 < low <= high, got {config.augment_scale_range}")
        return cls(
            flips=bool(config.augment_flips),
            rot90=bool(config.augment_rot90),
            scale_range=(low, high),
            color_jitter=float(config.augment_color_jitter),
            stain=float(getattr(config, "augment_stain", 0.0)),
        )

    @property
    def enabled(self) -> bool:
        return self.flips or self.rot90 or self.scale_range != (1.0, 1.0) or self.color_jitter > 0 or self.stain > 0


@dataclass(frozen=True)
class Geometry:
    """An affine move of a ``height x width`` image into a ``canvas x canvas`` frame.

    ``matrix`` (2x3) maps pixel-edge ``(x, y)`` of the source to the canvas;
    ``window`` is ``(y1, x1, y2, x2)`` of the canvas that holds image pixels.
    """

    matrix: np.ndarray
    window: tuple[float, float, float, float]


def identity_geometry(height: int, width: int, canvas: int) -> Geometry:
    return Geometry(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (0.0, 0.0, float(min(height, canvas)), float(min(width, canvas))))


def random_geometry(
    rng: np.random.Generator, height: int, width: int, canvas: int, settings: AugmentSettings
) -> Geometry:
    """Random flips, quarter turns and zoom; a zoomed image larger than the canvas is cropped at random.

    The image's top-left corner lands at the canvas origin (padding stays at the
    bottom/right as the model input expects) unless the crop shifts it.
    """
    m = np.eye(3)
    h, w = float(height), float(width)
    if settings.flips and rng.random() < 0.5:
        m = np.array([[-1.0, 0, w], [0, 1, 0], [0, 0, 1]]) @ m
    if settings.flips and rng.random() < 0.5:
        m = np.array([[1.0, 0, 0], [0, -1, h], [0, 0, 1]]) @ m
    if settings.rot90:
        for _ in range(int(rng.integers(0, 4))):
            # A quarter turn: (x, y) -> (y, w - x); the image becomes w high and h wide.
            m = np.array([[0.0, 1, 0], [-1, 0, w], [0, 0, 1]]) @ m
            h, w = w, h
    low, high = settings.scale_range
    zoom = float(rng.uniform(low, high)) if high > low else low
    m = np.diag([zoom, zoom, 1.0]) @ m
    h, w = h * zoom, w * zoom
    dx = -float(rng.uniform(0, w - canvas)) if w > canvas else 0.0
    dy = -float(rng.uniform(0, h - canvas)) if h > canvas else 0.0
    m = np.array([[1.0, 0, dx], [0, 1, dy], [0, 0, 1]]) @ m
    window = (0.0, 0.0, float(min(h, canvas)), float(min(w, canvas)))
    return Geometry(m[:2], window)


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine ``matrix`` to ``(N, 2)`` ``(x, y)`` points."""
    points = np.asarray(points, dtype=np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def centre_matrix(matrix: np.ndarray) -> np.ndarray:
    """The OpenCV (pixel-centre) form of a pixel-edge affine ``matrix``: shifted by half a pixel."""
    linear = matrix[:, :2]
    shift = linear @ np.array([0.5, 0.5]) + matrix[:, 2] - 0.5
    return np.concatenate([linear, shift[:, None]], axis=1)


def warp_image(image: np.ndarray, matrix: np.ndarray, canvas: int) -> np.ndarray:
    """Move ``image`` by ``matrix`` (pixel-edge convention) into a black ``canvas x canvas`` frame.

    Flips and quarter turns copy pixels exactly (nearest neighbour on an exact
    pixel permutation); a zoom interpolates bilinearly.
    """
    centred = centre_matrix(matrix)
    linear, shift = centred[:, :2], centred[:, 2]
    is_permutation = np.allclose(np.abs(linear), np.round(np.abs(linear))) and np.allclose(shift, np.round(shift))
    flags = cv2.INTER_NEAREST if is_permutation else cv2.INTER_LINEAR
    return cv2.warpAffine(
        image, centred, (canvas, canvas), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )


def color_jitter(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Small random stain changes of a ``uint8`` RGB image.

    Brightness and contrast factors, saturation factor in ``1 ± strength``; hue
    shifted by up to ``± strength * 36`` degrees (±3.6° at the default 0.1).
    """
    if strength <= 0:
        return image
    img = image.astype(np.float32) / 255.0
    brightness = rng.uniform(1 - strength, 1 + strength)
    contrast = rng.uniform(1 - strength, 1 + strength)
    saturation = rng.uniform(1 - strength, 1 + strength)
    hue_shift = rng.uniform(-strength, strength) * 36.0
    img *= brightness
    mean = float(img.mean())
    img = (img - mean) * contrast + mean
    np.clip(img, 0.0, 1.0, out=img)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)  # float: H in degrees 0..360, S and V 0..1
    hsv[..., 0] = np.mod(hsv[..., 0] + hue_shift, 360.0)
    hsv[..., 1] = np.clip(hsv[..., 1] * saturation, 0.0, 1.0)
    img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
