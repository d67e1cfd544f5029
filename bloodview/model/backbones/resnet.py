"""ResNet-50/101/152 (He et al. 2016, keras.applications) as [C2, C3, C4, C5] feature extractors.

keras.applications' ResNets are the Caffe-style v1 nets (stride in the first 1x1 conv of a
stage), so their ImageNet weights expect BGR images minus the ImageNet mean ("caffe"
preprocessing, done inside the model). C2..C5 are the outputs of the last block of
stages conv2..conv5 (strides 4, 8, 16, 32; 256, 512, 1024, 2048 channels).
"""

from __future__ import annotations

import keras

from bloodview.model.backbones.common import ImagePreprocessing, feature_model, image_input

# name -> (keras.applications constructor name, blocks per stage conv2..conv5)
_VARIANTS = {
    "resnet50": ("ResNet50", (3, 4, 6, 3)),
    "resnet101": ("ResNet101", (3, 4, 23, 3)),
    "resnet152": ("ResNet152", (3, 8, 36, 3)),
}


def feature_layer_names(blocks: tuple[int, int, int, int]) -> list[str]:
    """Layer names of C2..C5: the last block output of stages conv2..conv5."""
    return [f"conv{stage}_block{n}_out" for stage, n in zip(range(2, 6), blocks)]


def build_resnet(name: str, input_shape: tuple, weights: str | None) -> keras.Model:
    """ResNet ``name`` ("resnet50", "resnet101", "resnet152") with ImageNet or random weights."""
    constructor, blocks = _VARIANTS[name]
    inputs = image_input(input_shape)
    x = ImagePreprocessing("caffe", name="preprocess")(inputs)
    net = getattr(keras.applications, constructor)(
        include_top=False, weights=weights, input_tensor=x, input_shape=tuple(input_shape)
    )
    features = [net.get_layer(layer).output for layer in feature_layer_names(blocks)]
    return feature_model(inputs, features, name)


def build_resnet50(input_shape: tuple, weights: str | None = None) -> keras.Model:
    return build_resnet("resnet50", input_shape, weights)


def build_resnet101(input_shape: tuple, weights: str | None = None) -> keras.Model:
    return build_resnet("resnet101", input_shape, weights)


def build_resnet152(input_shape: tuple, weights: str | None = None) -> keras.Model:
    return build_resnet("resnet152", input_shape, weights)
