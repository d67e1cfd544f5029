"""A detection stopped by an error (a model folder copied only partly) says so in the status bar;
it said "Detection finished: 0 cells found in 0 image(s)", as if the images held no cells."""

from __future__ import annotations

import pytest

from bloodview.errors import ModelError

pytestmark = pytest.mark.gui


class HalfCopiedModel:
    def __init__(self, model_dir):
        raise ModelError(f"{model_dir}/model.weights.h5: weights file is only partly copied; copy the model folder again")


def test_a_failed_detection_says_why_in_the_status_bar(make_window, smears, qtbot):
    window = make_window(predictor=HalfCopiedModel)
    assert window.files.open([smears])
    with qtbot.waitSignal(window.detectionFinished, timeout=10000):
        assert window.models.detect("current")
    status = window.status_label.text()
    assert status.startswith("Detection failed:") and "only partly copied" in status, status
    assert any(title == "Detection failed" for title, _ in window.prompts.messages)
