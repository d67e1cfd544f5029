"""The before/after panel of the Retrain dialog: current vs new model on the held-out images.

Shows what :mod:`bloodview.gui.comparison` read from the two ``bloodview
evaluate`` reports (a small table and the one-line verdict), or says plainly why
there is no comparison (too few held-out cells, an evaluation that failed).
Only displays; the dialog decides when to fill it.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QAbstractItemView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from bloodview.gui.comparison import Comparison, compare, format_difference, format_value

HEADERS = ("", "current model", "new model", "difference")


class ModelComparisonView(QWidget):
    """Hidden until there is something to say."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.comparison: Comparison | None = None
        self.title = QLabel("<b>Before / after on the held-out images</b>")
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("modelComparison")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.hide()
        self.verdict = QLabel()
        self.verdict.setObjectName("comparisonVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table)
        layout.addWidget(self.verdict)
        self.hide()

    def clear(self) -> None:
        self.comparison = None
        self.table.setRowCount(0)
        self.table.hide()
        self.verdict.clear()
        self.hide()

    def show_message(self, text: str) -> None:
        """A sentence instead of the table (working…, too few cells, a failure)."""
        self.comparison = None
        self.table.hide()
        self.verdict.setText(text)
        self.show()

    def show_reports(self, current_dir: Path | None, new_dir: Path) -> Comparison:
        """Fill the table from two report folders; raises FormatError when one cannot be read."""
        comparison = compare(current_dir, new_dir)
        self.table.setRowCount(len(comparison.rows))
        for row_index, row in enumerate(comparison.rows):
            cells = (row.label, format_value(row, row.current), format_value(row, row.new),
                     format_difference(row))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row_index, column, item)
        self.table.resizeColumnsToContents()
        self.table.setFixedHeight(self.table.horizontalHeader().height()
                                  + sum(self.table.rowHeight(r) for r in range(self.table.rowCount())) + 4)
        self.table.show()
        self.verdict.setText(comparison.verdict)
        self.comparison = comparison
        self.show()
        return comparison

    def cell_text(self, row_label: str, column: str) -> str:
        """The text in the row ``row_label`` under the header ``column`` (for tests and screenshots)."""
        col = HEADERS.index(column)
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() == row_label:
                return self.table.item(row, col).text()
        raise KeyError(row_label)
