"""Shortcuts: one table feeds the actions, Help → Shortcuts and docs/shortcuts.md."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from PyQt6.QtGui import QKeySequence
from PyQt6.QtWidgets import QTableWidget

from bloodview.gui.shortcuts import SHORTCUTS

pytestmark = pytest.mark.gui

DOC = Path(__file__).resolve().parents[2] / "docs" / "shortcuts.md"


def test_docs_list_every_shortcut():
    text = DOC.read_text(encoding="utf-8")
    for entry in SHORTCUTS:
        for key in entry.keys:
            assert f"`{key}`" in text, f"{key} ({entry.description}) missing from docs/shortcuts.md"


def test_no_two_window_actions_share_a_key(window):
    """Qt ignores an ambiguous shortcut (both actions stay silent): each key must be unique."""
    keys = Counter()
    for action in window.actions():
        for sequence in action.shortcuts():
            keys[sequence.toString(QKeySequence.SequenceFormat.PortableText)] += 1
    clashes = {k: n for k, n in keys.items() if n > 1}
    assert clashes == {}


def test_every_window_shortcut_is_in_the_table(window):
    documented = {k for entry in SHORTCUTS for k in entry.keys}
    for action in window.actions():
        for sequence in action.shortcuts():
            text = sequence.toString(QKeySequence.SequenceFormat.PortableText)
            assert text in documented, f"{action.text()} has undocumented shortcut {text}"


def test_shortcuts_dialog_shows_the_table(window, qtbot):
    from bloodview.gui.dialogs.shortcuts_dialog import ShortcutsDialog

    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    table = dialog.findChild(QTableWidget, "shortcutsTable")
    assert table.rowCount() == len(SHORTCUTS)
    assert table.item(0, 0).text() == "Ctrl+O"
