"""Expert reference masks for measuring the bootstrap segmenter (Zheng et al. Dataset 1).

Layout: ``NNN.bmp`` (image) beside ``NNN.png`` (8-bit mask: 0 background,
128 cytoplasm, 255 nucleus). The whole white cell is ``png > 0``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bloodview.core.geometry import mask_iou
from bloodview.errors import ImageError


@dataclass(frozen=True)
class ReferencePair:
    image: Path
    mask: Path


def reference_pairs(folder: str | Path) -> list[ReferencePair]:
    """``NNN.bmp`` + ``NNN.png`` pairs in ``folder``, sorted by name."""
    folder = Path(folder)
    pairs = []
    for image in sorted(folder.glob("*.bmp")):
        mask = image.with_suffix(".png")
        if mask.is_file():
            pairs.append(ReferencePair(image, mask))
    return pairs


def read_pair(pair: ReferencePair) -> tuple[np.ndarray, np.ndarray]:
    """``(rgb uint8 (H, W, 3), whole-cell bool mask (H, W))``."""
    bgr = cv2.imread(str(pair.image), cv2.IMREAD_COLOR)
    grey = cv2.imread(str(pair.mask), cv2.IMREAD_GRAYSCALE)
    if bgr is None or grey is None:
        raise ImageError(pair.image, "cannot read the reference image or its mask")
    return bgr[..., ::-1].copy(), grey > 0


def whole_cell_ious(
    pairs: Iterable[ReferencePair], segment: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """IoU of ``segment(rgb) -> bool mask`` with each expert whole-cell mask."""
    scores = []
    for pair in pairs:
        rgb, truth = read_pair(pair)
        scores.append(mask_iou(segment(rgb), truth))
    return np.asarray(scores, dtype=np.float64)
