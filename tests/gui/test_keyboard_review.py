"""A technician reviews a whole slide with the keyboard only: every key goes to the widget that
has the focus (``qtbot.keyClick(QApplication.focusWidget(), …)``), as docs/shortcuts.md says,
and no key lands in a panel that swallows it (the threshold spin box, a closed dialog)."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QApplication, QToolBar

from bloodview.gui.review import is_checked

from tests.gui.conftest import smear_folder

pytestmark = pytest.mark.gui

K, M = Qt.Key, Qt.KeyboardModifier


def press(qtbot, window, key, modifier=M.NoModifier) -> None:
    """One key on whatever has the focus (the window if nothing has), then one turn of the loop."""
    qtbot.keyClick(QApplication.focusWidget() or window, key, modifier)
    qtbot.wait(5)


@pytest.fixture
def slide(make_window, bccd_dir, tmp_path, qtbot):
    """Five BCCD fields open, the window active with the focus where Qt put it."""
    window = make_window()
    assert window.files.open([smear_folder(bccd_dir, tmp_path / "slide", 5, corrupt=False)])
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    return window


def test_a_slide_reviewed_with_keys_only(slide, qtbot, qtlog):
    window, images = slide, slide.session.dataset.images
    with qtbot.waitSignal(window.detectionFinished, timeout=10000):
        press(qtbot, window, K.Key_D, M.ControlModifier)  # detect all images
    qtbot.wait(5)
    assert all(len(image.instances) == 3 for image in images)
    first = images[0]

    press(qtbot, window, K.Key_Tab)  # the first unchecked cell
    cell = window.canvas.selected_ids()[0]
    press(qtbot, window, K.Key_2)  # eosinophil
    assert first.find(cell).class_name == "eosinophil" and first.find(cell).corrected
    press(qtbot, window, K.Key_Space)  # confirm and next
    assert first.find(cell).reviewed and window.canvas.selected_ids() != [cell]

    false_cell = window.canvas.selected_ids()[0]
    press(qtbot, window, K.Key_Delete)
    assert first.find(false_cell) is None
    press(qtbot, window, K.Key_Z, M.ControlModifier)
    assert first.find(false_cell) is not None
    press(qtbot, window, K.Key_Z, M.ControlModifier | M.ShiftModifier)
    assert first.find(false_cell) is None
    press(qtbot, window, K.Key_Z, M.ControlModifier)
    press(qtbot, window, K.Key_Y, M.ControlModifier)
    assert first.find(false_cell) is None

    press(qtbot, window, K.Key_Return, M.ControlModifier)  # too early: an unchecked cell is left
    assert not first.signed_off
    for _ in range(len(first.instances)):
        press(qtbot, window, K.Key_Tab)
        press(qtbot, window, K.Key_Space)
    assert all(is_checked(c) for c in first.instances)
    press(qtbot, window, K.Key_Return, M.ControlModifier)
    assert first.signed_off

    press(qtbot, window, K.Key_N)  # the next, unchecked image
    assert window.session.current_index == 1
    press(qtbot, window, K.Key_PageDown)
    press(qtbot, window, K.Key_PageUp)
    press(qtbot, window, K.Key_P)
    press(qtbot, window, K.Key_PageDown)
    assert window.session.current_index == 1
    press(qtbot, window, K.Key_A, M.ControlModifier)
    assert len(window.canvas.selected_ids()) == 3
    press(qtbot, window, K.Key_Escape)
    assert window.canvas.selected_ids() == []
    press(qtbot, window, K.Key_W)
    assert window.canvas.current_tool() == "draw"
    press(qtbot, window, K.Key_Escape)
    press(qtbot, window, K.Key_S)
    assert window.canvas.current_tool() == "select"
    press(qtbot, window, K.Key_L)
    assert not window.acts["toggle_labels"].isChecked()
    zoom = window.canvas.transform().m11()
    press(qtbot, window, K.Key_Plus)
    assert window.canvas.transform().m11() > zoom
    press(qtbot, window, K.Key_F)
    assert window.canvas.transform().m11() == pytest.approx(zoom)
    assert not [r.message for r in qtlog.records if "Ambiguous" in r.message]


def test_tab_out_of_the_threshold_box_gives_class_keys_back_to_the_cells(slide, qtbot, detect_current):
    """The threshold spin box takes digits and Space for itself; Tab (a window key) used to select
    the next cell but leave the focus there, so `2` typed into the threshold instead of
    reclassifying the cell."""
    window = slide
    detect_current(window)
    window.queue.threshold.setFocus()
    press(qtbot, window, K.Key_Tab)
    cell = window.canvas.selected_ids()[0]
    press(qtbot, window, K.Key_2)
    assert window.session.current_image.find(cell).class_name == "eosinophil"
    assert window.threshold == pytest.approx(0.75)


def test_keys_work_again_after_the_shortcuts_dialog_closes(slide, qtbot, detect_current):
    window = slide
    detect_current(window)
    closed = []

    def close_with_escape():
        dialog = QApplication.activeModalWidget()
        closed.append(dialog is not None)
        qtbot.keyClick(QApplication.focusWidget() or dialog, K.Key_Escape)

    QTimer.singleShot(100, close_with_escape)
    press(qtbot, window, K.Key_F1)
    assert closed == [True]
    press(qtbot, window, K.Key_Tab)
    assert len(window.canvas.selected_ids()) == 1


def test_building_the_window_prints_no_qt_warning(make_window, qtbot, qtlog):
    """The scale label was inserted at index 0 of the status bar's permanent widgets, before
    the message label: Qt warned "Index out of range" and put it after the progress bar."""
    window = make_window()
    assert not [r.message for r in qtlog.records if "QStatusBar" in r.message]
    qtbot.wait(5)
    assert window.status_label.x() < window.scale.label.x()


def test_every_toolbar_button_fits_a_1280_pixel_window(make_window, qtbot):
    """At 1280 logical pixels (a 2560-pixel laptop at 200 %) the toolbar pushed Cancel detection
    into its overflow menu."""
    window = make_window()
    window.resize(1280, 720)
    qtbot.wait(150)  # the icons are set after the first paint
    bar = window.findChild(QToolBar, "mainToolbar")
    hidden = [a.text() for a in bar.actions()
              if bar.widgetForAction(a) is not None and not bar.widgetForAction(a).isVisible()]
    assert hidden == []

