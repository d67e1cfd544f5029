"""Proposal layer: RPN outputs -> a fixed number of candidate cell boxes per image.

Keeps the ``pre_nms_limit`` highest-scoring anchors, applies their deltas, clips
to the image window, runs NMS at ``nms_threshold`` and keeps ``count`` boxes
(``post_nms_rois_training`` or ``post_nms_rois_inference``). No gradient flows
through proposals (as in Faster R-CNN's approximate joint training).
"""

from __future__ import annotations

from collections.abc import Sequence

from keras import ops

from bloodview.model import ops as tfops
from bloodview.model.box_coding import box_area, clip_boxes, decode_boxes


def generate_proposals(
    logits,
    deltas,
    anchors,
    windows,
    *,
    pre_nms_limit: int,
    count: int,
    nms_threshold: float,
    std_dev: Sequence[float],
):
    """Best non-overlapping RPN boxes.

    Args:
        logits: float [B, A] objectness logits; deltas: float [B, A, 4] (scaled by ``std_dev``).
        anchors: float [A, 4] ``(y1, x1, y2, x2)`` pixels.
        windows: float [B, 4] real image area in the padded input.

    Returns:
        ``(boxes [B, count, 4], valid [B, count] bool)``; boxes sorted by objectness,
        invalid rows are zeros.
    """
    logits = ops.stop_gradient(logits)
    deltas = ops.stop_gradient(deltas)
    num_anchors = anchors.shape[0]
    k = min(pre_nms_limit, num_anchors)
    scores, index = ops.top_k(logits, k=k, sorted=True)
    top_deltas = ops.take_along_axis(deltas, ops.expand_dims(index, -1), axis=1)
    top_anchors = ops.take(ops.convert_to_tensor(anchors), index, axis=0)
    boxes = clip_boxes(decode_boxes(top_anchors, top_deltas, std_dev), windows)
    probs = ops.sigmoid(scores)
    probs = ops.where(box_area(boxes) > 0.0, probs, -1.0)
    boxes, _, _, counts = tfops.batched_nms(
        boxes, ops.expand_dims(probs, -1), count, count, nms_threshold, score_threshold=0.0
    )
    valid = ops.arange(count)[None, :] < counts[:, None]
    return boxes, valid
