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
* sometimes a lower-resolution camera (blur, or shrink and enlarge again).

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
