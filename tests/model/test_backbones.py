"""Backbone registry: every backbone builds, gives [C2..C5] at strides 4/8/16/32, keeps the
configured BatchNorm momentum, round-trips its weights, and fails clearly on bad names/files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from keras.ops import convert_to_numpy

from bloodview.errors import ModelError
from bloodview.model.backbones import registry
from bloodview.model.backbones import (
    DEFAULT_FAST_BACKBONE,
    STRIDES,
    available_backbones,
    backbone_spec,
    build_backbone,
)

# Keras' own numpy conversion under numpy 2 (keras/src/backend/tensorflow/core.py), not ours
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

PAPER_BACKBONES = [
    "resnet50", "resnet101", "resnet152", "resnext50", "vgg19", "densenet121", "densenet169",
]
MOMENTUM = 0.95  # not the default, so the test sees it was applied


def _images(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (1, height, width, 3)).astype("float32")


def test_import_builds_nothing_and_loads_no_tensorflow():
    code = (
        "import sys, bloodview.model.backbones as b; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'; "
        "print(len(b.available_backbones()))"
    )
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=repo
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "8"


def test_registry_lists_the_paper_backbones_and_one_fast_default():
    names = available_backbones()
    assert names[:7] == PAPER_BACKBONES
    assert names[7:] == [DEFAULT_FAST_BACKBONE]
    assert all(backbone_spec(n).paper for n in PAPER_BACKBONES)
    fast = backbone_spec(DEFAULT_FAST_BACKBONE)
    assert not fast.paper
    assert fast.params_m < backbone_spec("resnet50").params_m / 2


def test_unknown_backbone_names_the_known_ones():
    with pytest.raises(ModelError, match="unknown backbone 'resnet34'.*resnet50.*densenet169"):
        build_backbone("resnet34")
    with pytest.raises(ModelError, match=DEFAULT_FAST_BACKBONE):
        backbone_spec("mobilenet")


def test_resnext50_has_no_imagenet_weights():
    with pytest.raises(ModelError, match="no ImageNet weights"):
        build_backbone("resnext50", weights="imagenet")


def test_offline_imagenet_download_is_a_clear_error(monkeypatch):
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no internet")

    monkeypatch.setattr(file_utils, "get_file", offline)  # also guarantees no download here
    with pytest.raises(ModelError, match="ImageNet weights of backbone 'resnet50'.*internet"):
        build_backbone("resnet50", input_shape=(64, 64, 3), weights="imagenet")


def test_missing_weights_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "nothing.weights.h5"
    with pytest.raises(ModelError, match="nothing.weights.h5.*not found"):
        build_backbone(DEFAULT_FAST_BACKBONE, weights=missing)


def test_input_sides_must_be_multiples_of_32():
    with pytest.raises(ModelError, match="multiples of 32"):
        build_backbone(DEFAULT_FAST_BACKBONE, input_shape=(100, 100, 3))


@pytest.mark.parametrize("name", available_backbones())
def test_backbone_gives_four_maps_at_strides_4_to_32(name):
    model = build_backbone(name, input_shape=(None, None, 3), batchnorm_momentum=MOMENTUM)
    spec = backbone_spec(name)
    square = model(_images(64, 64), training=False)
    wide = model.predict_on_batch(_images(96, 128))  # graph mode too
    for outputs, (height, width) in ((square, (64, 64)), (wide, (96, 128))):
        assert len(outputs) == 4
        shapes = [tuple(o.shape) for o in outputs]
        assert shapes == [
            (1, height // s, width // s, c) for s, c in zip(STRIDES, spec.channels)
        ], name
        assert all(np.isfinite(convert_to_numpy(o)).all() for o in outputs)
    assert abs(model.count_params() / 1e6 - spec.params_m) < 0.1 * spec.params_m + 0.05
    momenta = {
        layer.momentum for layer in model.layers if type(layer).__name__ == "BatchNormalization"
    }
    assert momenta == (set() if name == "vgg19" else {MOMENTUM})


@pytest.mark.parametrize("mode", ["caffe", "torch"])
def test_imagenet_preprocessing_centres_the_imagenet_mean_colour(mode):
    from bloodview.model.backbones.common import ImagePreprocessing

    mean_rgb = np.array([123.68, 116.779, 103.939], "float32")
    centred = convert_to_numpy(ImagePreprocessing(mode)(np.tile(mean_rgb, (1, 2, 2, 1))))
    assert np.abs(centred).max() < 0.01
    red = convert_to_numpy(ImagePreprocessing(mode)(np.array([[[[255.0, 0.0, 0.0]]]], "float32")))
    red_channel = 2 if mode == "caffe" else 0  # caffe weights expect BGR order
    assert red[0, 0, 0].argmax() == red_channel


@pytest.mark.parametrize(
    "spec", [s for s in registry.candidate_specs() if s.name != DEFAULT_FAST_BACKBONE],
    ids=lambda s: s.name,
)
def test_benchmarked_candidates_also_give_c2_to_c5(spec):
    model = registry.build_from_spec(spec, input_shape=(64, 64, 3))
    shapes = [tuple(o.shape) for o in model(_images(64, 64), training=False)]
    assert shapes == [(1, 64 // s, 64 // s, c) for s, c in zip(STRIDES, spec.channels)]
    assert abs(model.count_params() / 1e6 - spec.params_m) < 0.1 * spec.params_m


def test_default_momentum_is_0_9_not_keras_0_999():
    model = build_backbone(DEFAULT_FAST_BACKBONE, input_shape=(64, 64, 3))
    momenta = {l.momentum for l in model.layers if type(l).__name__ == "BatchNormalization"}
    assert momenta == {0.9}


def test_weights_file_round_trip_restores_identical_outputs(tmp_path):
    source = build_backbone(DEFAULT_FAST_BACKBONE, input_shape=(64, 64, 3))
    rng = np.random.default_rng(1)
    for variable in source.weights:  # non-trivial BN statistics too (variance > 0)
        value = rng.uniform(0.5, 1.5, variable.shape) if "variance" in variable.path else (
            rng.normal(0, 0.05, variable.shape))
        variable.assign(value.astype("float32"))
    path = tmp_path / "fast.weights.h5"
    source.save_weights(path)

    restored = build_backbone(DEFAULT_FAST_BACKBONE, input_shape=(None, None, 3), weights=path)
    fresh = build_backbone(DEFAULT_FAST_BACKBONE, input_shape=(64, 64, 3))
    for a, b in zip(source.weights, restored.weights):
        np.testing.assert_array_equal(convert_to_numpy(a), convert_to_numpy(b), err_msg=a.path)
    images = _images(64, 64, seed=2)
    expected = source(images, training=False)
    for got, want, other in zip(restored(images, training=False), expected, fresh(images)):
        np.testing.assert_allclose(convert_to_numpy(got), convert_to_numpy(want), rtol=1e-5, atol=1e-5)
        assert not np.allclose(convert_to_numpy(other), convert_to_numpy(want))


def test_weights_of_another_backbone_are_refused(tmp_path):
    path = tmp_path / "other.weights.h5"
    build_backbone("vgg19", input_shape=(64, 64, 3)).save_weights(path)
    with pytest.raises(ModelError, match="other.weights.h5.*do not fit"):
        build_backbone(DEFAULT_FAST_BACKBONE, input_shape=(64, 64, 3), weights=path)
