"""Dialogs on the screens and fonts lab PCs have."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QRect, Qt
from PyQt6.QtWidgets import QLabel, QTableWidget

from bloodview.gui.dialogs.pixel_size_dialog import PixelSizeDialog
from bloodview.gui.dialogs.shortcuts_dialog import ShortcutsDialog

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("points", [9, 14])
def test_every_shortcut_is_read_whole(app_font, qtbot, points):
    """Seen at 14 pt: the shortcuts table's rows kept their height and every longer description was
    cut to "Open images, a folder, a …"; at 9 pt a three-line one lost its last line."""
    app_font(points)
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.wait(10)
    table = dialog.findChild(QTableWidget, "shortcutsTable")
    width = table.columnWidth(1) - 8  # the cell's text margins
    for row in range(table.rowCount()):
        text = table.item(row, 1).text()
        needed = table.fontMetrics().boundingRect(QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap, text)
        assert table.rowHeight(row) >= needed.height(), text
    free = dialog.screen().availableGeometry()
    assert dialog.frameGeometry().height() <= free.height() and dialog.width() <= free.width()


@pytest.mark.parametrize("points", [9, 14])
def test_the_pixel_size_note_is_read_whole(app_font, qtbot, points):
    """Seen at 14 pt: Model → Pixel size…'s note was cut above and below (its first and last lines
    half shown), the dialog sized as if it were one line shorter."""
    app_font(points)
    dialog = PixelSizeDialog(None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.wait(10)
    note = dialog.findChild(QLabel, "pixelSizeNote") or dialog.findChildren(QLabel)[0]
    assert note.height() >= note.heightForWidth(note.width())
    assert note.geometry().bottom() < dialog.spin.geometry().top()
