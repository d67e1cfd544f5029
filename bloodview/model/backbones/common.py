"""Pieces every backbone family shares: input preprocessing, BatchNorm momentum, weights files.

A backbone maps float32 RGB images in 0..255 (shape [B, H, W, 3]) to the feature maps
[C2, C3, C4, C5] at strides 4, 8, 16, 32. Each family's own input normalisation lives
INSIDE the model (an :class:`ImagePreprocessing` layer), so callers never preprocess.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import keras
from keras import ops

from bloodview.errors import ModelError

log = logging.getLogger(__name__)

# Per-channel statistics of ImageNet, in 0..255 RGB, as keras.applications uses them.
_CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
PREPROCESSING_MODES = ("caffe", "torch", "tf", "none")


@keras.saving.register_keras_serializable(package="bloodview")
class ImagePreprocessing(keras.layers.Layer):
    """Normalise RGB 0..255 images the way a backbone family's ImageNet weights expect.

    Modes (the ``keras.applications.imagenet_utils`` names):
      * ``caffe``: RGB -> BGR, subtract the ImageNet BGR mean (ResNet, VGG);
      * ``torch``: scale to 0..1, subtract the ImageNet mean, divide by its std (DenseNet, ResNeXt);
      * ``tf``: scale to -1..1;
      * ``none``: identity (the family normalises inside its own layers, e.g. MobileNetV3).
    """

    def __init__(self, mode: str = "caffe", **kwargs):
        super().__init__(**kwargs)
        if mode not in PREPROCESSING_MODES:
            raise ValueError(f"unknown preprocessing mode {mode!r}; known: {PREPROCESSING_MODES}")
        self.mode = mode

    def call(self, images):
        x = ops.cast(images, self.compute_dtype)
        if self.mode == "caffe":
            x = ops.flip(x, axis=-1)
            return x - ops.convert_to_tensor(_CAFFE_BGR_MEAN, dtype=x.dtype)
        if self.mode == "torch":
            mean = ops.convert_to_tensor(_TORCH_MEAN, dtype=x.dtype)
            std = ops.convert_to_tensor(_TORCH_STD, dtype=x.dtype)
            return (x / 255.0 - mean) / std
        if self.mode == "tf":
            return x / 127.5 - 1.0
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


def image_input(input_shape: tuple) -> keras.KerasTensor:
    """The backbone's input: float32 RGB 0..255, named ``image``."""
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ModelError(f"a backbone needs RGB input of shape (H, W, 3), got {tuple(input_shape)}")
    for side in input_shape[:2]:
        if side is not None and side % 32:
            raise ModelError(
                f"backbone input sides must be multiples of 32 (stride of C5), got {tuple(input_shape)}"
            )
    return keras.Input(shape=tuple(input_shape), dtype="float32", name="image")


def feature_model(inputs, features: list, name: str) -> keras.Model:
    """Wrap ``features`` = [C2, C3, C4, C5] tensors into a functional model named ``name``."""
    return keras.Model(inputs=inputs, outputs=list(features), name=name)


def set_batchnorm_momentum(model: keras.Model, momentum: float) -> int:
    """Set every BatchNormalization layer's moving-average momentum; returns how many.

    keras.applications builds BN with momentum 0.999, which leaves the moving statistics
    close to their initial values for thousands of steps when training from scratch.
    The attribute is read at call time, so patching after construction is enough.
    """
    if not 0.0 <= momentum < 1.0:
        raise ModelError(f"batchnorm_momentum must be in [0, 1), got {momentum}")
    count = 0
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = float(momentum)
            count += 1
    return count


def batchnorm_momenta(model: keras.Model) -> set[float]:
    """The distinct BN momenta inside ``model`` (for tests and diagnostics)."""
    return {
        float(layer.momentum)
        for layer in _all_layers(model)
        if isinstance(layer, keras.layers.BatchNormalization)
    }


def _all_layers(model: keras.Model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def load_backbone_weights(model: keras.Model, path: str | Path) -> None:
    """Load a ``.weights.h5`` file saved (``save_weights``) from the same backbone.

    Raises ModelError naming the file when it is missing or does not fit the backbone,
    including when Keras would only warn and leave some layers freshly initialised.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: backbone weights file not found")
    if not path.name.endswith(".weights.h5"):
        raise ModelError(f"{path}: backbone weights must be a Keras '.weights.h5' file")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(path)
            problem = next((str(w.message) for w in caught if "Skipping" in str(w.message)), None)
        except (ValueError, KeyError, OSError) as error:
            problem = str(error)
    if problem is not None:
        raise ModelError(f"{path}: these weights do not fit the {model.name!r} backbone ({problem})")
    log.info("loaded backbone weights %s into %s", path, model.name)
