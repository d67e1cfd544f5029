"""Anchor boxes of the feature pyramid, computed once per input size in NumPy.

One anchor scale per pyramid level (P2..P6) and several aspect ratios per scale,
as in FPN and Matterport. Anchors are ``(y1, x1, y2, x2)`` pixels of the padded
input, centred on the centres of the feature cells: the cell ``(r, c)`` of a level
with stride ``s`` covers pixels ``[r*s, (r+1)*s)``, so its anchors are centred on
``((r + 0.5) * s, (c + 0.5) * s)``.

Order (must match :class:`bloodview.model.rpn.RPNHead`'s reshape): level, then
row, then column, then ratio.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def level_anchors(
    scale: float, ratios: Sequence[float], feature_shape: tuple[int, int], stride: int, anchor_stride: int = 1
) -> np.ndarray:
    """Anchors of one level: float32 [rows * cols * len(ratios), 4].

    ``ratio`` is width / height; every anchor has area ``scale ** 2``. With
    ``anchor_stride`` > 1 only every ``anchor_stride``-th feature cell carries anchors.
    """
    ratios = np.asarray(ratios, dtype=np.float64)
    heights = scale / np.sqrt(ratios)
    widths = scale * np.sqrt(ratios)
    rows = (np.arange(0, feature_shape[0], anchor_stride) + 0.5) * stride
    cols = (np.arange(0, feature_shape[1], anchor_stride) + 0.5) * stride
    cy, cx, h = np.meshgrid(rows, cols, heights, indexing="ij")
    _, _, w = np.meshgrid(rows, cols, widths, indexing="ij")
    boxes = np.stack([cy - 0.5 * h, cx - 0.5 * w, cy + 0.5 * h, cx + 0.5 * w], axis=-1)
    return boxes.reshape(-1, 4).astype(np.float32)


def feature_shapes(image_size: int | tuple[int, int], strides: Sequence[int]) -> list[tuple[int, int]]:
    """Feature map sizes of an input of side ``image_size`` or shape ``(height, width)``."""
    height, width = (image_size, image_size) if np.isscalar(image_size) else image_size
    return [(int(np.ceil(height / s)), int(np.ceil(width / s))) for s in strides]


def pyramid_anchors(
    image_size: int | tuple[int, int],
    scales: Sequence[float],
    ratios: Sequence[float],
    strides: Sequence[int],
    anchor_stride: int = 1,
) -> np.ndarray:
    """All anchors of the pyramid for an input of side ``image_size`` or shape ``(height, width)``: float32 [A, 4]."""
    if len(scales) != len(strides):
        raise ValueError("one anchor scale per pyramid level is needed")
    shapes = feature_shapes(image_size, strides)
    return np.concatenate(
        [
            level_anchors(scale, ratios, shape, stride, anchor_stride)
            for scale, shape, stride in zip(scales, shapes, strides)
        ],
        axis=0,
    )
