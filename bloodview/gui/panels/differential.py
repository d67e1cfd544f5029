"""Differential count dock: per class count, % and per 100 white cells, image or project."""

from __future__ import annotations

from collections.abc import Sequence

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.gui.report import differential_for
from bloodview.gui.style import bulk_fill, compact_table, icon, swatch

SCOPES = ("This image", "Whole project")


class DifferentialPanel(QWidget):
    """Unidentified cells (below the threshold, unchecked) are shown apart and not counted."""

    scopeChanged = pyqtSignal(int)
    exportRequested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.scope = QComboBox()
        self.scope.addItems(SCOPES)
        self.export = QPushButton("Report…")
        self.export.setToolTip("Export the differential count as HTML or PDF")
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("differential")
        self.table.setHorizontalHeaderLabels(("Class", "Count", "% all", "/100 WBC"))
        for column, tip in (
            (2, "Share of every counted cell, platelets and erythroblasts included"),
            (3, "The differential: white cells as % of all white cells; erythroblasts (NRBC) "
                "per 100 white cells; platelets are not white cells (–)"),
        ):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        compact_table(self.table)
        self.totals = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.scope, 1)
        top.addWidget(self.export)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)
        self.scope.currentIndexChanged.connect(self.scopeChanged)
        self.export.clicked.connect(self.exportRequested)

    def apply_icons(self) -> None:
        self.export.setIcon(icon("mdi.file-document-outline"))

    @property
    def whole_project(self) -> bool:
        return self.scope.currentIndex() == 1

    def show_count(
        self, dataset: Dataset, images: Sequence[ImageAnnotation], threshold: float
    ) -> None:
        count, unidentified = differential_for(images, dataset, threshold)
        with bulk_fill(self.table):
            self.table.setRowCount(len(count.rows))
            right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            for row, entry in enumerate(count.rows):
                cls = dataset.classes[entry.class_name]
                values = [
                    QTableWidgetItem(swatch(cls), entry.display_name),
                    QTableWidgetItem(str(entry.count)),
                    QTableWidgetItem(f"{entry.percent_of_all:.1f}"),
                    QTableWidgetItem("–" if entry.per_100_white is None else f"{entry.per_100_white:.1f}"),
                ]
                for column, item in enumerate(values):
                    if column:
                        item.setTextAlignment(right)
                    self.table.setItem(row, column, item)
        self.totals.setText(
            f"{count.total} counted · {count.white_total} white cells · "
            f"{unidentified} unidentified (not counted)"
        )

    def value(self, class_name: str, column: int = 1) -> str:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text().lower().startswith(class_name.lower()[:4]):
                return self.table.item(row, column).text()
        raise KeyError(class_name)
