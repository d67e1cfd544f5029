"""Box arithmetic shared by the RPN, the targets and the detection layer.

All boxes are ``(y1, x1, y2, x2)`` pixels of the padded model input (last axis 4).
Deltas are Faster R-CNN's ``(dy, dx, log dh, log dw)`` relative to a reference box,
divided by a per-coordinate ``std_dev`` so that targets have roughly unit scale
(``rpn_bbox_std_dev`` for anchors, ``bbox_std_dev`` for ROIs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from keras import ops

# exp() of larger log-size deltas would overflow; torchvision clamps at log(1000/16).
MAX_LOG_SCALE = math.log(1000.0 / 16.0)


def _centres(boxes):
    height = boxes[..., 2] - boxes[..., 0]
    width = boxes[..., 3] - boxes[..., 1]
    return boxes[..., 0] + 0.5 * height, boxes[..., 1] + 0.5 * width, height, width


def encode_boxes(reference, target, std_dev: Sequence[float]):
    """Deltas that move ``reference`` boxes onto ``target`` boxes ([..., 4] each, same shape).

    Degenerate boxes (zero size, e.g. padding) give finite deltas: sizes are floored
    at a thousandth of a pixel.
    """
    ref_y, ref_x, ref_h, ref_w = _centres(reference)
    tgt_y, tgt_x, tgt_h, tgt_w = _centres(target)
    ref_h = ops.maximum(ref_h, 1e-3)
    ref_w = ops.maximum(ref_w, 1e-3)
    deltas = ops.stack(
        [
            (tgt_y - ref_y) / ref_h,
            (tgt_x - ref_x) / ref_w,
            ops.log(ops.maximum(tgt_h, 1e-3) / ref_h),
            ops.log(ops.maximum(tgt_w, 1e-3) / ref_w),
        ],
        axis=-1,
    )
    return deltas / ops.convert_to_tensor(list(std_dev), dtype=deltas.dtype)


def decode_boxes(reference, deltas, std_dev: Sequence[float]):
    """Inverse of :func:`encode_boxes`: apply ``deltas`` ([..., 4]) to ``reference`` boxes."""
    deltas = deltas * ops.convert_to_tensor(list(std_dev), dtype=deltas.dtype)
    ref_y, ref_x, ref_h, ref_w = _centres(reference)
    y = ref_y + deltas[..., 0] * ref_h
    x = ref_x + deltas[..., 1] * ref_w
    h = ref_h * ops.exp(ops.minimum(deltas[..., 2], MAX_LOG_SCALE))
    w = ref_w * ops.exp(ops.minimum(deltas[..., 3], MAX_LOG_SCALE))
    return ops.stack([y - 0.5 * h, x - 0.5 * w, y + 0.5 * h, x + 0.5 * w], axis=-1)


def clip_boxes(boxes, windows):
    """Clip boxes [B, N, 4] to per-image windows [B, 4] (the real image inside the padding)."""
    windows = ops.expand_dims(windows, 1)
    y1 = ops.clip(boxes[..., 0], windows[..., 0], windows[..., 2])
    x1 = ops.clip(boxes[..., 1], windows[..., 1], windows[..., 3])
    y2 = ops.clip(boxes[..., 2], windows[..., 0], windows[..., 2])
    x2 = ops.clip(boxes[..., 3], windows[..., 1], windows[..., 3])
    return ops.stack([y1, x1, y2, x2], axis=-1)


def grow_boxes(boxes, factor: float, windows):
    """Boxes [B, N, 4] grown by ``factor`` about their centres, then clipped to ``windows`` [B, 4].

    Empty rows (all zeros) stay empty. ``factor`` 1 returns the boxes as they are."""
    if factor == 1.0:
        return boxes
    half = (factor - 1.0) / 2.0
    height = boxes[..., 2] - boxes[..., 0]
    width = boxes[..., 3] - boxes[..., 1]
    grown = ops.stack(
        [boxes[..., 0] - half * height, boxes[..., 1] - half * width,
         boxes[..., 2] + half * height, boxes[..., 3] + half * width],
        axis=-1,
    )
    return clip_boxes(grown, windows)


def box_area(boxes):
    """Area in pixels of boxes [..., 4] (0 for inverted or degenerate boxes)."""
    return ops.maximum(boxes[..., 2] - boxes[..., 0], 0.0) * ops.maximum(boxes[..., 3] - boxes[..., 1], 0.0)


def pairwise_iou(boxes_a, boxes_b):
    """IoU of every box of ``boxes_a`` [..., N, 4] with every box of ``boxes_b`` [..., M, 4] -> [..., N, M].

    Leading (batch) axes must match. Pairs where both boxes are empty get 0, not NaN.
    """
    a = ops.expand_dims(boxes_a, -2)
    b = ops.expand_dims(boxes_b, -3)
    inter_h = ops.maximum(ops.minimum(a[..., 2], b[..., 2]) - ops.maximum(a[..., 0], b[..., 0]), 0.0)
    inter_w = ops.maximum(ops.minimum(a[..., 3], b[..., 3]) - ops.maximum(a[..., 1], b[..., 1]), 0.0)
    intersection = inter_h * inter_w
    union = box_area(a) + box_area(b) - intersection
    return intersection / ops.maximum(union, 1e-9)
