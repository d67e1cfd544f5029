"""The backbone registry: names -> specs -> builders, without importing TensorFlow.

``available_backbones()`` and ``backbone_spec()`` are cheap (the GUI lists backbones in a
menu without loading TensorFlow); ``build_backbone()`` imports the family module on demand.
Every backbone maps float32 RGB images in 0..255 ([B, H, W, 3], H and W multiples of 32)
to [C2, C3, C4, C5] at strides 4, 8, 16, 32, with its preprocessing inside the model.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bloodview.errors import ModelError

if TYPE_CHECKING:  # pragma: no cover
    import keras

IMAGENET = "imagenet"
STRIDES = (4, 8, 16, 32)


@dataclass(frozen=True)
class BackboneSpec:
    """What the program knows about a backbone before building it.

    ``params_m``: trainable + non-trainable parameters in millions (measured with
    benchmarks/backbones.py); ``imagenet``: keras.applications can download ImageNet weights;
    ``builder``: "module:function" (module in this package) taking (input_shape, weights) and returning the model.
    """

    name: str
    family: str
    description: str
    paper: bool
    params_m: float
    imagenet: bool
    builder: str
    channels: tuple[int, int, int, int]


_RESNET_CHANNELS = (256, 512, 1024, 2048)

# name, family, description, paper, params_m, imagenet, "module:function", C2..C5 channels
_PAPER = [
    ("resnet50", "resnet", "ResNet-50 (He et al. 2016)", True, 23.6, True,
     "resnet:build_resnet50", _RESNET_CHANNELS),
    ("resnet101", "resnet", "ResNet-101 (He et al. 2016)", True, 42.7, True,
     "resnet:build_resnet101", _RESNET_CHANNELS),
    ("resnet152", "resnet", "ResNet-152 (He et al. 2016)", True, 58.4, True,
     "resnet:build_resnet152", _RESNET_CHANNELS),
    ("resnext50", "resnext", "ResNeXt-50 32x4d (Xie et al. 2017), no ImageNet weights", True, 23.0,
     False, "resnext:build_resnext50", _RESNET_CHANNELS),
    ("vgg19", "vgg", "VGG-19 (Simonyan & Zisserman 2015)", True, 20.0, True, "vgg:build_vgg19",
     (256, 512, 512, 512)),
    ("densenet121", "densenet", "DenseNet-121 (Huang et al. 2017)", True, 7.0, True,
     "densenet:build_densenet121", (256, 512, 1024, 1024)),
    ("densenet169", "densenet", "DenseNet-169 (Huang et al. 2017)", True, 12.6, True,
     "densenet:build_densenet169", (256, 512, 1280, 1664)),
]

# Small backbones measured for CPU use (benchmarks/backbones.py); only the chosen one,
# DEFAULT_FAST_BACKBONE, is offered to users. MobileNetV3-Large won: within the full Mask R-CNN
# the backbone is a small part of the CPU cost (FPN + heads dominate), it learned PBC classes
# from scratch per step as well as the half-width ResNet-18 and better than MobileNetV3-Small
# and EfficientNet-B0, and (unlike the ResNet-18s) it also has ImageNet weights for users online.
_FAST_CANDIDATES = [
    ("mobilenetv3large", "mobilenet", "MobileNetV3-Large (Howard et al. 2019), fast on CPU", False,
     3.0, True, "mobile:build_mobilenetv3large", (24, 40, 112, 960)),
    ("mobilenetv3small", "mobilenet", "MobileNetV3-Small (Howard et al. 2019)", False, 0.9, True,
     "mobile:build_mobilenetv3small", (16, 24, 48, 576)),
    ("efficientnetb0", "efficientnet", "EfficientNet-B0 (Tan & Le 2019)", False, 4.0, True,
     "efficientnet:build_efficientnetb0", (24, 40, 112, 1280)),
    ("resnet18", "slimresnet", "ResNet-18-style basic-block net, trains well from scratch", False,
     11.2, False, "slimresnet:build_resnet18", (64, 128, 256, 512)),
    ("resnet18slim", "slimresnet", "ResNet-18-style net at half width, trains from scratch", False,
     2.8, False, "slimresnet:build_resnet18slim", (32, 64, 128, 256)),
]
_PAPER = [BackboneSpec(*row) for row in _PAPER]
_FAST_CANDIDATES = [BackboneSpec(*row) for row in _FAST_CANDIDATES]

DEFAULT_FAST_BACKBONE = "mobilenetv3large"

_REGISTERED = {s.name: s for s in _PAPER}
_REGISTERED.update({s.name: s for s in _FAST_CANDIDATES if s.name == DEFAULT_FAST_BACKBONE})


def available_backbones() -> list[str]:
    """Names users may pick: the paper's seven, then the fast CPU default."""
    return list(_REGISTERED)


def backbone_spec(name: str) -> BackboneSpec:
    """The spec of a registered backbone; ModelError listing the known names otherwise."""
    try:
        return _REGISTERED[name]
    except (KeyError, TypeError):
        raise ModelError(
            f"unknown backbone {name!r}; known backbones: {', '.join(available_backbones())}"
        ) from None


def candidate_specs() -> list[BackboneSpec]:
    """The small backbones that were measured to choose DEFAULT_FAST_BACKBONE (benchmarks)."""
    return list(_FAST_CANDIDATES)


def build_backbone(
    name: str,
    input_shape: tuple = (None, None, 3),
    weights: str | Path | None = None,
    batchnorm_momentum: float = 0.9,
) -> "keras.Model":
    """Build backbone ``name``: float32 RGB 0..255 [B, H, W, 3] -> [C2, C3, C4, C5].

    ``weights``: None (random), "imagenet" (keras.applications download; needs internet
    the first time) or the path of a ``.weights.h5`` file saved from the same backbone.
    ``batchnorm_momentum`` is set on every BatchNormalization layer (keras.applications
    uses 0.999, too slow when training from scratch).
    """
    return build_from_spec(backbone_spec(name), input_shape, weights, batchnorm_momentum)


def build_from_spec(
    spec: BackboneSpec,
    input_shape: tuple = (None, None, 3),
    weights: str | Path | None = None,
    batchnorm_momentum: float = 0.9,
) -> "keras.Model":
    """build_backbone for any spec, registered or candidate."""
    weights_file = None
    if isinstance(weights, str) and weights == IMAGENET:
        if not spec.imagenet:
            raise ModelError(
                f"backbone {spec.name!r} has no ImageNet weights in Keras; train it from scratch "
                "(weights=None) or pass a backbone weights file"
            )
    elif weights is not None:
        weights_file = Path(weights)
        if not weights_file.is_file():
            raise ModelError(f"{weights_file}: backbone weights file not found")
    if not 0.0 <= batchnorm_momentum < 1.0:
        raise ModelError(f"batchnorm_momentum must be in [0, 1), got {batchnorm_momentum}")

    from bloodview.model.backbones import common  # TensorFlow from here on

    module_name, function_name = spec.builder.split(":")
    module = importlib.import_module(f"bloodview.model.backbones.{module_name}")
    builder = getattr(module, function_name)
    if weights == IMAGENET:
        try:
            model = builder(tuple(input_shape), IMAGENET)
        except Exception as error:  # keras' download raises bare Exception when offline
            raise ModelError(
                f"could not get the ImageNet weights of backbone {spec.name!r} (they are "
                f"downloaded once, so an internet connection is needed): {error}"
            ) from error
    else:
        model = builder(tuple(input_shape), None)
    common.set_batchnorm_momentum(model, batchnorm_momentum)
    if weights_file is not None:
        common.load_backbone_weights(model, weights_file)
    return model
