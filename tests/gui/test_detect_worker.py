"""Detection in a worker thread: progress, cancel, a model that will not load, a bad image."""

from __future__ import annotations

import threading
import types

import pytest

pytestmark = pytest.mark.gui


class SlowPredictor:
    """Blocks in predict() until released, so cancel can be tested mid-run."""

    def __init__(self):
        self.release = threading.Event()
        self.calls = 0

    def predict(self, images, min_confidence=None, **_kw):
        self.calls += 1
        self.release.wait(5)
        return [[] for _ in images]


def test_detect_all_reports_progress_and_runs_off_the_gui_thread(window, qtbot):
    threads = []

    class Recording:
        def predict(self, images, min_confidence=None, **_kw):
            threads.append(threading.current_thread())
            return [[] for _ in images]

    window.models.runner.predictor_factory = lambda _d: Recording()
    progress = []
    window.models.runner.progress.connect(lambda done, total: progress.append((done, total)))
    with qtbot.waitSignal(window.detectionFinished, timeout=10000):
        assert window.models.detect("all")
    assert progress[-1] == (3, 3)  # 4 images, the unreadable one skipped
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert not window.progress.isVisible()


def test_cancel_stops_after_the_current_image(window, qtbot):
    slow = SlowPredictor()
    window.models.runner.predictor_factory = lambda _d: slow
    assert window.models.detect("all")
    assert window.acts["cancel_detect"].isEnabled()
    qtbot.waitUntil(lambda: slow.calls == 1, timeout=5000)
    with qtbot.waitSignal(window.detectionFinished, timeout=10000) as finished:
        window.models.cancel()
        slow.release.set()
    assert finished.args == [True] and slow.calls == 1
    assert "cancelled" in window.status_label.text()
    assert not window.acts["cancel_detect"].isEnabled()


def test_a_model_that_will_not_load_is_reported_and_the_editor_carries_on(window, qtbot):
    from bloodview.errors import ModelError

    def broken(model_dir):
        raise ModelError(f"{model_dir}: model.weights.h5 is missing")

    window.models.runner.predictor_factory = broken
    with qtbot.waitSignal(window.detectionFinished, timeout=10000):
        assert window.models.detect("current")
    title, text = window.prompts.messages[-1]
    assert title == "Detection failed" and "model.weights.h5 is missing" in text
    assert window.models.detect("current") or True  # can try again
    qtbot.waitUntil(lambda: not window.models.runner.is_running(), timeout=10000)


def test_image_that_fails_to_decode_is_marked_and_the_rest_detected(window, qtbot, smears):
    # truncate one good image after opening: its header is fine, its pixels are not
    path = smears / "BloodImage_00001.jpg"
    path.write_bytes(path.read_bytes()[:2000])
    with qtbot.waitSignal(window.detectionFinished, timeout=10000):
        assert window.models.detect("all")
    images = window.session.dataset.images
    assert 1 in window.session.broken and window.image_list.is_marked_broken(1)
    assert len(images[0].instances) == 3 and len(images[2].instances) == 3


def test_the_bar_moves_within_each_image_as_its_tiles_run(window, qtbot):
    """A big field (a minute on a lab PC) held the bar at 0/1 until it was done: it looked hung."""
    threads = []

    class Tiled:
        """Reports each image's four tiles as the real predictor does (``step_progress``)."""

        def detect(self, images, min_confidence=None, pixel_size=None, step_progress=None, **_kw):
            threads.append(threading.current_thread())
            for done in range(5 if step_progress else 0):
                step_progress(done, 4)
            return [types.SimpleNamespace(instances=[], scale=None, glass_gains=None) for _ in images]

    window.models.runner.predictor_factory = lambda _d: Tiled()
    values = []
    window.progress.valueChanged.connect(lambda value: values.append((value, window.progress.maximum())))
    with qtbot.waitSignal(window.detectionFinished, timeout=10000):
        assert window.models.detect("all")
    assert {(25, 300), (50, 300), (75, 300), (125, 300), (250, 300)} <= set(values), values
    assert [v for v, _ in values] == sorted(v for v, _ in values), "never runs back"
    assert values[-1] == (300, 300)
    assert threads and all(t is not threading.main_thread() for t in threads)
