"""Multi-level ROI Align: pool every box from the pyramid level that suits its size.

Level assignment follows FPN (Lin et al. 2017, eq. 1):
``k = floor(k0 + log2(sqrt(h * w) / canonical_size))`` clipped to the available
levels, with ``k0 = 4`` and ``canonical_size = 224`` pixels (an ImageNet-sized box
goes to P4; cell-sized boxes end up on P2; the box head's ``canonical_size`` is a
config field, ``roi_canonical_size``, for small inputs). Each box is cropped from one level only,
so the cost is that of a single crop per box whatever the number of levels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from keras import ops

from bloodview.model import ops as tfops


def assign_levels(boxes, num_levels: int, canonical_size: float = 224.0, canonical_level: int = 4, min_level: int = 2):
    """Pyramid level index (0 = P``min_level``) of boxes [..., 4] in pixels."""
    height = ops.maximum(boxes[..., 2] - boxes[..., 0], 1e-6)
    width = ops.maximum(boxes[..., 3] - boxes[..., 1], 1e-6)
    level = ops.floor(canonical_level + ops.log(ops.sqrt(height * width) / canonical_size) / math.log(2.0) + 1e-6)
    return ops.cast(ops.clip(level - min_level, 0, num_levels - 1), "int32")


def pyramid_roi_align(
    features: Sequence,
    boxes,
    batch_indices,
    size: tuple[int, int],
    strides: Sequence[int] = (4, 8, 16, 32),
    canonical_size: float = 224.0,
):
    """Pool boxes [N, 4] (pixels, ``(y1, x1, y2, x2)``) from ``features`` [P2..P5].

    Args:
        features: maps [B, H_l, W_l, C] with the given ``strides``.
        batch_indices: int [N], image of each box.
        size: pooled ``(rows, cols)``.
        canonical_size: box size (pixels) that is pooled from P4 (:func:`assign_levels`).

    Returns:
        float [N, rows, cols, C] in the order of ``boxes``.
    """
    boxes = ops.stop_gradient(ops.cast(boxes, "float32"))
    levels = assign_levels(boxes, len(features), canonical_size)
    crops, order = [], []
    for level, (feature, stride) in enumerate(zip(features, strides)):
        where = tfops.true_indices(levels == level)  # [K, 1]
        crops.append(
            tfops.roi_align(
                feature,
                tfops.gather_rows(boxes, where) / float(stride),
                tfops.gather_rows(batch_indices, where),
                size,
            )
        )
        order.append(where[:, 0])
    # Crops come out grouped by level; one gather puts them back in box order.
    return ops.take(ops.concatenate(crops, axis=0), ops.argsort(ops.concatenate(order, axis=0)), axis=0)


def batched_roi_align(
    features: Sequence,
    rois,
    size: tuple[int, int],
    strides: Sequence[int] = (4, 8, 16, 32),
    canonical_size: float = 224.0,
):
    """:func:`pyramid_roi_align` for ROIs [B, R, 4] -> [B, R, rows, cols, C]."""
    batch = ops.shape(rois)[0]
    per_image = rois.shape[1]
    batch_indices = ops.reshape(ops.repeat(ops.expand_dims(ops.arange(batch), 1), per_image, axis=1), (-1,))
    pooled = pyramid_roi_align(features, ops.reshape(rois, (-1, 4)), batch_indices, size, strides, canonical_size)
    return ops.reshape(pooled, (batch, per_image, size[0], size[1], features[0].shape[-1]))
