"""MobileNetV3 (Howard et al. 2019, keras.applications) as a small, fast [C2..C5] extractor.

MobileNetV3 normalises its input itself (``include_preprocessing``: 0..255 -> -1..1), so the
model takes RGB 0..255 directly. C2..C4 are the outputs (after the residual add) of the
last inverted-residual block at strides 4, 8 and 16; C5 is the final 1x1 expansion
(hard-swish) at stride 32.
"""

from __future__ import annotations

import keras

from bloodview.model.backbones.common import feature_model, image_input

# name -> (constructor, C2..C4 layer names); C5 is the model's last layer.
_VARIANTS = {
    "mobilenetv3large": (
        "MobileNetV3Large",
        ["expanded_conv_2_add", "expanded_conv_5_add", "expanded_conv_11_add"],
    ),
    "mobilenetv3small": (
        "MobileNetV3Small",
        ["expanded_conv_project_bn", "expanded_conv_2_add", "expanded_conv_7_add"],
    ),
}


def build_mobilenetv3(name: str, input_shape: tuple, weights: str | None) -> keras.Model:
    """MobileNetV3 ``name`` ("mobilenetv3large" or "mobilenetv3small")."""
    constructor, names = _VARIANTS[name]
    inputs = image_input(input_shape)
    net = getattr(keras.applications, constructor)(
        input_shape=tuple(input_shape),
        include_top=False,
        weights=weights,
        input_tensor=inputs,
        include_preprocessing=True,
    )
    features = [net.get_layer(layer).output for layer in names] + [net.layers[-1].output]
    return feature_model(inputs, features, name)


def build_mobilenetv3large(input_shape: tuple, weights: str | None = None) -> keras.Model:
    return build_mobilenetv3("mobilenetv3large", input_shape, weights)


def build_mobilenetv3small(input_shape: tuple, weights: str | None = None) -> keras.Model:
    return build_mobilenetv3("mobilenetv3small", input_shape, weights)
