"""A detection run (a worker thread over image *indices*) interrupted by the technician.

Regressions:

* opening another folder (or project) while a detection ran put the old images' cells into
  the new images at the same positions (and marked new images unreadable when an old one
  failed to decode): a technician who moved on to the next smear got another slide's cells;
* closing the window during a detection always froze it for 5 s (the wait for the worker's
  thread could only time out), and when the image under way took longer than that, Qt
  aborted the process ("QThread: Destroyed while thread is still running").
"""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from tests.gui.conftest import FakePredictor

pytestmark = pytest.mark.gui


class GatedPredictor(FakePredictor):
    """The fake predictor, held in predict() until released."""

    def __init__(self, model_dir):
        super().__init__(model_dir)
        self.release = threading.Event()

    def predict(self, images, min_confidence=None, **kw):
        self.calls += 1
        self.release.wait(10)
        self.calls -= 1
        return super().predict(images, min_confidence, **kw)


@pytest.fixture
def other_slide(tmp_path, pbc_dir):
    folder = tmp_path / "other-slide"
    folder.mkdir()
    for cls in ("basophil", "platelet"):
        source = sorted((pbc_dir / cls).glob("*.jpg"))[0]
        shutil.copy(source, folder / source.name)
    return folder


def test_opening_another_folder_during_detection_leaves_its_images_without_the_old_cells(
        window, qtbot, other_slide):
    gated = GatedPredictor(window.models.model_dir())
    window.models.runner.predictor_factory = lambda _d: gated
    assert window.models.detect("all")
    qtbot.waitUntil(lambda: gated.calls == 1, timeout=5000)

    assert window.files.open([other_slide])  # the technician moves on to the next slide
    gated.release.set()
    qtbot.waitUntil(lambda: not window.models.runner.is_running(), timeout=10000)
    qtbot.wait(20)

    images = window.session.dataset.images
    assert [i.image_path.name for i in images] == sorted(p.name for p in other_slide.iterdir())
    assert all(image.instances == [] for image in images), "another slide's cells landed in these images"
    assert not window.session.is_dirty() and window.session.stack(0).count() == 0
    assert not window.progress.isVisible() and not window.acts["cancel_detect"].isEnabled()
    # and detection works on the new slide
    with qtbot.waitSignal(window.detectionFinished, timeout=10000):
        assert window.models.detect("current")
    assert len(window.session.current_image.instances) == 3


def test_an_old_images_decoding_failure_does_not_mark_a_new_image_unreadable(window, qtbot, smears,
                                                                                 other_slide):
    path = smears / "BloodImage_00001.jpg"
    gated = GatedPredictor(window.models.model_dir())
    window.models.runner.predictor_factory = lambda _d: gated
    assert window.models.detect("all")
    qtbot.waitUntil(lambda: gated.calls == 1, timeout=5000)
    path.write_bytes(path.read_bytes()[:2000])  # truncated behind the app's back
    window.files.open([other_slide])
    gated.release.set()
    qtbot.waitUntil(lambda: not window.models.runner.is_running(), timeout=10000)
    qtbot.wait(20)
    assert window.session.broken == {}
    assert not window.image_list.is_marked_broken(0) and not window.image_list.is_marked_broken(1)


class SleepyPredictor(FakePredictor):
    """The fake predictor taking ``seconds`` per image."""

    seconds = 0.2
    inside = threading.Event()

    def predict(self, images, min_confidence=None, **kw):
        self.inside.set()
        time.sleep(self.seconds)
        return super().predict(images, min_confidence, **kw)


@pytest.mark.parametrize("seconds", [0.2, 2.5])
def test_closing_during_a_detection_ends_its_thread_without_a_long_freeze(window, qtbot, seconds):
    SleepyPredictor.seconds = seconds
    window.models.runner.predictor_factory = SleepyPredictor
    SleepyPredictor.inside.clear()
    assert window.models.detect("all")
    thread = window.models.runner._thread
    assert SleepyPredictor.inside.wait(5), "the detection never reached an image"  # one is under way
    window.prompts.answers["unsaved"] = "Discard"
    started = time.perf_counter()
    assert window.close()
    elapsed = time.perf_counter() - started
    assert thread.isFinished(), "the detection thread outlived the window (Qt aborts at exit)"
    assert not window.isVisible()
    assert elapsed < seconds + 2.5, f"closing took {elapsed:.1f} s"  # was 5 s even for a 0.2 s image


def test_esc_clears_the_selection_first_and_cancels_a_running_detection_only_then(window, qtbot, detect_current):
    """Reviewing while Detect all runs (the editor stays usable): Esc to drop a selection used to
    cancel the whole run instead, leaving the rest of the slide undetected."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtTest import QTest

    detect_current(window)
    gated = GatedPredictor(window.models.model_dir())
    window.models.runner.predictor_factory = lambda _d: gated
    assert window.models.detect("all")
    qtbot.waitUntil(lambda: gated.calls == 1, timeout=5000)
    cell = window.session.current_image.instances[0]
    window.canvas.setFocus()
    window.select_cells([cell.id], center=False)
    QTest.keyClick(window.canvas, Qt.Key.Key_Escape)
    assert window.canvas.selected_ids() == []
    assert window.models.runner.is_running() and window.acts["cancel_detect"].isEnabled()
    assert "Cancelling" not in window.status_label.text()
    with qtbot.waitSignal(window.detectionFinished, timeout=10000) as finished:
        QTest.keyClick(window.canvas, Qt.Key.Key_Escape)  # nothing selected: Esc cancels the run
        gated.release.set()
    assert finished.args == [True]
