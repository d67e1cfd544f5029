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
