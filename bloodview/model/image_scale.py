"""Which pixel size to read an image at, and the resize that brings it to the model's.

Order of trust: a pixel size the user gives (``--pixel-size``, a project or GUI
setting) > the image's own red cells (:func:`bloodview.core.scale.estimate_scale`)
> in a crop of one white cell, that cell's size
(:func:`bloodview.core.white_cell_scale.estimate_scale_from_white_cell`)
> the model's fallback (the pixel size of its training images as stored). A
model without a recorded pixel size gets ``None`` here and fits each image to
its input as before.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from bloodview.core.scale import (
    MAGNIFICATION_REACH,
    RBC_DIAMETER_UM,
    ScaleEstimate,
    estimate_scale,
    scale_from_pixel_size,
)
from bloodview.core.white_cell_scale import estimate_scale_from_white_cell

log = logging.getLogger(__name__)

SOURCE_MODEL_DEFAULT = "model default"
# Resize factors outside this range mean an estimate gone wrong (or a wrong --pixel-size):
# they are clipped, with a warning, rather than turning a field into a 40,000-px image.
FACTOR_LIMITS = MAGNIFICATION_REACH


def image_pixel_size(
    image: np.ndarray, config, given: float | ScaleEstimate | None = None, estimate: bool = True
) -> ScaleEstimate | None:
    """The µm-per-pixel to read ``image`` at (``None`` for a model without a pixel size).

    ``given``: a pixel size the user knows (µm, source ``"given"``), or a :class:`ScaleEstimate`
    made elsewhere, taken as it is (its source kept).
    """
    if not config.scale_aware:
        return None
    if isinstance(given, ScaleEstimate):  # a scale read elsewhere, e.g. the camera's (core/camera_scale.py)
        return given
    if given is not None:
        return scale_from_pixel_size(float(given))
    fallback = fallback_pixel_size(image.shape[0], image.shape[1], config)
    if estimate:
        found = estimate_scale(image)
        if found is not None:
            return found
        by_white_cell = estimate_scale_from_white_cell(image)
        if by_white_cell is not None and not agrees(by_white_cell.um_per_pixel, fallback):
            return by_white_cell
    return ScaleEstimate(
        um_per_pixel=float(fallback),
        rbc_diameter_px=RBC_DIAMETER_UM / float(fallback),
        cells_measured=0,
        source=SOURCE_MODEL_DEFAULT,
        confidence="weak",
    )


WHITE_CELL_TOLERANCE = 1.25
"""How far a white cell's typical size may put a crop's scale from its true one (10-15 µm cells)."""


def agrees(white_cell_um: float, fallback_um: float) -> bool:
    """True when the white cell's size is no reason to doubt the model's fallback.

    A crop framed like the model's training crops has a white cell of ordinary size at the
    fallback's scale; there the fallback (exact for such crops) is kept, and the white cell
    decides only when it is more than its own uncertainty away (another lab's tighter crop:
    Zheng's 120-px crops are 1.8x off). Measured on PBC ``val``: the white cell alone cost one
    crop of 480, the combination none.
    """
    ratio = float(white_cell_um) / float(fallback_um)
    return 1.0 / WHITE_CELL_TOLERANCE <= ratio <= WHITE_CELL_TOLERANCE


def fallback_pixel_size(height: int, width: int, config) -> float:
    """The model's guess for an image without a usable red cell.

    A crop no larger than the network input is taken to be framed like the model's
    training crops (``fallback_crop_field_um`` across its longer side): another lab's
    120-px crop of one white cell is then enlarged as a 363-px PBC crop of one cell is.
    Larger images (fields) get the training images' pixel size.
    """
    side = max(int(height), int(width))
    if config.fallback_crop_field_um and side <= config.image_max_dim:
        return float(config.fallback_crop_field_um) / side
    return float(config.fallback_pixel_size_um or config.pixel_size_um)


def resize_factor(scale: ScaleEstimate, config) -> float:
    """Factor that brings an image at ``scale`` to the model's pixel size (> 1 enlarges)."""
    factor = scale.um_per_pixel / float(config.pixel_size_um)
    low, high = FACTOR_LIMITS
    if not low <= factor <= high:
        log.warning(
            "pixel size %.3f µm (%s) is %.2fx the model's; clipped to %.3g-%.3g",
            scale.um_per_pixel, scale.source, factor, low, high,
        )
        factor = min(max(factor, low), high)
    return factor


def rescale(image: np.ndarray, factor: float) -> np.ndarray:
    """``image`` resized by ``factor`` (area averaging when shrinking, bilinear when enlarging)."""
    height, width = image.shape[:2]
    new_h, new_w = max(1, round(height * factor)), max(1, round(width * factor))
    if (new_h, new_w) == (height, width):
        return image
    shrink = new_h < height or new_w < width
    return cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
