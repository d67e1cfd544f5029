"""EfficientNet-B0 (Tan & Le 2019, keras.applications) as a [C2..C5] extractor.

Not in the paper: a candidate small backbone. It normalises RGB 0..255 itself (its own
Rescaling + Normalization layers). C2..C4 = the last block outputs at strides 4, 8, 16
(block2b_add, block3b_add, block5c_add); C5 = top_activation (stride 32, 1280 ch).
"""

from __future__ import annotations

import keras

from bloodview.model.backbones.common import feature_model, image_input

FEATURE_LAYERS = ["block2b_add", "block3b_add", "block5c_add", "top_activation"]


def build_efficientnetb0(input_shape: tuple, weights: str | None = None) -> keras.Model:
    inputs = image_input(input_shape)
    net = keras.applications.EfficientNetB0(
        include_top=False, weights=weights, input_tensor=inputs, input_shape=tuple(input_shape)
    )
    features = [net.get_layer(layer).output for layer in FEATURE_LAYERS]
    return feature_model(inputs, features, "efficientnetb0")
