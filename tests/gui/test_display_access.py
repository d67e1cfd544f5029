"""Keyboard-only and screen-reader use: every control in the docks can be told apart by name."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QAbstractButton, QDockWidget, QWidget

pytestmark = pytest.mark.gui


def unnamed_controls(root: QWidget) -> list[str]:
    """Focusable controls a screen reader would announce only by their kind ("combo box", "table")."""
    found = []
    for widget in root.findChildren(QWidget):
        if widget.focusPolicy() == Qt.FocusPolicy.NoFocus or not widget.isVisibleTo(root):
            continue
        if isinstance(widget, QAbstractButton) and widget.text().strip():
            continue  # a button is announced by its text
        if widget.parentWidget() is not None and widget.parentWidget().focusProxy() is widget:
            continue
        if widget.accessibleName().strip() or widget.parentWidget().accessibleName().strip():
            continue
        found.append(f"{type(widget).__name__} {widget.objectName()!r} in {root.windowTitle()!r}")
    return found


def test_every_control_in_the_docks_has_a_name_a_screen_reader_can_say(window):
    """Seen with a screen reader: the differential's scope, the gallery's class and scope, the
    opacity slider and every table were announced only as "combo box", "slider", "table"."""
    missing = []
    for dock in window.findChildren(QDockWidget):
        missing += unnamed_controls(dock)
    assert not missing, "\n".join(missing)
