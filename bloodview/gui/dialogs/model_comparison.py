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

from bloodview.gui.comparison import Comparison, clear_margin, compare, format_difference, format_value

HEADERS = ("", "current model", "new model", "difference")

ROW_TIPS = {
    "classification accuracy": "Share of the held-out cells found and named right; a detection where no cell "
                               "was marked counts as an error.",
    "mask mAP@0.5": "Mean average precision of the outlines (overlap ≥ 0.5), averaged over the classes: a cell "
                    "with the wrong class counts as missed for its class. Not a share of cells.",
    "mask mAP@0.5:0.95": "As mAP@0.5, averaged over overlaps 0.5 to 0.95: also asks for tight outlines.",
}


def legend_text(cells: int) -> str:
    """What the figures mean, and how large a difference must be on ``cells`` held-out cells to count."""
    return (f"Accuracy: share of the held-out cells found and named right. mAP: averaged over the classes, so "
            f"it falls with wrong classes as well as with poor outlines; not a share of cells. On {cells} cells "
            f"a difference under ±{clear_margin(cells):.2f} is noise and is not called better or worse.")


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
        self.legend = QLabel()
        self.legend.setObjectName("comparisonLegend")
        self.legend.setWordWrap(True)
        self.legend.hide()
        self.verdict = QLabel()
        self.verdict.setObjectName("comparisonVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table)
        layout.addWidget(self.verdict)  # the answer first, then what the figures mean
        layout.addWidget(self.legend)

        self.hide()

    def clear(self) -> None:
        self.comparison = None
        self.table.setRowCount(0)
        self.table.hide()
        self.legend.hide()
        self.verdict.clear()
        self.hide()

    def show_message(self, text: str) -> None:
        """A sentence instead of the table (working…, too few cells, a failure)."""
        self.comparison = None
        self.table.hide()
        self.legend.hide()
        self.verdict.setText(text)
        self.fit_text()
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
                item.setToolTip(ROW_TIPS.get(row.label, ""))
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row_index, column, item)
        self.table.resizeColumnsToContents()
        self.table.setFixedHeight(self.table.horizontalHeader().height()
                                  + sum(self.table.rowHeight(r) for r in range(self.table.rowCount())) + 4)
        self.table.show()
        self.legend.setText(legend_text(comparison.cells))
        self.legend.show()
        self.verdict.setText(comparison.verdict)
        self.fit_text()
        self.comparison = comparison
        self.show()
        return comparison

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self.fit_text()

    def fit_text(self) -> None:
        """The verdict and legend keep every wrapped line: squeezed by the plot and log above and below,
        the verdict showed only its first line (its figures cut off)."""
        for label in (self.verdict, self.legend):
            label.setMinimumHeight(label.heightForWidth(max(self.width(), 200)) if label.text() else 0)

    def cell_text(self, row_label: str, column: str) -> str:
        """The text in the row ``row_label`` under the header ``column`` (for tests and screenshots)."""
        col = HEADERS.index(column)
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() == row_label:
                return self.table.item(row, col).text()
        raise KeyError(row_label)
