"""DenseNet-121/169 (Huang et al. 2017, keras.applications) as [C2..C5] extractors.

The normalised, activated map of each transition layer, taken before its 1x1 conv and
2x2 average pool, is the last map at that resolution: C2..C4 = pool2_relu (s4),
pool3_relu (s8), pool4_relu (s16); C5 = the final BN + ReLU (``relu``, s32).
Torch-style preprocessing (0..1, ImageNet mean/std) inside the model.
"""

from __future__ import annotations

import keras

from bloodview.model.backbones.common import ImagePreprocessing, feature_model, image_input

FEATURE_LAYERS = ["pool2_relu", "pool3_relu", "pool4_relu", "relu"]
_CONSTRUCTORS = {"densenet121": "DenseNet121", "densenet169": "DenseNet169"}


def build_densenet(name: str, input_shape: tuple, weights: str | None) -> keras.Model:
    inputs = image_input(input_shape)
    x = ImagePreprocessing("torch", name="preprocess")(inputs)
    net = getattr(keras.applications, _CONSTRUCTORS[name])(
        include_top=False, weights=weights, input_tensor=x, input_shape=tuple(input_shape)
    )
    features = [net.get_layer(layer).output for layer in FEATURE_LAYERS]
    return feature_model(inputs, features, name)


def build_densenet121(input_shape: tuple, weights: str | None = None) -> keras.Model:
    return build_densenet("densenet121", input_shape, weights)


def build_densenet169(input_shape: tuple, weights: str | None = None) -> keras.Model:
    return build_densenet("densenet169", input_shape, weights)
