"""Mask R-CNN (He et al. 2017) as a Keras 3 model: wiring only, every stage is its own module.

backbone -> :mod:`fpn` -> :mod:`rpn` + :mod:`anchors` -> :mod:`proposals` ->
(training: :mod:`targets`) -> :mod:`roi_align` -> :mod:`heads` -> :mod:`losses`
or :mod:`detection`.

Tensors inside the model use ``(y1, x1, y2, x2)`` pixels of the padded square input.
The training batch and the :meth:`MaskRCNN.detect` outputs are described in
notes/MODEL_CONTRACT.md. Build with :func:`build_maskrcnn`; under a
``tf.distribute`` strategy call it inside ``strategy.scope()``.
"""

from __future__ import annotations

import logging

import keras
import numpy as np
from keras import ops

from bloodview.errors import ModelError
from bloodview.model import ops as tfops
from bloodview.model.anchors import feature_shapes, pyramid_anchors
from bloodview.model.box_coding import grow_boxes
from bloodview.model.config import MaskRCNNConfig
from bloodview.model.detection import refine_detections
from bloodview.model.fpn import FeaturePyramid
from bloodview.model.heads import BoxHead, MaskHead
from bloodview.model.losses import (
    LOSS_NAMES,
    bbox_loss,
    class_loss,
    mask_loss,
    rpn_bbox_loss,
    rpn_class_loss,
    total_loss,
    weight_penalty,
)
from bloodview.model.proposals import generate_proposals
from bloodview.model.roi_align import batched_roi_align, pyramid_roi_align
from bloodview.model.settings import NetworkSettings, settings_from_config
from bloodview.model.targets import detection_targets, rpn_targets
from bloodview.model.rpn import RPNHead

log = logging.getLogger(__name__)

ROI_STRIDES = (4, 8, 16, 32)  # P2..P5 feed the ROI heads; P6 only the RPN


class MaskRCNN(keras.Model):
    """Backbone + FPN + RPN + box and mask heads.

    Args:
        backbone: keras.Model mapping float32 RGB 0..255 images [B, S, S, 3] to
            ``[C2, C3, C4, C5]`` (strides 4, 8, 16, 32).
        settings: the network's hyper-parameters (:func:`settings_from_config`).

    ``model(inputs)`` with ``inputs = {"images", "windows"}`` returns the detection
    tensors; :meth:`detect` is the compiled NumPy-in/NumPy-out version.
    """

    def __init__(self, backbone: keras.Model, settings: NetworkSettings, **kwargs):
        super().__init__(**kwargs)
        heads = settings.heads
        if tuple(heads.mask_shape) != (2 * heads.mask_pool_size, 2 * heads.mask_pool_size):
            raise ModelError(
                f"mask_shape {list(heads.mask_shape)} must be twice mask_pool_size ({heads.mask_pool_size}): "
                "the mask head upsamples its pooled features by 2"
            )
        self.settings = settings
        rpn = settings.rpn
        self.backbone = backbone
        self.fpn = FeaturePyramid(settings.pyramid_channels, name="fpn")
        self.rpn_head = RPNHead(len(rpn.anchor_ratios), rpn.anchor_stride, settings.pyramid_channels, name="rpn")
        self.box_head = BoxHead(settings.num_classes, settings.heads.fc_size, name="box_head")
        self.mask_head = MaskHead(settings.num_classes, settings.pyramid_channels, name="mask_head")
        self.anchors = pyramid_anchors(
            settings.input_shape, rpn.anchor_scales, rpn.anchor_ratios, rpn.strides, rpn.anchor_stride
        )
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss",) + LOSS_NAMES}
        self._detect_function = None

    # === Build ===
    def build(self, input_shape=None):
        height, width = self.settings.input_shape
        channels = [int(t.shape[-1]) for t in self.backbone.outputs]
        shapes = [(None, height // s, width // s, c) for s, c in zip(ROI_STRIDES, channels)]
        self.fpn.build(shapes)
        pyramid = self.settings.pyramid_channels
        self.rpn_head.build([(None, height // 4, width // 4, pyramid)])
        pool, mask_pool = self.settings.heads.pool_size, self.settings.heads.mask_pool_size
        self.box_head.build((None, pool, pool, pyramid))
        self.mask_head.build((None, mask_pool, mask_pool, pyramid))
        self.built = True

    # === Shared stages ===
    def _pyramid(self, images, training: bool):
        bn_training = bool(training and self.settings.train.train_backbone_bn)
        features = self.backbone(images, training=bn_training)
        return self.fpn(list(features))

    def _rpn(self, pyramid):
        logits, deltas = self.rpn_head(pyramid)
        return ops.cast(logits, "float32"), ops.cast(deltas, "float32")

    def _box_head(self, pyramid, rois):
        pool = self.settings.heads.pool_size
        pooled = batched_roi_align(
            pyramid[:4], rois, (pool, pool), ROI_STRIDES, self.settings.heads.roi_canonical_size
        )
        batch, per_image = ops.shape(rois)[0], rois.shape[1]
        logits, deltas = self.box_head(ops.reshape(pooled, (-1, pool, pool, pooled.shape[-1])))
        classes = self.settings.num_classes
        logits = ops.reshape(ops.cast(logits, "float32"), (batch, per_image, classes))
        return logits, ops.reshape(ops.cast(deltas, "float32"), (batch, per_image, classes, 4))

    def _mask_logits(self, pyramid, boxes, batch_indices):
        size = self.settings.heads.mask_pool_size
        pooled = pyramid_roi_align(pyramid[:4], boxes, batch_indices, (size, size), ROI_STRIDES)
        # TF's CPU 1x1 convolution mishandles an empty batch (it returns its input), and
        # images without cells give one: run the head on one extra zero ROI, then drop it.
        padded = ops.concatenate([pooled, ops.zeros((1,) + tuple(pooled.shape[1:]), pooled.dtype)], axis=0)
        return ops.cast(self.mask_head(padded)[:-1], "float32")

    def _anchors_before_level(self, level: int) -> int:
        """How many of ``self.anchors`` belong to the pyramid levels before ``level`` (they come level by level)."""
        rpn = self.settings.rpn
        shapes = feature_shapes(self.settings.input_shape, rpn.strides)[:level]
        per_location = len(rpn.anchor_ratios)
        return sum(-(-h // rpn.anchor_stride) * -(-w // rpn.anchor_stride) * per_location for h, w in shapes)

    # === Inference ===
    def call(self, inputs, training=False):
        return self._detect_graph(inputs["images"], inputs["windows"], self.settings.detection.min_confidence)

    def _detect_graph(self, images, windows, min_confidence):
        rpn, det = self.settings.rpn, self.settings.detection
        pyramid = self._pyramid(images, training=False)
        skip = rpn.inference_skip_levels
        rpn_logits, rpn_deltas = self._rpn(pyramid[skip:])
        proposals, valid = generate_proposals(
            rpn_logits,
            rpn_deltas,
            self.anchors[self._anchors_before_level(skip):],
            windows,
            pre_nms_limit=rpn.pre_nms_limit,
            count=rpn.post_nms_inference,
            nms_threshold=rpn.nms_threshold,
            std_dev=rpn.std_dev,
        )
        class_logits, deltas = self._box_head(pyramid, proposals)
        found = refine_detections(
            proposals,
            valid,
            class_logits,
            deltas,
            windows,
            std_dev=self.settings.heads.std_dev,
            max_instances=det.max_instances,
            nms_threshold=det.nms_threshold,
            min_confidence=min_confidence,
        )
        # The mask head runs only on the rows that hold a detection, each on its box grown by
        # ``mask_box_scale`` (``mask_boxes``: the masks cover these boxes, not ``boxes``).
        found["mask_boxes"] = grow_boxes(found["boxes"], det.mask_box_scale, windows)
        rows = tfops.true_indices(ops.arange(det.max_instances)[None, :] < found["counts"][:, None])
        logits = self._mask_logits(pyramid, tfops.gather_rows(found["mask_boxes"], rows), rows[:, 0])
        class_ids = tfops.gather_rows(found["class_ids"], rows)
        one_hot = ops.one_hot(class_ids, self.settings.num_classes, dtype=logits.dtype)
        masks = ops.sigmoid(ops.sum(logits * one_hot[:, None, None, :], axis=-1))
        mask_h, mask_w = self.settings.heads.mask_shape
        found["masks"] = tfops.scatter_rows(rows, masks, (ops.shape(images)[0], det.max_instances, mask_h, mask_w))
        return found

    def detect(self, images, windows, min_confidence: float | None = None) -> dict[str, np.ndarray]:
        """Detect cells in a batch of padded model inputs.

        Args:
            images: float32 [B, H, W, 3] RGB 0..255 (``settings.input_shape``; square
                ``image_max_dim`` unless the network was built for another shape).
            windows: float32 [B, 4] ``(y1, x1, y2, x2)`` of the real image in the padding.
            min_confidence: class probability to keep a cell (default: the config's).

        Returns:
            NumPy ``boxes`` [B, D, 4], ``class_ids`` [B, D] int32 (0 = empty row),
            ``scores`` [B, D], ``masks`` [B, D, 28, 28] probabilities of the detected
            class inside its box, ``counts`` [B]; rows sorted by score.
        """
        height, width = self.settings.input_shape
        if self._detect_function is None:
            self._detect_function = tfops.compiled(
                self._detect_graph,
                input_signature=[
                    tfops.tensor_spec((None, height, width, 3), "float32"),
                    tfops.tensor_spec((None, 4), "float32"),
                    tfops.tensor_spec((), "float32"),
                ],
            )
        if min_confidence is None:
            min_confidence = self.settings.detection.min_confidence
        images = np.asarray(images, dtype=np.float32)
        windows = np.asarray(windows, dtype=np.float32)
        if images.ndim != 4 or images.shape[1:] != (height, width, 3):
            raise ValueError(f"detect() needs padded images of shape [B, {height}, {width}, 3], got {images.shape}")
        if windows.shape != (images.shape[0], 4):
            raise ValueError(f"detect() needs one (y1, x1, y2, x2) window per image, got {windows.shape}")
        found = self._detect_function(images, windows, np.float32(min_confidence))
        return {key: np.asarray(value) for key, value in found.items()}

    # === Training ===
    def compute_losses(self, batch: dict, training: bool) -> dict:
        """The five losses of one (per-replica) batch, each a mean over that batch."""
        rpn, heads = self.settings.rpn, self.settings.heads
        table = self.settings.train.label_table  # group labels ("white cell, type unknown"), or None
        gt_class_ids = ops.cast(batch["gt_class_ids"], "int32")
        gt_boxes = ops.cast(batch["gt_boxes"], "float32")
        pyramid = self._pyramid(ops.cast(batch["images"], "float32"), training=training)
        rpn_logits, rpn_deltas = self._rpn(pyramid)
        match, anchor_deltas = rpn_targets(
            self.anchors,
            gt_boxes,
            gt_class_ids,
            anchors_per_image=rpn.train_anchors_per_image,
            std_dev=rpn.std_dev,
        )
        proposals, valid = generate_proposals(
            rpn_logits,
            rpn_deltas,
            self.anchors,
            ops.cast(batch["windows"], "float32"),
            pre_nms_limit=rpn.pre_nms_limit,
            count=rpn.post_nms_training,
            nms_threshold=rpn.nms_threshold,
            std_dev=rpn.std_dev,
        )
        targets = detection_targets(
            proposals,
            valid,
            gt_class_ids,
            gt_boxes,
            batch["gt_masks"],
            rois_per_image=heads.rois_per_image,
            positive_ratio=heads.positive_ratio,
            std_dev=heads.std_dev,
            mask_shape=heads.mask_shape,
        )
        class_logits, deltas = self._box_head(pyramid, targets["rois"])
        # The mask head (the costliest part per ROI) runs on positive ROIs only.
        positives = tfops.true_indices(targets["class_ids"] > 0)
        mask_logits = self._mask_logits(pyramid, tfops.gather_rows(targets["rois"], positives), positives[:, 0])
        return {
            "rpn_class_loss": rpn_class_loss(match, rpn_logits),
            "rpn_bbox_loss": rpn_bbox_loss(match, anchor_deltas, rpn_deltas),
            "class_loss": class_loss(targets["class_ids"], class_logits, targets["valid"], table),
            "bbox_loss": bbox_loss(targets["class_ids"], targets["deltas"], deltas, table),
            "mask_loss": mask_loss(
                tfops.gather_rows(targets["class_ids"], positives),
                tfops.gather_rows(targets["masks"], positives),
                mask_logits,
                table,
            ),
        }

    def _objective(self, losses: dict):
        """``loss``: the weighted five losses plus the L2 penalty on trainable kernels.

        Reported the same way in training and validation (as Matterport and Keras do),
        so ``loss`` and ``val_loss`` differ only by the data.
        """
        train = self.settings.train
        kernels = [v for v in self.trainable_variables if len(v.shape) > 1]
        return total_loss(losses, train.loss_weights) + weight_penalty(kernels, train.weight_decay)

    def _record(self, losses: dict) -> dict:
        for name, value in losses.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data):
        batch = data[0] if isinstance(data, tuple) else data
        train = self.settings.train
        variables = self.trainable_variables
        replicas = tfops.num_replicas()
        with tfops.GradientTape() as tape:
            losses = self.compute_losses(batch, training=True)
            loss = self._objective(losses)
            # Each replica's loss is its local mean; the optimizer sums replica gradients.
            # scale_loss is the identity unless mixed precision wrapped the optimizer.
            scaled = self.optimizer.scale_loss(loss / replicas)
        grads = tape.gradient(scaled, variables)
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        grads = [g for g, _ in pairs]
        if train.gradient_clip_norm and train.gradient_clip_norm > 0:
            # Clip each variable's gradient of the whole (global) batch, like Keras' clipnorm
            # in Matterport; gradients are still multiplied by the loss scale here.
            limit = train.gradient_clip_norm * ops.cast(getattr(self.optimizer, "dynamic_scale", 1.0), "float32")
            grads = tfops.all_reduce_sum(grads)
            grads = [tfops.clip_by_norm(g, limit) / replicas for g in grads]
        self.optimizer.apply(grads, [v for _, v in pairs])
        return self._record({"loss": loss, **losses})

    def test_step(self, data):
        batch = data[0] if isinstance(data, tuple) else data
        losses = self.compute_losses(batch, training=False)
        return self._record({"loss": self._objective(losses), **losses})

    @property
    def metrics(self):
        return list(self.trackers.values())


def maskrcnn_from_config(config: MaskRCNNConfig, backbone: keras.Model) -> MaskRCNN:
    """A built (not compiled) :class:`MaskRCNN` around ``backbone`` with ``config``'s settings."""
    model = MaskRCNN(backbone, settings_from_config(config), name="mask_rcnn")
    model.build()
    return model


def detection_network(
    model: MaskRCNN, config: MaskRCNNConfig, height: int, width: int, backbone: keras.Model | None = None
) -> MaskRCNN:
    """A copy of ``model`` (same weights) whose input is ``height x width`` pixels, for detection.

    The weights do not depend on the input size, so a camera's field can run through a network
    shaped like it instead of square tiles that cover it with up to twice its pixels. A network
    larger than ``model``'s own input keeps its detection limit per pixel (scaled by the area
    ratio, never below ``model``'s), so a big tile finds as many cells per area as a small one;
    its proposals grow with the area too, up to ``config.tile_proposal_limit`` (never below
    ``model``'s own count). Sides must be multiples of 64 (the coarsest pyramid level).
    """
    from dataclasses import replace

    if height <= 0 or width <= 0 or height % 64 or width % 64:
        raise ModelError(f"a detection input must have sides that are positive multiples of 64, got {height}x{width}")
    base_height, base_width = model.settings.input_shape
    growth = max(1.0, (height * width) / float(base_height * base_width))
    settings = model.settings
    settings = replace(
        settings,
        image_size=width,
        image_height=height,
        rpn=replace(settings.rpn, post_nms_inference=tile_proposals(
            settings.rpn.post_nms_inference, growth, config.tile_proposal_limit)),
        detection=replace(settings.detection, max_instances=int(round(settings.detection.max_instances * growth))),
    )
    if backbone is None:
        from bloodview.model.backbones import build_backbone

        backbone = build_backbone(
            config.backbone, input_shape=(height, width, 3), weights=None, batchnorm_momentum=config.batchnorm_momentum
        )
    copy = MaskRCNN(backbone, settings, name="mask_rcnn")
    copy.build()
    source, target = model.weights, copy.weights
    if len(source) != len(target) or any(tuple(a.shape) != tuple(b.shape) for a, b in zip(source, target)):
        raise ModelError("cannot reshape the detection network: its weights do not match a rebuilt copy")
    for a, b in zip(source, target):
        b.assign(a)
    return copy


def tile_proposals(proposals: int, growth: float, limit: int = 0) -> int:
    """Proposals for a network ``growth`` times the input's area: as many per pixel as the input's
    ``proposals``, at most ``limit`` (0: no limit) and never fewer than ``proposals``."""
    grown = int(round(proposals * max(1.0, growth)))
    return max(proposals, min(grown, limit)) if limit else grown


def build_maskrcnn(config: MaskRCNNConfig, backbone_weights=None, backbone: keras.Model | None = None) -> MaskRCNN:
    """Build and compile the network described by ``config``.

    Args:
        config: the model configuration (``backbone`` names a registered backbone).
        backbone_weights: None, "imagenet" or a path, passed to ``build_backbone``.
        backbone: an already built backbone model to use instead (tests, custom nets).

    Returns:
        A built :class:`MaskRCNN` (``load_weights`` works at once), compiled with SGD
        (``learning_rate``, ``learning_momentum``). Gradient clipping and weight decay
        are applied by ``train_step`` from the config, not by the optimizer.
    """
    if backbone is None:
        from bloodview.model.backbones import build_backbone

        backbone = build_backbone(
            config.backbone,
            input_shape=config.image_shape,
            weights=backbone_weights,
            batchnorm_momentum=config.batchnorm_momentum,
        )
    model = maskrcnn_from_config(config, backbone)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=config.learning_rate, momentum=config.learning_momentum),
        jit_compile=False,
    )
    return model
