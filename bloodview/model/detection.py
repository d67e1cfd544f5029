"""Detection layer: classified, refined ROIs -> final cells per image.

Each ROI keeps only its most probable class (as in Matterport): background ROIs and
ROIs below ``min_confidence`` are dropped, the box is refined with that class's deltas
and clipped to the image window, then greedy NMS runs per class at ``nms_threshold``
and the ``max_instances`` best survivors are returned, sorted by score.
"""

from __future__ import annotations

from collections.abc import Sequence

from keras import ops

from bloodview.model import ops as tfops
from bloodview.model.box_coding import box_area, clip_boxes, decode_boxes


def refine_detections(
    rois,
    roi_valid,
    class_logits,
    deltas,
    windows,
    *,
    std_dev: Sequence[float],
    max_instances: int,
    nms_threshold: float,
    min_confidence,
):
    """Final detections of a batch.

    Args:
        rois: float [B, R, 4] proposals; roi_valid: bool [B, R].
        class_logits: float [B, R, K]; deltas: float [B, R, K, 4] (scaled by ``std_dev``).
        windows: float [B, 4] image area in the padded input.
        min_confidence: float or scalar tensor; class probability needed to keep a box.

    Returns:
        dict with ``boxes`` [B, D, 4] (y1, x1, y2, x2 pixels), ``class_ids`` [B, D] int32
        (0 for empty rows), ``scores`` [B, D] and ``counts`` [B] int32 (valid rows).
    """
    num_classes = class_logits.shape[-1]
    probs = ops.softmax(class_logits, axis=-1)
    class_ids = ops.cast(ops.argmax(probs, axis=-1), "int32")
    scores = ops.max(probs, axis=-1)
    one_hot = ops.one_hot(class_ids, num_classes, dtype=deltas.dtype)
    class_deltas = ops.sum(deltas * ops.expand_dims(one_hot, -1), axis=-2)
    boxes = clip_boxes(decode_boxes(rois, class_deltas, std_dev), windows)
    keep = roi_valid & (class_ids > 0) & (scores >= min_confidence) & (box_area(boxes) > 0.0)
    # Scores per foreground class, -1 everywhere but the ROI's own class: NMS drops them.
    per_class = ops.where(ops.expand_dims(keep, -1) & (one_hot[..., 1:] > 0), ops.expand_dims(scores, -1), -1.0)
    out_boxes, out_scores, out_classes, counts = tfops.batched_nms(
        boxes, per_class, max_instances, max_instances, nms_threshold, score_threshold=0.0
    )
    valid = ops.arange(max_instances)[None, :] < counts[:, None]
    return {
        "boxes": ops.where(ops.expand_dims(valid, -1), out_boxes, 0.0),
        "class_ids": ops.where(valid, out_classes + 1, 0),
        "scores": ops.where(valid, out_scores, 0.0),
        "counts": counts,
    }
