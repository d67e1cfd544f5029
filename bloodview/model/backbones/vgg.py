"""VGG-19 (Simonyan & Zisserman 2015, keras.applications) as a [C2..C5] extractor.

VGG halves the resolution with a max pool at the END of each block, so the stride-4 map
is the last conv of block 3 (``block3_conv4``, after ``block2_pool``), not block 2's.
C2..C5 = block3_conv4 (s4, 256 ch), block4_conv4 (s8, 512), block5_conv4 (s16, 512),
block5_pool (s32, 512). Caffe-style preprocessing inside the model; VGG has no BatchNorm.
"""

from __future__ import annotations

import keras

from bloodview.model.backbones.common import ImagePreprocessing, feature_model, image_input

FEATURE_LAYERS = ["block3_conv4", "block4_conv4", "block5_conv4", "block5_pool"]


def build_vgg19(input_shape: tuple, weights: str | None = None) -> keras.Model:
    inputs = image_input(input_shape)
    x = ImagePreprocessing("caffe", name="preprocess")(inputs)
    net = keras.applications.VGG19(
        include_top=False, weights=weights, input_tensor=x, input_shape=tuple(input_shape)
    )
    features = [net.get_layer(layer).output for layer in FEATURE_LAYERS]
    return feature_model(inputs, features, "vgg19")
