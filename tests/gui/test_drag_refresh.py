"""The panels wait while a mouse button is held on the canvas, and follow once it is let go.

Rebuilding the cell list, gallery, differential and review queue on every mouse move of a point
drag made the drag stutter on a crowded camera field (60-78 ms per move on 2,000 cells)."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtTest import QTest

from bloodview.gui.main_window import DRAG_REFRESH_MS, MainWindow

pytestmark = pytest.mark.gui


def test_panels_wait_while_a_button_is_held_and_follow_when_it_is_let_go(make_window, smears, qtbot, monkeypatch):
    refreshed = []
    original = MainWindow.refresh_panels
    monkeypatch.setattr(MainWindow, "refresh_panels", lambda self: (refreshed.append(1), original(self))[1])
    window = make_window()
    assert window.files.open([smears])
    qtbot.wait(50)
    viewport = window.canvas.viewport()
    refreshed.clear()

    window.schedule_refresh()  # no button held: at the next turn of the event loop
    qtbot.wait(10)
    assert len(refreshed) == 1

    QTest.mousePress(viewport, Qt.MouseButton.RightButton, pos=QPoint(20, 20))  # a right-drag pans
    for _ in range(5):  # a burst of changes during a drag, each its own turn of the event loop
        window.schedule_refresh()
        qtbot.wait(DRAG_REFRESH_MS // 5)
    assert len(refreshed) == 1  # not once per mouse move
    QTest.mouseRelease(viewport, Qt.MouseButton.RightButton, pos=QPoint(20, 20))
    window.schedule_refresh()  # the release's own change
    qtbot.wait(10)
    assert len(refreshed) == 2
