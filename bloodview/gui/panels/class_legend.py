"""Class legend dock: colour, key, count per class, visibility checkboxes, opacity."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.gui.style import READABLE_CLASS, bulk_fill, compact_table, keep_readable, swatch


class ClassLegendPanel(QWidget):
    """Untick a class to hide it on the canvas; click a row to make it the drawing class."""

    visibilityChanged = pyqtSignal(str, bool)
    opacityChanged = pyqtSignal(float)
    labelsVisibleChanged = pyqtSignal(bool)
    activeClassChanged = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("classLegend")
        self.table.setAccessibleName("Cell classes: tick to show, select to draw")
        self.table.setHorizontalHeaderLabels(("Class", "Key", "Cells"))
        compact_table(self.table)
        keep_readable(self.table, (READABLE_CLASS, "0", "000"), marks=2)  # tick box and swatch
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(45)
        self.opacity.setToolTip("Mask opacity")
        self.opacity.setAccessibleName("Mask opacity")
        self.labels = QCheckBox("Labels")
        self.labels.setChecked(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Opacity"))
        row.addWidget(self.opacity, 1)
        row.addWidget(self.labels)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.table)
        layout.addLayout(row)
        self._names: list[str] = []
        self.table.itemChanged.connect(self._item_changed)
        self.table.currentCellChanged.connect(self._current_changed)
        self.opacity.valueChanged.connect(lambda v: self.opacityChanged.emit(v / 100.0))
        self.labels.toggled.connect(self.labelsVisibleChanged)

    def set_classes(self, classes: ClassCatalogue) -> None:
        hidden = set(self.hidden_classes())
        self.table.blockSignals(True)
        self.table.setRowCount(len(classes))
        self._names = classes.names
        for row, cls in enumerate(classes):
            name = QTableWidgetItem(swatch(cls), cls.display_name)
            name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            name.setCheckState(
                Qt.CheckState.Unchecked if cls.name in hidden else Qt.CheckState.Checked
            )
            name.setToolTip(f"{cls.name}: untick to hide; click to draw this class")
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, QTableWidgetItem(cls.key or ""))
            count = QTableWidgetItem("0")
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 2, count)
        self.table.resizeColumnToContents(1)
        self.table.blockSignals(False)

    def update_counts(self, image: ImageAnnotation | None) -> None:
        counts = image.class_counts() if image is not None else {}
        self.table.blockSignals(True)
        with bulk_fill(self.table):
            for row, name in enumerate(self._names):
                self.table.item(row, 2).setText(str(counts.get(name, 0)))
        self.table.blockSignals(False)

    def hidden_classes(self) -> list[str]:
        return [
            name for row, name in enumerate(self._names)
            if self.table.item(row, 0) is not None
            and self.table.item(row, 0).checkState() != Qt.CheckState.Checked
        ]

    def set_class_visible(self, name: str, visible: bool) -> None:
        row = self._names.index(name)
        self.table.item(row, 0).setCheckState(
            Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked
        )

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            visible = item.checkState() == Qt.CheckState.Checked
            self.visibilityChanged.emit(self._names[item.row()], visible)

    def _current_changed(self, row: int, *_args) -> None:
        if 0 <= row < len(self._names):
            self.activeClassChanged.emit(self._names[row])
