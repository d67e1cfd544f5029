"""Help → Shortcuts: the table of keys, from the same list the actions are built from.

Each action's text wraps onto as many lines as it needs, and the dialog opens in proportion to the
font, no larger than the screen: at a 14 pt system font the fixed 560 x 620 dialog with fixed-height
rows cut every longer description to "Open images, a folder, a …".
"""

from __future__ import annotations

from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bloodview.gui.shortcuts import SHORTCUTS

WIDTH_CHARS = 72  # the dialog's width in average characters (560 px at 9 pt)
HEIGHT_LINES = 36  # its height in lines (620 px at 9 pt)
SCREEN_MARGIN_PX = 60  # left free of the screen's height (title bar, taskbar's edge)


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(SHORTCUTS), 2)
        table.setObjectName("shortcutsTable")
        table.setAccessibleName("Keyboard shortcuts")
        table.setHorizontalHeaderLabels(("Keys", "Action"))
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.setWordWrap(True)
        for row, entry in enumerate(SHORTCUTS):
            table.setItem(row, 0, QTableWidgetItem(entry.keys_text))
            table.setItem(row, 1, QTableWidgetItem(entry.description))
        table.resizeColumnToContents(0)
        self.table = table
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        metrics = self.fontMetrics()
        width, height = max(560, WIDTH_CHARS * metrics.averageCharWidth()), max(620, HEIGHT_LINES * metrics.lineSpacing())
        screen = self.screen()
        if screen is not None:
            free = screen.availableGeometry()
            width, height = min(width, free.width() - 20), min(height, free.height() - SCREEN_MARGIN_PX)
        self.resize(width, height)
