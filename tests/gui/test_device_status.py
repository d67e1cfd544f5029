"""The device detection runs on: in the status bar once the model has loaded, and in Model → About models."""

from __future__ import annotations

import pytest

from tests.gui.conftest import FakePredictor

pytestmark = pytest.mark.gui


class GpuPredictor(FakePredictor):
    device = "GPU: NVIDIA H200 (compute 9.0)"


def test_device_shows_in_the_status_bar_after_the_model_loads(window, qtbot, detect_current):
    label = window.models.device_label
    assert label.isHidden()  # not known before TensorFlow has loaded
    window.models.runner.predictor_factory = GpuPredictor
    detect_current(window)
    assert not label.isHidden()
    assert label.text() == "Device: GPU: NVIDIA H200 (compute 9.0)"


def test_about_models_names_the_device_and_every_model(window, qtbot, detect_current, model_store):
    window.acts["about_models"].trigger()
    title, text = window.prompts.messages[-1]
    assert title == "About models"
    assert "Device: not known yet" in text and "fake-model" in text and str(model_store) in text
    window.models.runner.predictor_factory = GpuPredictor
    detect_current(window)
    window.acts["about_models"].trigger()
    assert "Device: GPU: NVIDIA H200 (compute 9.0)" in window.prompts.messages[-1][1]


def test_about_models_says_how_each_model_names_its_cells(window, model_store):
    import json

    two_stage = model_store / "two-stage"
    two_stage.mkdir()
    info = json.loads((model_store / "fake-model" / "model.json").read_text(encoding="utf-8"))
    info["name"] = "two-stage"
    info["cell_classifier"] = {"backbone": "mobilenetv3large", "class_names": ["ig", "monocyte"], "input_size": 224,
                               "pixel_size_um": 0.146, "metrics": {"val": {"accuracy": 0.9812}}}
    (two_stage / "model.json").write_text(json.dumps(info), encoding="utf-8")
    window.acts["about_models"].trigger()
    text = window.prompts.messages[-1][1]
    fake, second = text.split("fake-model", 1)[1], text.split("two-stage", 1)[1]
    assert "cells named by the detector" in fake.split("\n\n")[0]
    assert "cell classifier (mobilenetv3large, 33 µm square at 0.146 µm/px, validation accuracy 0.981)" in second
