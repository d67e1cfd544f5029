"""The network's hyper-parameters grouped by stage, mapped from :class:`MaskRCNNConfig`.

Parts of the network receive these small frozen records (or plain arguments), never
the whole mutable config; :func:`settings_from_config` is the one place that reads it.
TensorFlow-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bloodview.model.config import MaskRCNNConfig
from bloodview.model.label_groups import group_names, membership_table


@dataclass(frozen=True)
class RPNSettings:
    """Anchors, RPN sampling and the proposal layer (lengths: one scale per level P2..P6)."""

    anchor_scales: tuple[float, ...] = (32, 64, 128, 256, 512)
    anchor_ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    anchor_stride: int = 1
    strides: tuple[int, ...] = (4, 8, 16, 32, 64)
    train_anchors_per_image: int = 256
    std_dev: tuple[float, ...] = (0.1, 0.1, 0.2, 0.2)
    nms_threshold: float = 0.7
    pre_nms_limit: int = 6000
    post_nms_training: int = 2000
    post_nms_inference: int = 1000
    inference_skip_levels: int = 0  # finest levels whose anchors detection leaves out (MaskRCNNConfig)


@dataclass(frozen=True)
class HeadSettings:
    """ROI sampling for training and the box/mask heads."""

    pool_size: int = 7
    mask_pool_size: int = 14
    mask_shape: tuple[int, int] = (28, 28)
    fc_size: int = 1024
    roi_canonical_size: float = 224.0  # box/class head level assignment (see MaskRCNNConfig)
    rois_per_image: int = 100
    positive_ratio: float = 0.33
    std_dev: tuple[float, ...] = (0.1, 0.1, 0.2, 0.2)


@dataclass(frozen=True)
class DetectionSettings:
    max_instances: int = 100
    nms_threshold: float = 0.3
    min_confidence: float = 0.75
    mask_box_scale: float = 1.0  # the mask head reads each box grown by this (MaskRCNNConfig)


@dataclass(frozen=True)
class TrainSettings:
    loss_weights: dict = field(default_factory=dict)
    weight_decay: float = 1e-4
    gradient_clip_norm: float = 5.0
    train_backbone_bn: bool = True
    # Rows of label_groups.membership_table when the classes allow group labels ("white cell,
    # type unknown"), else None: every label is one class.
    label_table: tuple[tuple[float, ...], ...] | None = None


@dataclass(frozen=True)
class NetworkSettings:
    """``image_size``: the input's width, and its height unless ``image_height`` (> 0) says
    otherwise: training runs square inputs; a detection network may be built for one image
    shape (a camera's whole field in fewer pixels than square tiles need)."""

    image_size: int
    num_classes: int
    pyramid_channels: int = 256
    rpn: RPNSettings = RPNSettings()
    heads: HeadSettings = HeadSettings()
    detection: DetectionSettings = DetectionSettings()
    train: TrainSettings = TrainSettings()
    image_height: int = 0

    @property
    def input_shape(self) -> tuple[int, int]:
        """``(height, width)`` of the padded input in pixels."""
        return (self.image_height or self.image_size, self.image_size)


def settings_from_config(config: MaskRCNNConfig) -> NetworkSettings:
    """The network hyper-parameters of ``config`` (image size = ``image_max_dim``)."""
    return NetworkSettings(
        image_size=config.image_max_dim,
        num_classes=config.num_classes,
        pyramid_channels=config.top_down_pyramid_size,
        rpn=RPNSettings(
            anchor_scales=tuple(config.rpn_anchor_scales),
            anchor_ratios=tuple(config.rpn_anchor_ratios),
            anchor_stride=config.rpn_anchor_stride,
            strides=tuple(config.backbone_strides),
            train_anchors_per_image=config.rpn_train_anchors_per_image,
            std_dev=tuple(config.rpn_bbox_std_dev),
            nms_threshold=config.rpn_nms_threshold,
            pre_nms_limit=config.pre_nms_limit,
            post_nms_training=config.post_nms_rois_training,
            post_nms_inference=config.post_nms_rois_inference,
            inference_skip_levels=config.rpn_inference_skip_levels,
        ),
        heads=HeadSettings(
            pool_size=config.pool_size,
            mask_pool_size=config.mask_pool_size,
            mask_shape=tuple(config.mask_shape),
            fc_size=config.fpn_classif_fc_layers_size,
            roi_canonical_size=float(config.roi_canonical_size),
            rois_per_image=config.train_rois_per_image,
            positive_ratio=config.roi_positive_ratio,
            std_dev=tuple(config.bbox_std_dev),
        ),
        detection=DetectionSettings(
            max_instances=config.detection_max_instances,
            nms_threshold=config.detection_nms_threshold,
            min_confidence=config.detection_min_confidence,
            mask_box_scale=float(config.mask_box_scale),
        ),
        train=TrainSettings(
            loss_weights=dict(config.loss_weights),
            weight_decay=config.weight_decay,
            gradient_clip_norm=config.gradient_clip_norm,
            train_backbone_bn=config.train_backbone_bn,
            label_table=_label_table(config),
        ),
    )


def _label_table(config: MaskRCNNConfig) -> tuple[tuple[float, ...], ...] | None:
    names = list(config.class_names)
    if len(names) + 1 != config.num_classes or not group_names(names):
        return None
    return tuple(tuple(float(v) for v in row) for row in membership_table(names))
