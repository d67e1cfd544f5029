"""ResNet-18-style backbones built here (basic blocks, 2-2-2-2), full or reduced width.

Not in the paper: a candidate small backbone for CPU training from scratch. Plain
conv + BN + ReLU residual nets are the easiest to train from random weights.
C2..C5 = conv2..conv5 last block outputs (strides 4, 8, 16, 32; ``widths`` channels).
Torch-style preprocessing inside the model.
"""

from __future__ import annotations

import keras

from bloodview.model.backbones.blocks import basic_block, stem
from bloodview.model.backbones.common import ImagePreprocessing, feature_model, image_input

BLOCKS = (2, 2, 2, 2)
_WIDTHS = {"resnet18": (64, 128, 256, 512), "resnet18slim": (32, 64, 128, 256)}


def build_resnet18_family(name: str, input_shape: tuple, weights: str | None = None) -> keras.Model:
    """``name`` in ("resnet18", "resnet18slim"); random weights only."""
    if weights is not None:
        raise ValueError(f"{name} has no downloadable weights; build it with weights=None")
    widths = _WIDTHS[name]
    inputs = image_input(input_shape)
    x = ImagePreprocessing("torch", name="preprocess")(inputs)
    x = stem(x, widths[0])
    features = []
    for index, (blocks, filters) in enumerate(zip(BLOCKS, widths)):
        stage = index + 2
        for block in range(1, blocks + 1):
            stride = 2 if block == 1 and stage > 2 else 1
            x = basic_block(x, filters, stride, f"conv{stage}_block{block}")
        features.append(x)
    return feature_model(inputs, features, name)


def build_resnet18(input_shape: tuple, weights: str | None = None) -> keras.Model:
    return build_resnet18_family("resnet18", input_shape, weights)


def build_resnet18slim(input_shape: tuple, weights: str | None = None) -> keras.Model:
    return build_resnet18_family("resnet18slim", input_shape, weights)
