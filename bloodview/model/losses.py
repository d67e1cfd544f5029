"""The five Mask R-CNN losses and the weight penalty, as pure functions of tensors.

Each loss is a mean over the items it applies to (sampled anchors, valid ROIs,
positive ROIs, positive mask pixels) and is exactly 0 when there are none, so an
image without cells gives zero box and mask losses instead of NaN.
Smooth L1 uses Matterport's threshold of 1 (beta = 1) and is averaged over
coordinates as well as boxes.
"""

from __future__ import annotations

from collections.abc import Sequence

from keras import ops

LOSS_NAMES = ("rpn_class_loss", "rpn_bbox_loss", "class_loss", "bbox_loss", "mask_loss")


def _safe_mean(values, weights):
    weights = ops.cast(weights, values.dtype)
    return ops.sum(values * weights) / ops.maximum(ops.sum(weights), 1.0)


def smooth_l1(difference):
    """Elementwise Huber loss with threshold 1: ``0.5 d^2`` if ``|d| < 1`` else ``|d| - 0.5``."""
    absolute = ops.abs(difference)
    return ops.where(absolute < 1.0, 0.5 * ops.square(difference), absolute - 0.5)


def sigmoid_cross_entropy(labels, logits):
    """Elementwise binary cross-entropy of ``sigmoid(logits)`` against 0/1 ``labels`` (stable)."""
    labels = ops.cast(labels, logits.dtype)
    return ops.relu(logits) - logits * labels + ops.log1p(ops.exp(-ops.abs(logits)))


def rpn_class_loss(match, logits):
    """Objectness BCE over sampled anchors. match: int [B, A] (1 pos, -1 neg, 0 ignore); logits [B, A]."""
    return _safe_mean(sigmoid_cross_entropy(match == 1, logits), match != 0)


def rpn_bbox_loss(match, target_deltas, pred_deltas):
    """Smooth L1 over positive anchors. match [B, A]; deltas [B, A, 4]."""
    per_box = smooth_l1(target_deltas - pred_deltas)
    positive = ops.broadcast_to(ops.expand_dims(match == 1, -1), ops.shape(per_box))
    return _safe_mean(per_box, positive)


def _label_weights(target_class_ids, num_classes: int, table):
    """Per-class weights of each label: one-hot, or a group's members from ``table`` (label_groups)."""
    ids = ops.cast(target_class_ids, "int32")
    if table is None:
        return ops.one_hot(ids, num_classes, dtype="float32")
    return ops.take(ops.convert_to_tensor(table, "float32"), ids, axis=0)


def class_loss(target_class_ids, logits, valid, table=None):
    """Softmax cross-entropy over valid ROIs. ids int [B, R]; logits [B, R, K]; valid bool [B, R].

    With a membership ``table`` ([K + groups, K], :mod:`label_groups`) a group label's
    loss is ``-log`` of the summed probability of its classes (a partial label).
    """
    log_probs = ops.log_softmax(logits, axis=-1)
    allowed = _label_weights(target_class_ids, logits.shape[-1], table)
    # log(sum over allowed classes of p): logsumexp with the other classes pushed far down.
    picked = ops.logsumexp(ops.where(allowed > 0, log_probs, -1e9), axis=-1)
    return _safe_mean(-picked, valid)


def _member_mean(per_class, weights, axis):
    """Mean of ``per_class`` over a label's member classes (weights 0/1 along ``axis``)."""
    return ops.sum(per_class * weights, axis=axis) / ops.maximum(ops.sum(weights, axis=axis), 1.0)


def bbox_loss(target_class_ids, target_deltas, pred_deltas, table=None):
    """Smooth L1 on the true class's deltas of positive ROIs (mean over a group label's classes).

    ids int [B, R] (0 = background); target_deltas [B, R, 4]; pred_deltas [B, R, K, 4].
    """
    ids = ops.cast(target_class_ids, "int32")
    weights = ops.cast(_label_weights(ids, pred_deltas.shape[-2], table), pred_deltas.dtype)
    per_class = smooth_l1(ops.expand_dims(target_deltas, -2) - pred_deltas)  # [B, R, K, 4]
    per_box = _member_mean(per_class, ops.expand_dims(weights, -1), axis=-2)
    positive = ops.broadcast_to(ops.expand_dims(ids > 0, -1), ops.shape(per_box))
    return _safe_mean(per_box, positive)


def mask_loss(target_class_ids, target_masks, pred_logits, table=None):
    """Per-pixel BCE on the true class's mask of positive ROIs (mean over a group label's classes).

    ids int [N]; target_masks [N, h, w] of 0/1; pred_logits [N, h, w, K].
    """
    ids = ops.cast(target_class_ids, "int32")
    weights = ops.cast(_label_weights(ids, pred_logits.shape[-1], table), pred_logits.dtype)
    per_class = sigmoid_cross_entropy(ops.expand_dims(target_masks, -1), pred_logits)  # [N, h, w, K]
    per_pixel = _member_mean(per_class, weights[:, None, None, :], axis=-1)
    positive = ops.broadcast_to(ops.reshape(ids > 0, (-1, 1, 1)), ops.shape(per_pixel))
    return _safe_mean(per_pixel, positive)


def weight_penalty(kernels: Sequence, weight_decay: float):
    """``0.5 * weight_decay * sum(w^2)`` over kernels: plain SGD weight decay as a loss term."""
    if not kernels or weight_decay <= 0:
        return ops.convert_to_tensor(0.0)
    return 0.5 * weight_decay * ops.sum(ops.stack([ops.sum(ops.square(k)) for k in kernels]))


def total_loss(losses: dict, weights: dict):
    """Weighted sum of the five losses (missing weights count as 1)."""
    return sum(weights.get(name, 1.0) * losses[name] for name in LOSS_NAMES)
