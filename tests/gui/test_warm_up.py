"""The model loads in the background once the window is up, so the first Detect starts at once."""

from __future__ import annotations

import threading
import time

import pytest

from bloodview.errors import ModelError
from bloodview.io.images import load_image
from tests.gui.conftest import FakePredictor

pytestmark = pytest.mark.gui


class SlowWarmPredictor(FakePredictor):
    """Records what happened in which order, across the warm-up and the detection threads."""

    events: list = []
    device = "CPU"

    def warm_up(self, images=()):
        self.events.append(("warm-up starts", [image.shape for image in images]))
        time.sleep(0.4)
        self.events.append(("warm-up ends", threading.current_thread().name))

    def predict(self, images, min_confidence=None, **kw):
        self.events.append(("predict", None))
        return super().predict(images, min_confidence, **kw)


@pytest.fixture
def slow(window):
    SlowWarmPredictor.events = []
    window.models.runner.predictor_factory = SlowWarmPredictor
    window.models.warm.predictor_factory = SlowWarmPredictor
    return window


def test_warm_up_is_off_until_the_app_turns_it_on_then_runs_once_per_model(slow, qtbot):
    models = slow.models
    assert not models.warm_up(), "tests and screenshots: nothing loads unless the app asks"
    models.warm_up_enabled = True
    with qtbot.waitSignal(models.warm.finished, timeout=5000) as done:
        assert models.warm_up()
    model_dir, _seconds, error = done.args
    assert error == "" and model_dir == str(models.model_dir())
    on_screen = load_image(slow.session.image_path(slow.session.current_index))
    assert SlowWarmPredictor.events[0] == ("warm-up starts", [on_screen.shape]), "the image on screen sizes it"
    assert models.device_label.text() == "Device: CPU", "the device is known once the model has loaded"
    assert not models.warm_up(), "once per model and session"


def test_a_detect_pressed_during_the_warm_up_waits_for_it_then_runs(slow, qtbot, detect_current):
    slow.models.warm_up_enabled = True
    assert slow.models.warm_up()
    # wait until the warm-up holds the predictor: its thread may start after a Detect pressed at once
    # (then the Detect simply goes first; the CI saw that order once under load)
    qtbot.waitUntil(lambda: bool(SlowWarmPredictor.events), timeout=5000)
    detect_current(slow)  # pressed while the warm-up sleeps in its thread
    names = [name for name, _ in SlowWarmPredictor.events]
    assert names == ["warm-up starts", "warm-up ends", "predict"], "never both at once on one predictor"
    assert slow.session.dataset.images[slow.session.current_index].instances, "the detection's cells arrived"
    qtbot.waitUntil(lambda: not slow.models.warm.is_running(), timeout=5000)


def test_a_model_that_fails_to_load_is_left_for_the_detection_to_report(window, qtbot):
    def broken(model_dir):
        raise ModelError(f"{model_dir}: model.weights.h5 is damaged")

    models = window.models
    models.warm.predictor_factory = broken
    models.warm_up_enabled = True
    before = list(window.prompts.messages)
    with qtbot.waitSignal(models.warm.finished, timeout=5000) as done:
        assert models.warm_up()
    assert "damaged" in done.args[2]
    assert window.prompts.messages == before, "no message box from a background load nobody asked for"
    # but the status bar says it now, not first at Detect
    status = window.status_label.text()
    assert "cannot be used" in status and "model.weights.h5 is damaged" in status, status


def test_closing_the_window_during_the_warm_up_waits_for_it(slow, qtbot):
    slow.models.warm_up_enabled = True
    assert slow.models.warm_up()
    thread = slow.models.warm._thread
    slow.close()
    assert thread.isFinished(), "Qt aborts on a thread destroyed while it runs: the close waits"
    assert [name for name, _ in SlowWarmPredictor.events] == ["warm-up starts", "warm-up ends"]
