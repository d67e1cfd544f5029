"""The one configuration of a Mask R-CNN model, saved next to every trained model.

Defaults are the paper's Table 2 (Atıcı & Koçer 2023) where it gives a value,
and Matterport/He et al. 2017 defaults otherwise. Field names are the paper's
upper-case names in snake case (``IMAGE_MIN_DIM`` -> ``image_min_dim``).
This module imports no TensorFlow: the GUI and CLI read and edit configs freely.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bloodview.core.classes import PBC_CLASSES
from bloodview.errors import FormatError


@dataclass
class MaskRCNNConfig:
    # --- the paper's Table 2 -------------------------------------------
    image_min_dim: int = 512
    image_max_dim: int = 512
    train_rois_per_image: int = 100
    max_gt_instances: int = 50
    images_per_gpu: int = 2
    gpu_count: int = 1  # replicas; set from the machine at training time
    num_classes: int = 9  # including background
    steps_per_epoch: int = 100
    epochs: int = 240
    detection_min_confidence: float = 0.75

    # --- classes (background excluded), in model index order 1..N ------
    class_names: list[str] = field(default_factory=lambda: [c.name for c in PBC_CLASSES])

    # --- backbone ------------------------------------------------------
    backbone: str = "resnet101"
    backbone_strides: list[int] = field(default_factory=lambda: [4, 8, 16, 32, 64])
    batchnorm_momentum: float = 0.9  # keras.applications' 0.999 is too slow from scratch
    train_backbone_bn: bool = True
    # False: the backbone's weights stay as loaded (fine-tuning trains the pyramid and heads only).
    train_backbone_weights: bool = True
    top_down_pyramid_size: int = 256

    # --- anchors and RPN -----------------------------------------------
    rpn_anchor_scales: list[int] = field(default_factory=lambda: [32, 64, 128, 256, 512])
    rpn_anchor_ratios: list[float] = field(default_factory=lambda: [0.5, 1.0, 2.0])
    rpn_anchor_stride: int = 1
    rpn_nms_threshold: float = 0.7
    rpn_train_anchors_per_image: int = 256
    pre_nms_limit: int = 6000
    post_nms_rois_training: int = 2000
    post_nms_rois_inference: int = 1000
    # At detection, proposals from the coarsest levels only: the RPN skips this many of the finest
    # (1 = no P2 anchors). P2's RPN convolution costs more than the whole MobileNetV3 backbone at
    # 384 px, and its anchors (4x the stride) are smaller than a platelet. 0: every level (training
    # always uses every level). Chosen by measurement (docs/model.md, "Speed").
    rpn_inference_skip_levels: int = 0
    rpn_bbox_std_dev: list[float] = field(default_factory=lambda: [0.1, 0.1, 0.2, 0.2])

    # --- ROI heads -----------------------------------------------------
    roi_positive_ratio: float = 0.33
    pool_size: int = 7
    mask_pool_size: int = 14
    mask_shape: list[int] = field(default_factory=lambda: [28, 28])
    mini_mask_shape: list[int] = field(default_factory=lambda: [56, 56])
    use_mini_mask: bool = True
    fpn_classif_fc_layers_size: int = 1024
    # FPN level assignment of the box/class head (Lin et al. 2017 eq. 1, k0 = 4): a box of
    # this many pixels is pooled from P4. 224 suits 1024-px inputs; at 256 px a whole cell
    # (~85 px) lands on P2, the shallowest map. The mask head always uses 224 (fine detail).
    roi_canonical_size: float = 224.0
    bbox_std_dev: list[float] = field(default_factory=lambda: [0.1, 0.1, 0.2, 0.2])
    detection_max_instances: int = 100
    detection_nms_threshold: float = 0.3
    # Class-agnostic suppression after per-class NMS: one cell, one detection (see model/dedupe.py).
    detection_duplicate_iou: float = 0.6
    # At detection the mask head reads each detected box grown by this factor about its centre
    # (cut to the image): the box head often draws a box a few pixels inside a round cell, and a
    # mask read in that box is cut flat along its sides. 1.0 reads the box itself (models trained
    # before 2026-12-07 and the paper). Chosen by measurement (docs/model.md, "Masks beyond the box").
    mask_box_scale: float = 1.0

    # --- physical scale and tiles (see docs/model.md, "Scale and tiles") --
    # µm per pixel of the network input. Images are rescaled to it before detection and
    # training; None: a model from before scale-aware detection (images fitted to the input).
    pixel_size_um: float | None = None
    # µm per pixel assumed for an image whose red cells give no estimate and no size is given.
    fallback_pixel_size_um: float | None = None
    # A crop (no larger than the input) without a usable red cell is taken to be framed like the
    # training crops: this many µm across its longer side (PBC: 363 px x 0.1029 µm = 37 µm).
    # None: such crops get fallback_pixel_size_um too.
    fallback_crop_field_um: float | None = None
    # Side of the square tiles detection runs on (multiple of 64; 0 = image_max_dim).
    inference_tile_size: int = 0
    # Neighbouring tiles overlap by at least this much, so every cell is whole in some tile.
    tile_overlap_um: float = 24.0
    # A network built larger than the input (a big tile) gets post_nms_rois_inference x its area
    # in inputs proposals, but at most this many (0: no limit; never fewer than the input's own).
    # A tile of a camera frame holds tens of cells, not thousands (maskrcnn.detection_network).
    tile_proposal_limit: int = 0
    # Per-channel [[low r, g, b], [high r, g, b]] of the training images' glass colours; an image
    # whose glass lies outside is balanced into it before detection (model/glass_balance.py).
    # None: images are detected as they are (models from before it, or trained without it).
    glass_colour_range: list[list[float]] | None = None

    # --- optimisation --------------------------------------------------
    learning_rate: float = 0.001
    learning_momentum: float = 0.9
    weight_decay: float = 0.0001
    gradient_clip_norm: float = 5.0
    loss_weights: dict[str, float] = field(
        default_factory=lambda: {
            "rpn_class_loss": 1.0,
            "rpn_bbox_loss": 1.0,
            "class_loss": 1.0,
            "bbox_loss": 1.0,
            "mask_loss": 1.0,
        }
    )
    validation_steps: int = 50
    mixed_precision: bool = False

    # --- augmentation (smear-appropriate) ------------------------------
    augment_flips: bool = True
    augment_rot90: bool = True
    augment_scale_range: list[float] = field(default_factory=lambda: [0.9, 1.1])
    augment_color_jitter: float = 0.1
    # Another lab's stain and camera (model/stain_augment.py); 0 = off, 0.3 = strong.
    augment_stain: float = 0.0

    def __post_init__(self) -> None:
        self.validate()

    # --- derived -------------------------------------------------------
    @property
    def batch_size(self) -> int:
        """Global batch: images per GPU times replicas (the paper's 2 x 2)."""
        return self.images_per_gpu * max(1, self.gpu_count)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Square padded model input (H, W, 3); ``image_max_dim`` must be a multiple of 64."""
        return (self.image_max_dim, self.image_max_dim, 3)

    def validate(self) -> None:
        if self.image_max_dim % 64:
            raise ValueError(
                f"image_max_dim must be a multiple of 64 (FPN down to stride 64), got {self.image_max_dim}"
            )
        if self.image_min_dim > self.image_max_dim:
            raise ValueError("image_min_dim must not exceed image_max_dim")
        if self.num_classes != len(self.class_names) + 1:
            raise ValueError(
                f"num_classes ({self.num_classes}) must be the number of class names "
                f"({len(self.class_names)}) plus one for background"
            )
        if len(self.rpn_anchor_scales) != len(self.backbone_strides):
            raise ValueError("one anchor scale per pyramid level (P2..P6) is needed")
        if not self.roi_canonical_size > 0:
            raise ValueError("roi_canonical_size must be a positive number of pixels")
        if not 0.0 <= self.detection_min_confidence <= 1.0:
            raise ValueError("detection_min_confidence must be between 0 and 1")
        if self.fallback_crop_field_um is not None and not self.fallback_crop_field_um > 0:
            raise ValueError("fallback_crop_field_um must be a positive number of micrometres")
        for name in ("pixel_size_um", "fallback_pixel_size_um"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and 0 < value < 100):
                raise ValueError(f"{name} must be a positive number of micrometres per pixel, got {value!r}")
        if self.inference_tile_size % 64 or self.inference_tile_size < 0:
            raise ValueError(f"inference_tile_size must be 0 or a multiple of 64, got {self.inference_tile_size}")
        if not 0 <= self.rpn_inference_skip_levels < len(self.backbone_strides):
            raise ValueError(f"rpn_inference_skip_levels must be 0..{len(self.backbone_strides) - 1}")
        if not self.tile_overlap_um >= 0:
            raise ValueError("tile_overlap_um must not be negative")
        if not 1.0 <= self.mask_box_scale <= 2.0:
            raise ValueError(f"mask_box_scale must be between 1 and 2, got {self.mask_box_scale}")
        if self.tile_proposal_limit < 0:
            raise ValueError(f"tile_proposal_limit must be 0 (no limit) or a number of proposals, "
                             f"got {self.tile_proposal_limit}")
        if self.glass_colour_range is not None:
            from bloodview.model.glass_balance import check_range

            check_range(self.glass_colour_range)

    @property
    def tile_size(self) -> int:
        """Side of the square tiles detection runs on."""
        return self.inference_tile_size or self.image_max_dim

    @property
    def scale_aware(self) -> bool:
        """True when the model knows its pixel size (images are rescaled to it and tiled)."""
        return self.pixel_size_um is not None

    # --- (de)serialisation ---------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str | Path | None = None) -> MaskRCNNConfig:
        """Build from a dict, accepting upper-case paper names; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        clean: dict[str, Any] = {}
        for key, value in values.items():
            name = key.lower()
            if name not in known:
                raise FormatError(source, f"unknown Mask R-CNN config field {key!r}")
            clean[name] = value
        if "class_names" in clean and "num_classes" not in clean:
            clean["num_classes"] = len(clean["class_names"]) + 1
        try:
            return cls(**clean)
        except (TypeError, ValueError) as exc:
            raise FormatError(source, f"invalid Mask R-CNN config: {exc}") from exc

    def with_overrides(self, overrides: dict[str, Any]) -> MaskRCNNConfig:
        values = self.to_dict()
        values.update({k.lower(): v for k, v in overrides.items()})
        return MaskRCNNConfig.from_dict(values)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> MaskRCNNConfig:
        path = Path(path)
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise FormatError(path, f"not valid JSON ({exc.msg} at line {exc.lineno})") from exc
        if not isinstance(values, dict):
            raise FormatError(path, "a config file must hold a JSON object")
        return cls.from_dict(values, source=path)


def parse_override(text: str) -> tuple[str, Any]:
    """``"image_max_dim=256"`` -> ``("image_max_dim", 256)``; values are JSON when they parse."""
    if "=" not in text:
        raise ValueError(f"expected FIELD=VALUE, got {text!r}")
    key, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value
