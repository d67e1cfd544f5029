"""ResNeXt-50 32x4d (Xie et al. 2017), built here: keras.applications has no ResNeXt.

Stages conv2..conv5 have 3, 4, 6, 3 bottleneck blocks with 32 groups of 4, 8, 16, 32
channels in the grouped 3x3 conv (``Conv2D(groups=32)``), giving 256, 512, 1024, 2048
output channels at strides 4, 8, 16, 32 ([C2, C3, C4, C5]). There are no ImageNet weights
in Keras for it, so it trains from scratch (or from a backbone weights file); input
normalisation is the torch style (0..1, ImageNet mean/std) done inside the model.
"""

from __future__ import annotations

import keras

from bloodview.model.backbones.blocks import bottleneck_block, stem
from bloodview.model.backbones.common import ImagePreprocessing, feature_model, image_input

CARDINALITY = 32
BASE_WIDTH = 4  # channels per group in conv2
BLOCKS = (3, 4, 6, 3)


def build_resnext50(input_shape: tuple, weights: str | None = None) -> keras.Model:
    """ResNeXt-50 32x4d with random weights (``weights`` must be None: no ImageNet file)."""
    if weights is not None:
        raise ValueError("ResNeXt-50 has no downloadable weights; build it with weights=None")
    inputs = image_input(input_shape)
    x = ImagePreprocessing("torch", name="preprocess")(inputs)
    x = stem(x)
    features = []
    for index, blocks in enumerate(BLOCKS):
        stage = index + 2
        width = CARDINALITY * BASE_WIDTH * 2**index
        filters = 256 * 2**index
        for block in range(1, blocks + 1):
            stride = 2 if block == 1 and stage > 2 else 1
            x = bottleneck_block(x, width, filters, stride, CARDINALITY, f"conv{stage}_block{block}")
        features.append(x)
    return feature_model(inputs, features, "resnext50")
