"""The picture the cell classifier looks at: one cell, centred, at a fixed pixel size.

The detector classifies each cell from a 7x7 grid pooled out of its feature maps;
the cell classifier (:mod:`bloodview.model.cell_classifier`) looks again at the cell
itself, a square of the image centred on the detected box at the classifier's own
pixel size (µm per pixel), so a lymphocyte is as many pixels across in a lab's
4000-px field as in a PBC crop. Training cuts the same square with random
rotation, flip, zoom, shift and light changes (:class:`CropJitter`), so both sides
share one function and cannot drift apart.

TensorFlow-free: numpy and OpenCV only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from bloodview.model.stain_augment import stain_jitter, tone_curves


@dataclass(frozen=True)
class CropJitter:
    """Random changes for training crops; all off by default (prediction)."""

    rotate: bool = False
    flip: bool = False
    zoom: tuple[float, float] = (1.0, 1.0)
    shift_um: float = 0.0  # the box centre is off by up to this many µm (detector boxes are not exact)
    brightness: float = 0.0  # x in [1 - b, 1 + b]
    channel_gain: float = 0.0  # per-channel x in [1 - g, 1 + g]: white balance of another camera
    offset: float = 0.0  # + in [-o, o] grey levels
    hue_deg: float = 0.0  # hue turned by up to this many degrees: another lab's stain
    saturation: float = 0.0  # saturation x in [1 - s, 1 + s]
    stain: float = 0.0  # strength of stain_augment.stain_jitter: the stain's optical densities mixed, glass, blur
    tones: float = 0.0  # strength of stain_augment.tone_curves (in 60 % of crops): another lab's colour relations
    grey: float = 0.0  # share of crops turned grey: the cell must be known by its shape, not its colours alone

    @classmethod
    def training(cls) -> CropJitter:
        """What the shipped classifier was trained with (measured on PBC val, see docs/model-card.md)."""
        return cls(rotate=True, flip=True, zoom=(0.9, 1.1), shift_um=1.2, brightness=0.1,
                   channel_gain=0.05, offset=10.0)

    @classmethod
    def other_stains(cls) -> CropJitter:
        """Training's jitter plus strong colour changes, for a classifier meant for other labs' stains."""
        return cls(rotate=True, flip=True, zoom=(0.9, 1.1), shift_um=1.2, brightness=0.15,
                   channel_gain=0.15, offset=15.0, hue_deg=15.0, saturation=0.35)


    @classmethod
    def other_labs(cls) -> CropJitter:
        """Other stains, cameras and optics: hue turned by up to 40 degrees, the stain's optical densities
        remixed on a new glass colour, blur or lost resolution, and some crops grey.

        Chosen by measurement on Zheng et al.'s rapid-stain crops (yellow glass, brown nuclei, a softer
        camera), where the "stains" jitter left the classifier calling neutrophils eosinophils and
        erythroblasts; see docs/model-card.md.
        """
        return cls(rotate=True, flip=True, zoom=(0.85, 1.15), shift_um=1.2, brightness=0.15,
                   channel_gain=0.15, offset=15.0, hue_deg=40.0, saturation=0.5, stain=0.35, grey=0.1)


    @classmethod
    def any_lab(cls) -> CropJitter:
        """Other labs plus random monotone tone curves on the CIELAB axes (``stain_augment.tone_curves``)."""
        return cls(rotate=True, flip=True, zoom=(0.85, 1.15), shift_um=1.2, brightness=0.15,
                   channel_gain=0.15, offset=15.0, hue_deg=40.0, saturation=0.5, stain=0.35, tones=0.3, grey=0.1)


JITTERS = {"mild": CropJitter.training, "stains": CropJitter.other_stains, "labs": CropJitter.other_labs,
           "tones": CropJitter.any_lab}
TONE_SHARE = 0.6
"""Share of training crops given random tone curves when ``CropJitter.tones`` is set."""

# How a crop's colours reach the network. "raw": as the camera gave them. "stretch": each channel
# mapped so its darkest and brightest percentiles land on fixed grey levels, which undoes any
# per-channel gain and offset (another camera's white balance, a paler or darker stain) before the
# network sees the cell; the spatial pattern inside each channel (lobes, granules) is kept.
COLOUR_MODES = ("raw", "stretch")
STRETCH_PERCENTILES = (1.0, 99.0)
STRETCH_LEVELS = (30.0, 235.0)


def cell_crop(
    image: np.ndarray,
    centre_yx: tuple[float, float],
    image_um_per_px: float,
    crop_um_per_px: float,
    size: int,
    jitter: CropJitter | None = None,
    rng: np.random.Generator | None = None,
    colour: str = "raw",
) -> np.ndarray:
    """A ``size`` x ``size`` float32 RGB (0..255) square of ``image`` centred on ``centre_yx``.

    ``image_um_per_px`` is the image's pixel size, ``crop_um_per_px`` the crop's: the
    square covers ``size * crop_um_per_px`` µm. Parts outside the image repeat its edge
    (a cell at the border is seen against glass, not black). ``jitter`` with ``rng``
    applies training's random changes; ``colour`` is one of :data:`COLOUR_MODES` (applied
    after them, so training and prediction hand the network the same kind of picture).
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"cell_crop needs an RGB image (H, W, 3), got shape {image.shape}")
    if not (image_um_per_px > 0 and crop_um_per_px > 0):
        raise ValueError("pixel sizes must be positive")
    zoom = image_um_per_px / crop_um_per_px  # output pixels per image pixel
    angle, dy, dx, flip = 0.0, 0.0, 0.0, False
    if jitter is not None and rng is not None:
        zoom *= rng.uniform(*jitter.zoom)
        angle = rng.uniform(0.0, 360.0) if jitter.rotate else 0.0
        dy, dx = rng.uniform(-jitter.shift_um, jitter.shift_um, 2) / crop_um_per_px
        flip = bool(jitter.flip and rng.random() < 0.5)
    cy, cx = float(centre_yx[0]), float(centre_yx[1])
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, zoom)
    matrix[:, 2] += (size / 2.0 - cx + dx, size / 2.0 - cy + dy)
    interpolation = cv2.INTER_AREA if zoom < 0.7 and angle == 0.0 else cv2.INTER_LINEAR
    crop = cv2.warpAffine(image, matrix, (size, size), flags=interpolation, borderMode=cv2.BORDER_REPLICATE)
    if flip:
        crop = crop[:, ::-1]
    if jitter is not None and rng is not None and jitter.stain:
        crop = stain_jitter(np.ascontiguousarray(crop), rng, jitter.stain)
    if jitter is not None and rng is not None and jitter.tones and rng.random() < TONE_SHARE:
        crop = tone_curves(np.ascontiguousarray(crop), rng, jitter.tones)
    if jitter is not None and rng is not None and (jitter.hue_deg or jitter.saturation):
        crop = _turn_colours(np.ascontiguousarray(crop), jitter, rng)
    if colour == "stretch" and (jitter is None or rng is None):
        return stretch_channels(crop)  # prediction: straight from the uint8 crop (its fast percentiles)
    crop = crop.astype(np.float32)
    if jitter is not None and rng is not None and (jitter.brightness or jitter.channel_gain or jitter.offset):
        gain = rng.uniform(1 - jitter.brightness, 1 + jitter.brightness)
        gain = gain * rng.uniform(1 - jitter.channel_gain, 1 + jitter.channel_gain, 3)
        crop = np.clip(crop * gain.astype(np.float32) + rng.uniform(-jitter.offset, jitter.offset), 0, 255)
    if jitter is not None and rng is not None and jitter.grey and rng.random() < jitter.grey:
        crop = np.repeat(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    if colour == "stretch":
        crop = stretch_channels(crop)
    elif colour != "raw":
        raise ValueError(f"unknown colour mode {colour!r}; one of {', '.join(COLOUR_MODES)}")
    return crop


def stretch_channels(crop: np.ndarray) -> np.ndarray:
    """Each channel's 1st/99th percentiles moved to grey levels 30/235 (float32 or uint8 in, float32 out).

    A channel with (almost) no contrast is left at mid-grey rather than amplifying its noise.
    """
    if crop.dtype == np.uint8:  # a table per channel: the 256 levels stretched once, then looked up
        low, high = _uint8_percentiles(crop.reshape(-1, crop.shape[-1]), STRETCH_PERCENTILES)
        tables = _stretched(np.arange(256, dtype=np.float32)[:, None], low, high)
        return np.stack([tables[:, c][crop[..., c]] for c in range(crop.shape[-1])], axis=-1)
    low, high = np.percentile(crop.reshape(-1, crop.shape[-1]), STRETCH_PERCENTILES, axis=0)
    return _stretched(crop, low, high)


def _stretched(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    span = np.maximum(high - low, 8.0)
    scale = (STRETCH_LEVELS[1] - STRETCH_LEVELS[0]) / span
    out = (values - low) * scale + STRETCH_LEVELS[0]
    return np.clip(out, 0, 255).astype(np.float32)


def _uint8_percentiles(values: np.ndarray, percentiles) -> np.ndarray:
    """``np.percentile(values, percentiles, axis=0)`` (linear method) of uint8 ``(N, C)`` values, from
    each column's histogram: the same numbers without sorting (a tenth of the time per crop)."""
    count = values.shape[0]
    out = np.empty((len(percentiles), values.shape[1]), np.float64)
    for channel in range(values.shape[1]):
        cumulative = np.cumsum(np.bincount(values[:, channel], minlength=256))
        for row, q in enumerate(percentiles):
            rank = q / 100.0 * (count - 1)
            below = int(np.floor(rank))
            low, high = np.searchsorted(cumulative, [below, min(below + 1, count - 1)], side="right")
            out[row, channel] = low + (rank - below) * (high - low)
    return out


def _turn_colours(crop: np.ndarray, jitter: CropJitter, rng: np.random.Generator) -> np.ndarray:
    """Hue turned and saturation scaled (uint8 RGB in and out; OpenCV's hue is 0..180)."""
    hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-jitter.hue_deg, jitter.hue_deg) / 2.0) % 180.0
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(1 - jitter.saturation, 1 + jitter.saturation), 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def box_centre(box_yxyx) -> tuple[float, float]:
    """Centre (y, x) of a (y1, x1, y2, x2) box."""
    y1, x1, y2, x2 = (float(v) for v in box_yxyx)
    return (y1 + y2) / 2.0, (x1 + x2) / 2.0
