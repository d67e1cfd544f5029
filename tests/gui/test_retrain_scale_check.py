"""The Retrain dialog measures images' pixel sizes off the GUI thread.

Before, each training image without a pixel size was measured on its red cells on the GUI thread as
the dialog opened: 300 imported BCCD fields held the window up for 5.8 s on Model → Retrain….
A slow measure stands in for big images here; the crops are real (Zheng: no red cells, no size).
"""

from __future__ import annotations

import threading
import time

import pytest

from bloodview.gui import training_scale
from bloodview.gui.training_data import held_out_images, training_images
from tests.gui.test_model_switch import crops_window

pytestmark = pytest.mark.gui

COUNT = 6  # more than the dialog measures in place (retrain_scale.INLINE_MEASURES)
SLOW_S = 0.5  # the dialog must open in under half the measuring (1.5 s): room for a loaded CI machine


@pytest.fixture
def slow_measure(monkeypatch):
    """``training_scale._measure`` taking SLOW_S per image; ``scaled`` names files whose red cells give a size.
    Returns (calls: list of measured file names, threads they ran on, scaled: set to fill)."""
    calls, threads, scaled = [], set(), set()

    def measure(path):
        time.sleep(SLOW_S)
        calls.append(path.name)
        threads.add(threading.get_ident())
        return path.name in scaled
    monkeypatch.setattr(training_scale, "_measure", measure)
    return calls, threads, scaled


def open_dialog(window):
    started = time.monotonic()
    window.models.retrain()
    return window.models.retrain_dialog, time.monotonic() - started


def test_opening_the_dialog_does_not_wait_for_the_pixel_sizes(make_window, zheng_dir, tmp_path, review_current,
                                                               model_store, qtbot, slow_measure):
    calls, threads, _scaled = slow_measure
    window = crops_window(make_window, zheng_dir, tmp_path, review_current, model_store, count=COUNT)
    dialog, took = open_dialog(window)
    assert took < COUNT * SLOW_S / 2, f"the dialog took {took:.2f} s to open: measured on the GUI thread"
    assert f"Checking the pixel size of {COUNT - 1} training images" in dialog.summary.text()  # 1 held out
    assert dialog.scale_row.isHidden() and dialog.start_button.isEnabled()  # adapt: a note, not a stop
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("classes"))
    assert not dialog.start_button.isEnabled()  # not known yet whether any image can teach the classes
    dialog.start()
    assert "Wait for the pixel-size check" in dialog.eta.text() and not dialog.process.is_running()

    qtbot.waitUntil(lambda: "Checking" not in dialog.summary.text(), timeout=10000)
    assert f"{COUNT - 1} of {COUNT - 1} have no pixel size" in dialog.summary.text()
    assert "adapting the classes stops with nothing to learn from" in dialog.summary.text()
    assert not dialog.scale_row.isHidden() and not dialog.start_button.isEnabled()
    assert threading.get_ident() not in threads and len(calls) == COUNT  # each file measured once, aside
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("adapt"))
    assert dialog.start_button.isEnabled() and len(calls) == COUNT  # remembered: not measured again


def test_classes_only_may_start_once_an_image_is_found_to_have_a_size(
        make_window, zheng_dir, tmp_path, review_current, model_store, qtbot, slow_measure):
    calls, _threads, scaled = slow_measure
    window = crops_window(make_window, zheng_dir, tmp_path, review_current, model_store, count=COUNT)
    images = training_images(window.session.dataset)
    teaching = [i for i in images if i not in held_out_images(images)]
    scaled.add(teaching[0].image_path.name)  # as if it showed red cells
    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("classes"))
    assert "Checking" in dialog.summary.text() and not dialog.start_button.isEnabled()
    qtbot.waitUntil(dialog.start_button.isEnabled, timeout=10000)
    assert "Checking" not in dialog.summary.text()
    assert f"{COUNT - 2} of the {COUNT - 1} training images have no pixel size" in dialog.summary.text()


def test_a_closed_dialog_stops_measuring_and_ignores_what_was_measured(
        make_window, zheng_dir, tmp_path, review_current, model_store, qtbot, slow_measure):
    calls, _threads, _scaled = slow_measure
    window = crops_window(make_window, zheng_dir, tmp_path, review_current, model_store, count=COUNT)
    dialog, _took = open_dialog(window)
    text = dialog.summary.text()
    assert "Checking" in text
    dialog.close()
    qtbot.wait(int(COUNT * SLOW_S * 1000) + 300)
    assert len(calls) < COUNT  # stopped after the image under way
    assert dialog.summary.text() == text and not dialog.scale_checker.busy()


def test_results_for_images_no_longer_open_are_ignored(
        make_window, zheng_dir, tmp_path, review_current, model_store, qtbot, slow_measure):
    """Another folder opened while the check runs: the dialog checks the new images, not the old."""
    calls, _threads, _scaled = slow_measure
    window = crops_window(make_window, zheng_dir, tmp_path, review_current, model_store, count=COUNT)
    dialog, _took = open_dialog(window)
    assert "Checking" in dialog.summary.text()
    finished = []
    dialog.scale_checker.finished.connect(lambda: finished.append(dialog.summary.text()))
    dataset = window.session.dataset
    dialog.set_images(dataset, (), None, 0.2)  # now a pixel size for every image: nothing to measure
    assert "Checking" not in dialog.summary.text() and "no pixel size" not in dialog.summary.text()
    qtbot.wait(int(COUNT * SLOW_S * 1000) + 300)
    assert finished == [] and len(calls) < COUNT
