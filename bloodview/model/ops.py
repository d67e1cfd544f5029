"""The only module of the network with raw TensorFlow ops.

``keras.ops`` has no crop-and-resize, no non-maximum suppression and no
scatter/gather by row index; this module wraps the TF kernels that do, so every
other part of the network can stay in ``keras.ops``.

Conventions: boxes are ``(y1, x1, y2, x2)`` in pixels, with pixel ``(row, col)``
covering ``[row, row+1) x [col, col+1)`` (box edges run along pixel edges).
"""

from __future__ import annotations

import tensorflow as tf


def roi_align(
    features: tf.Tensor, boxes: tf.Tensor, batch_indices: tf.Tensor, size: tuple[int, int]
) -> tf.Tensor:
    """Crop every box out of ``features`` into a ``size`` grid, one bilinear sample per bin.

    Args:
        features: float [B, H, W, C] feature map (or image).
        boxes: float [N, 4] ``(y1, x1, y2, x2)`` in that map's own pixel units.
        batch_indices: int32 [N], which image of the batch each box crops.
        size: output ``(rows, cols)``.

    Returns:
        float [N, rows, cols, C]; bin ``(i, j)`` holds the bilinear value at the bin
        centre, ``y = y1 + (i + 0.5) * (y2 - y1) / rows`` (pixel-edge coordinates),
        i.e. ROI Align with ``aligned=True`` and one sample per bin. Samples outside
        the map read 0.
    """
    rows, cols = size
    shape = tf.shape(features)
    height = tf.cast(shape[1], boxes.dtype)
    width = tf.cast(shape[2], boxes.dtype)
    y1, x1, y2, x2 = tf.unstack(boxes, axis=-1)
    bin_h = (y2 - y1) / rows
    bin_w = (x2 - x1) / cols
    # First and last bin centres in pixel-centre coordinates, normalised the way
    # crop_and_resize reads them (0 -> first pixel centre, 1 -> last pixel centre).
    norm_y = tf.maximum(height - 1.0, 1.0)
    norm_x = tf.maximum(width - 1.0, 1.0)
    first_y = y1 + 0.5 * bin_h - 0.5
    last_y = y2 - 0.5 * bin_h - 0.5
    first_x = x1 + 0.5 * bin_w - 0.5
    last_x = x2 - 0.5 * bin_w - 0.5
    normalised = tf.stack([first_y / norm_y, first_x / norm_x, last_y / norm_y, last_x / norm_x], axis=-1)
    return tf.image.crop_and_resize(
        features,
        tf.stop_gradient(normalised),
        tf.cast(batch_indices, tf.int32),
        (rows, cols),
        method="bilinear",
        extrapolation_value=0.0,
    )


def batched_nms(
    boxes: tf.Tensor,
    scores: tf.Tensor,
    max_per_class: int,
    max_total: int,
    iou_threshold: float,
    score_threshold: float | tf.Tensor = 0.0,
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """Per-image, per-class greedy NMS for a whole batch in one kernel.

    Args:
        boxes: float [B, N, 4] (one box per candidate, shared by all classes) or
            [B, N, K, 4] (one box per candidate and class).
        scores: float [B, N, K]; candidates at or below ``score_threshold`` are dropped.
        max_per_class / max_total: kept boxes per class and per image.

    Returns:
        ``(boxes [B, max_total, 4], scores [B, max_total], classes [B, max_total]
        int32 in 0..K-1, counts [B] int32)``, rows sorted by score, zero-padded.
    """
    if boxes.shape.rank == 3:
        boxes = boxes[:, :, tf.newaxis, :]
    out_boxes, out_scores, out_classes, counts = tf.image.combined_non_max_suppression(
        boxes,
        scores,
        max_output_size_per_class=max_per_class,
        max_total_size=max_total,
        iou_threshold=iou_threshold,
        score_threshold=score_threshold,
        pad_per_class=False,
        clip_boxes=False,
    )
    return out_boxes, out_scores, tf.cast(out_classes, tf.int32), tf.cast(counts, tf.int32)


def random_uniform(shape) -> tf.Tensor:
    """Uniform [0, 1) noise used to sample anchors and ROIs at random (different each step)."""
    return tf.random.uniform(shape, dtype=tf.float32)


def gather_rows(values: tf.Tensor, indices: tf.Tensor) -> tf.Tensor:
    """``values[indices[i]]`` for ``indices`` [K, 2] of ``(batch, row)`` pairs -> [K, ...]."""
    return tf.gather_nd(values, indices)


def true_indices(mask: tf.Tensor) -> tf.Tensor:
    """int32 [K, rank] coordinates of the ``True`` entries of ``mask`` (dynamic K)."""
    return tf.cast(tf.where(mask), tf.int32)


def scatter_rows(indices: tf.Tensor, updates: tf.Tensor, shape) -> tf.Tensor:
    """Zeros of ``shape`` with ``updates[k]`` written at ``indices[k]`` (inverse of gather_rows)."""
    return tf.scatter_nd(indices, updates, shape)


def num_replicas() -> int:
    """Replicas training in sync (1 outside ``tf.distribute``)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def all_reduce_sum(values: list) -> list:
    """Sum tensors over the replicas of the current ``tf.distribute`` step (identity with one)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return values
    return context.all_reduce(tf.distribute.ReduceOp.SUM, values)


def clip_by_norm(value: tf.Tensor, max_norm: float) -> tf.Tensor:
    """Rescale one gradient so its L2 norm is at most ``max_norm`` (Keras' ``clipnorm``)."""
    return tf.clip_by_norm(value, max_norm)


def compiled(function, input_signature=None):
    """``tf.function`` without XLA (NMS and crop_and_resize have no XLA kernels on CPU)."""
    return tf.function(function, input_signature=input_signature, reduce_retracing=True)


def tensor_spec(shape, dtype: str) -> tf.TensorSpec:
    return tf.TensorSpec(shape, tf.as_dtype(dtype))


# Keras 3 has no backend-neutral tape; custom train steps on TensorFlow use this one.
GradientTape = tf.GradientTape
