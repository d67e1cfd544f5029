"""Training targets computed inside the graph, for a whole batch at once.

* :func:`rpn_targets`: label every anchor positive (IoU >= ``positive_iou`` with some
  cell, or the best anchor of a cell), negative (IoU < ``negative_iou`` with every
  cell) or neutral, then sample ``anchors_per_image`` of them, at most half positive.
* :func:`detection_targets`: sample ``rois_per_image`` ROIs among the proposals (plus
  the ground-truth boxes themselves, as torchvision does, so the heads see positives
  from the first step), at most ``positive_ratio`` of them positive (IoU >= 0.5),
  the rest negatives; give each its class, its box deltas and its mask target.

Padding ground truth has class id 0 and is ignored. Boxes are ``(y1, x1, y2, x2)``
pixels of the padded input. Random sampling draws fresh noise every step.
"""

from __future__ import annotations

from collections.abc import Sequence

from keras import ops

from bloodview.model import ops as tfops
from bloodview.model.box_coding import encode_boxes, pairwise_iou


def _masked_iou(boxes, gt_boxes, gt_valid):
    """IoU [B, N, G] with -1 against padding ground truth; ``boxes`` is [B, N, 4] or [1, N, 4]."""
    iou = pairwise_iou(boxes, gt_boxes)
    return ops.where(ops.expand_dims(gt_valid, 1), iou, -1.0)


def _sample(candidates, noise, max_count: int, count=None):
    """Boolean [B, N]: ``count[b]`` (default ``max_count``) random picks among ``candidates``.

    Picks the candidates with the largest noise; all of them when there are fewer.
    """
    keys = ops.where(candidates, noise, -1.0)
    k = min(max_count, keys.shape[1])
    top, _ = ops.top_k(keys, k=k, sorted=True)
    if count is None:
        threshold = top[:, -1]
    else:
        position = ops.clip(ops.cast(count, "int32") - 1, 0, k - 1)
        threshold = ops.take_along_axis(top, ops.expand_dims(position, -1), axis=1)[:, 0]
        threshold = ops.where(count > 0, threshold, 2.0)
    return candidates & (keys >= ops.expand_dims(threshold, -1))


def rpn_targets(
    anchors,
    gt_boxes,
    gt_class_ids,
    *,
    anchors_per_image: int = 256,
    positive_iou: float = 0.7,
    negative_iou: float = 0.3,
    std_dev: Sequence[float] = (0.1, 0.1, 0.2, 0.2),
):
    """Anchor labels and box targets.

    Args:
        anchors: float [A, 4]; gt_boxes: float [B, G, 4]; gt_class_ids: int [B, G] (0 = padding).

    Returns:
        ``(match [B, A] int32: 1 positive, -1 negative, 0 ignored; deltas [B, A, 4]``
        encoded with ``std_dev``, zero except for positives).
    """
    anchors = ops.convert_to_tensor(anchors, "float32")
    gt_boxes = ops.cast(gt_boxes, "float32")
    gt_valid = gt_class_ids > 0
    iou = _masked_iou(ops.expand_dims(anchors, 0), gt_boxes, gt_valid)  # [B, A, G]
    best_iou = ops.max(iou, axis=2)
    best_gt = ops.argmax(iou, axis=2)
    # Every cell gets at least its best anchor(s), however poor the overlap.
    best_per_gt = ops.max(iou, axis=1, keepdims=True)  # [B, 1, G]
    is_best = ops.any((iou >= best_per_gt) & (best_per_gt > 0.0), axis=2)
    positive = (best_iou >= positive_iou) | is_best
    negative = (best_iou < negative_iou) & ~positive

    noise = tfops.random_uniform(ops.shape(best_iou))
    positive = _sample(positive, noise, anchors_per_image // 2)
    num_positive = ops.sum(ops.cast(positive, "int32"), axis=1)
    negative = _sample(negative, noise, anchors_per_image, anchors_per_image - num_positive)
    match = ops.where(positive, 1, ops.where(negative, -1, 0))

    matched = ops.take_along_axis(gt_boxes, ops.expand_dims(best_gt, -1), axis=1)
    deltas = encode_boxes(ops.broadcast_to(anchors, ops.shape(matched)), matched, std_dev)
    deltas = ops.where(ops.expand_dims(positive, -1), deltas, 0.0)
    return ops.cast(match, "int32"), deltas


def detection_targets(
    proposals,
    proposal_valid,
    gt_class_ids,
    gt_boxes,
    gt_masks,
    *,
    rois_per_image: int,
    positive_ratio: float,
    std_dev: Sequence[float],
    mask_shape: Sequence[int],
    positive_iou: float = 0.5,
) -> dict:
    """Sample ROIs and their targets for the box/class and mask heads.

    Args:
        proposals: float [B, P, 4]; proposal_valid: bool [B, P].
        gt_class_ids: int [B, G]; gt_boxes: float [B, G, 4];
        gt_masks: float [B, G, m0, m1] mini masks (the cell's mask inside its gt box).

    Returns:
        dict of ``rois`` [B, R, 4], ``valid`` [B, R] bool, ``class_ids`` [B, R] int32
        (0 = background), ``deltas`` [B, R, 4] (zero for negatives), ``masks``
        [B, R, h, w] float 0/1 (zero for negatives). Positives come first in each row.
    """
    gt_valid = gt_class_ids > 0
    gt_boxes = ops.cast(gt_boxes, "float32")
    candidates = ops.concatenate([ops.cast(proposals, "float32"), gt_boxes], axis=1)
    valid = ops.concatenate([proposal_valid, gt_valid], axis=1)
    iou = _masked_iou(candidates, gt_boxes, gt_valid)
    best_iou = ops.max(iou, axis=2)
    best_gt = ops.argmax(iou, axis=2)
    positive = valid & (best_iou >= positive_iou)
    negative = valid & (best_iou < positive_iou)

    max_positive = max(1, int(round(rois_per_image * positive_ratio)))
    noise = tfops.random_uniform(ops.shape(best_iou))
    pos_keys = ops.where(positive, noise, -1.0)
    pos_top, pos_index = ops.top_k(pos_keys, k=min(max_positive, pos_keys.shape[1]), sorted=True)
    num_positive = ops.sum(ops.cast(pos_top >= 0.0, "int32"), axis=1)
    neg_keys = ops.where(negative, noise, -1.0)
    neg_top, neg_index = ops.top_k(neg_keys, k=min(rois_per_image, neg_keys.shape[1]), sorted=True)

    # Output slot r holds positive r while r < num_positive, then negative r - num_positive.
    slot = ops.arange(rois_per_image)[None, :]
    npos = ops.expand_dims(num_positive, 1)
    is_pos = slot < npos
    pos_slot = ops.clip(slot, 0, pos_index.shape[1] - 1)
    neg_slot = ops.clip(slot - npos, 0, neg_index.shape[1] - 1)
    neg_ok = ops.take_along_axis(neg_top, neg_slot, axis=1) >= 0.0
    neg_ok = neg_ok & (slot - npos < neg_index.shape[1])
    source = ops.where(
        is_pos,
        ops.take_along_axis(pos_index, ops.broadcast_to(pos_slot, ops.shape(is_pos)), axis=1),
        ops.take_along_axis(neg_index, neg_slot, axis=1),
    )
    roi_valid = is_pos | neg_ok

    rois = ops.take_along_axis(candidates, ops.expand_dims(source, -1), axis=1)
    rois = ops.where(ops.expand_dims(roi_valid, -1), rois, 0.0)
    gt_index = ops.take_along_axis(best_gt, source, axis=1)
    class_ids = ops.take_along_axis(gt_class_ids, gt_index, axis=1)
    class_ids = ops.where(is_pos, class_ids, 0)
    matched = ops.take_along_axis(gt_boxes, ops.expand_dims(gt_index, -1), axis=1)
    deltas = ops.where(ops.expand_dims(is_pos, -1), encode_boxes(rois, matched, std_dev), 0.0)
    masks = _mask_targets(rois, matched, gt_masks, gt_index, mask_shape)
    masks = ops.where(ops.expand_dims(ops.expand_dims(is_pos, -1), -1), masks, 0.0)
    return {
        "rois": ops.stop_gradient(rois),
        "valid": roi_valid,
        "class_ids": ops.cast(class_ids, "int32"),
        "deltas": ops.stop_gradient(deltas),
        "masks": ops.stop_gradient(masks),
    }


def _mask_targets(rois, matched, gt_masks, gt_index, mask_shape):
    """Crop each ROI out of its cell's mini mask: [B, R, h, w] of 0/1."""
    batch, num_gt, mini_h, mini_w = (ops.shape(gt_masks)[0],) + tuple(gt_masks.shape[1:])
    num_rois = rois.shape[1]
    gt_h = ops.maximum(matched[..., 2] - matched[..., 0], 1e-3)
    gt_w = ops.maximum(matched[..., 3] - matched[..., 1], 1e-3)
    in_mini = ops.stack(
        [
            (rois[..., 0] - matched[..., 0]) / gt_h * mini_h,
            (rois[..., 1] - matched[..., 1]) / gt_w * mini_w,
            (rois[..., 2] - matched[..., 0]) / gt_h * mini_h,
            (rois[..., 3] - matched[..., 1]) / gt_w * mini_w,
        ],
        axis=-1,
    )
    image_index = ops.expand_dims(ops.arange(batch), 1) * num_gt + gt_index
    crops = tfops.roi_align(
        ops.reshape(ops.cast(gt_masks, "float32"), (-1, mini_h, mini_w, 1)),
        ops.reshape(in_mini, (-1, 4)),
        ops.reshape(image_index, (-1,)),
        tuple(mask_shape),
    )
    crops = ops.reshape(crops, (batch, num_rois) + tuple(mask_shape))
    return ops.cast(crops >= 0.5, "float32")
