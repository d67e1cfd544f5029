"""The focus marker of a closed window lets go of the application's focus changes.

Each window's marker listened to ``QApplication.focusChanged`` through a bound method; the
application outlives the windows, and the GUI suite (which makes and closes hundreds) crashed
with SIGSEGV inside Qt's painting, four runs in four, until the listener became a function that
checks its marker is alive and disconnects itself. That crash shows only in the whole suite; this
test pins the bookkeeping: closed windows leave no listener, the open one has its ring."""

from __future__ import annotations

import pytest
from PyQt6 import sip
from PyQt6.QtWidgets import QApplication

from PyQt6.QtCore import QSettings

from bloodview.gui.main_window import MainWindow
from bloodview.gui.prompts import Prompts
from tests.gui.conftest import FakePredictor, new_window

pytestmark = pytest.mark.gui


def test_closed_windows_leave_no_focus_listener_behind(qtbot, tmp_path, model_store):
    app = QApplication.instance()
    signal = app.focusChanged
    before = app.receivers(signal)
    for k in range(3):  # windows made and deleted, as each test does
        settings = QSettings(str(tmp_path / f"settings{k}.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, prompts=Prompts(non_interactive=True),
                            predictor_factory=FakePredictor, recovery_dir=tmp_path / "recovery")
        window.show()
        window.canvas.setFocus()
        qtbot.wait(5)
        window.close()
        window.deleteLater()
        qtbot.wait(20)
        assert sip.isdeleted(window)
    last = new_window(qtbot, tmp_path)
    last.canvas.setFocus()  # a focus change: the closed windows' listeners go
    qtbot.wait(5)
    assert app.receivers(signal) <= before + 1  # the open window's own
    assert last.focus_marker.ring is not None and last.focus_marker.ring.parentWidget() is last.canvas
