"""The glass colour a model was trained on, and images of other glass colours brought to it.

Each lab lights and filters its microscope differently: PBC's glass is pink (255, 228, 203),
BCCD's grey (203, 205, 200), Zheng et al.'s yellow (255, 255, 174). The detector finds and
outlines cells by their contrast to the glass, and on a glass colour it never saw it outlines
them worse: Zheng's crops at their own scale, stage-7 detector, whole-cell IoU 0.796, 18 of 300
cells not found. A per-channel gain that moves the glass into the range of the training
images' glass colours gave IoU 0.878 and none missed, and left PBC and BCCD fields (inside the
range) exactly as they were (docs/model.md, "Glass colour").

So a model records the range of its training images' glass colours (``glass_colour_range`` in
its config: per channel, the 1st and 99th percentile; a fine-tuned model keeps its start's), and
detection, and training, multiply each channel of an image whose glass lies outside it by the
gain that brings the glass to the nearest colour inside. The image's stain keeps its own colours relative to the glass; what changes is the
light. Only the detector's input is balanced: the cell classifier stretches its crops' channels
itself, and the red-cell finder works on contrast.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np

from bloodview.model.stain_augment import glass_colour

RANGE_PERCENTILES = (1.0, 99.0)
"""The share of training images' glass colours the range leaves out at each end (outliers, odd crops)."""
MIN_GAIN_CHANGE = 0.01
"""Gains closer to 1 than this are not applied (the image is left byte for byte as it was)."""
MEASURE_PIXELS = 250_000
"""The glass colour of a larger image is measured on an evenly thinned copy: a 4000 x 3000 frame
took 2.1 s in full and 0.06 s thinned to every 4th pixel, to the same median of glass pixels."""

GlassRange = tuple[tuple[float, float, float], tuple[float, float, float]]


def measure_glass_range(images: Iterable[np.ndarray]) -> GlassRange | None:
    """Per-channel (low, high) percentiles of the glass colours of ``images`` (uint8 RGB); None if none."""
    colours = [glass_colour(_thinned(image)) for image in images]
    if not colours:
        return None
    low, high = np.percentile(np.array(colours), RANGE_PERCENTILES, axis=0)
    return _as_range(low, high)


def check_range(value) -> GlassRange:
    """``value`` ([[r, g, b], [r, g, b]], 0..255, low <= high) as a range; ValueError with the reason if not."""
    try:
        low, high = (np.asarray(part, dtype=float) for part in value)
    except (TypeError, ValueError):
        raise ValueError(f"glass_colour_range must be [[r, g, b], [r, g, b]], got {value!r}") from None
    if low.shape != (3,) or high.shape != (3,):
        raise ValueError(f"glass_colour_range must be [[r, g, b], [r, g, b]], got {value!r}")
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise ValueError("glass_colour_range must hold finite numbers")
    if np.any(low < 1) or np.any(high > 255) or np.any(low > high):
        raise ValueError(f"glass_colour_range must be 1..255 with low <= high per channel, got {value!r}")
    return _as_range(low, high)


def glass_gains(image: np.ndarray, glass_range: GlassRange) -> np.ndarray | None:
    """Per-channel gains that bring ``image``'s glass into ``glass_range``; None when it is inside already."""
    glass = glass_colour(_thinned(image))
    low, high = (np.asarray(part, dtype=np.float32) for part in glass_range)
    gains = np.clip(glass, low, high) / glass
    if np.all(np.abs(gains - 1.0) < MIN_GAIN_CHANGE):
        return None
    return gains.astype(np.float32)


def balance_glass(image: np.ndarray, glass_range: GlassRange | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``image`` (uint8 RGB) with its glass moved into ``glass_range``, and the gains used (None: unchanged)."""
    if glass_range is None:
        return image, None
    gains = glass_gains(image, glass_range)
    if gains is None:
        return image, None
    balanced = np.clip(image.astype(np.float32) * gains + 0.5, 0, 255).astype(np.uint8)
    return balanced, gains


def _thinned(image: np.ndarray) -> np.ndarray:
    step = max(1, int(np.ceil(np.sqrt(image.shape[0] * image.shape[1] / MEASURE_PIXELS))))
    return image[::step, ::step]


def _as_range(low, high) -> GlassRange:
    return (tuple(round(float(v), 1) for v in low), tuple(round(float(v), 1) for v in high))  # type: ignore[return-value]


GLASS_SAMPLE = 400
"""Training images whose glass colour is measured for the model's glass range (evenly spread)."""


def training_glass_range(config, records, init, overrides: dict):
    """``config`` with the glass colour range it is trained and used at (module doc).

    From scratch: the training images' own range. Fine-tuned: the start model's range, kept, so
    a lab's images of another glass colour are balanced into it in training as at detection, and
    the network need not relearn the light. Measured on 50 Zheng crops + 50 PBC images (the adapt
    recipe): widening the range by the lab's images instead (the network learns the yellow glass)
    gave Zheng held-out accuracy 0.872 either way, PBC val 0.900 against 0.933 kept
    (docs/adaptation.md). A start model without a range (made before it was kept) gives none.
    ``--set glass_colour_range=...`` wins, as every ``--set`` does.
    """
    if not config.scale_aware or "glass_colour_range" in overrides or not records:
        return config
    if init is not None:
        return config.with_overrides({"glass_colour_range": init.to_config().glass_colour_range})
    from bloodview.io.images import load_image
    from bloodview.model.data import as_rgb

    step = max(1, len(records) // GLASS_SAMPLE)
    glass = measure_glass_range(as_rgb(load_image(record.path)) for record in records[::step])
    logging.getLogger(__name__).info("glass colours of the training images: %s .. %s (RGB, 1st..99th percentile)", *glass)
    return config.with_overrides({"glass_colour_range": [list(glass[0]), list(glass[1])]})
