"""Another lab's stain and camera, simulated on our training images (NumPy + OpenCV).

Labs stain with other reagents and batches (May-Grünwald-Giemsa, Wright, rapid
stains), light their slides differently and use cameras of other resolutions. A
model trained on one lab's images learns its colours: measured on Zheng et al.'s
rapid-stain crops at the right scale, the PBC-trained default model called 78 of
100 cells monocyte or eosinophil (accuracy 0.22), and a plain white balance made it
worse (0.16). So training sees each image in a random stain of its own:

* optical density (OD) relative to the image's own glass colour, so the change
  acts on the stain, not on the light: ``OD = -log(I / glass)``;
* each channel's OD scaled and the channels mixed a little (stain strength and
  hue: darker or paler nuclei, pinker or browner cytoplasm);
* a new glass colour (white, yellow, grey, pink lamps and filters);
* sometimes a lower-resolution camera (blur, or shrink and enlarge again);
* (``tone_curves``) each of the CIELAB lightness and colour axes bent by a random monotone
  curve: what mapping one lab's colour distribution onto another's does. Measured on the stage-9
  classifier: PBC val mapped onto Zheng et al.'s colour distribution (per-channel Lab quantile
  matching) fell from 0.979 to 0.631, though it had trained with the OD remix and hue turns above.

``strength`` 0 leaves the image unchanged; 0.3 is a strong but plausible change.
"""

from __future__ import annotations

import cv2
import numpy as np

STAIN_KEEP_SHARE = 0.3
"""Share of training images left in their own stain, so the training lab's look stays well learnt."""
GLASS_TINT = np.array([0.1, 0.15, 0.4])
"""Largest per-channel (R, G, B) dimming of the glass at strength 0.3: warm lamps cut blue the most."""


def glass_colour(image: np.ndarray) -> np.ndarray:
    """The background (glass) colour of a ``uint8`` RGB smear image: median of its brightest fifth."""
    pixels = image.reshape(-1, 3).astype(np.float32)
    brightness = pixels.sum(axis=1)
    bright = pixels[brightness >= np.percentile(brightness, 80)]
    return np.maximum(np.median(bright, axis=0), 1.0)


def stain_jitter(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """``image`` (``uint8`` RGB) seen as if another lab had stained and photographed it."""
    if strength <= 0 or rng.random() < STAIN_KEEP_SHARE:
        return image
    glass = glass_colour(image)
    od = -np.log(np.clip(image.astype(np.float32) + 1.0, 1.0, None) / (glass + 1.0))
    np.clip(od, 0.0, None, out=od)
    mixing = np.diag(rng.uniform(1 - strength, 1 + strength, 3)) + rng.uniform(-strength / 3, strength / 3, (3, 3)) * (
        1 - np.eye(3)
    )
    od = od @ mixing.astype(np.float32).T
    np.clip(od, 0.0, None, out=od)
    new_glass = 255.0 * rng.uniform(1 - strength, 1.0) * rng.uniform(1 - GLASS_TINT * strength / 0.3, 1.0)
    out = new_glass.astype(np.float32) * np.exp(-od)
    out = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return camera_jitter(out, rng, strength)


def camera_jitter(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Sometimes blur the image or lose resolution (a softer lens, a smaller sensor)."""
    roll = rng.random()
    if roll < strength:
        sigma = float(rng.uniform(0.5, 2.0))
        return cv2.GaussianBlur(image, (0, 0), sigma)
    if roll < 2 * strength:
        height, width = image.shape[:2]
        factor = float(rng.uniform(0.35, 0.8))
        small = cv2.resize(image, (max(1, round(width * factor)), max(1, round(height * factor))), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return image


TONE_KNOTS = 5
"""Knots of a random tone curve, spread evenly between a channel's 1st and 99th percentiles."""
TONE_AB_SHIFT = 20.0
"""Largest shift of the CIELAB a and b axes at strength 0.3 (OpenCV 8-bit units): PBC's glass and
Zheng's differ by ~27 on b, but the glass balance and the crop's channel stretch take part of it."""


def tone_curves(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """``image`` (``uint8`` RGB) with each CIELAB channel bent by a random monotone curve.

    Each curve keeps the order of the channel's values (a darker nucleus stays darker than its
    cytoplasm, a redder granule redder than the glass) while stretching some ranges and squeezing
    others: the colour relations a stain and camera change. ``strength`` scales how unequal the
    curve's steps are, how far its overall span changes and how far a and b shift.
    """
    if strength <= 0:
        return image
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    for channel in range(3):
        values = lab[..., channel]
        low, high = np.percentile(values, (1.0, 99.0))
        if high - low < 4.0:
            continue
        knots_x = np.linspace(low, high, TONE_KNOTS)
        steps = rng.dirichlet(np.full(TONE_KNOTS - 1, 0.3 / strength * 4.0))
        span = (high - low) * rng.uniform(1 - strength, 1 + strength)
        shift = 0.0 if channel == 0 else rng.uniform(-1, 1) * TONE_AB_SHIFT * strength / 0.3
        start = (low + high) / 2.0 - span / 2.0 + shift
        knots_y = start + span * np.concatenate([[0.0], np.cumsum(steps)])
        below = knots_y[0] - (knots_x[0] - values.min())
        above = knots_y[-1] + (values.max() - knots_x[-1])
        lab[..., channel] = np.interp(values, np.r_[values.min() - 1, knots_x, values.max() + 1],
                                      np.r_[below - 1, knots_y, above + 1])
    return cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
