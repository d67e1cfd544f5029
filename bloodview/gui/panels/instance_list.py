"""Instance list dock: the cells of the current image with class, score, source, check state, size.

The size column gives each cell's equivalent diameter in µm (the disc of the
outline's area) while the image's scale is known; it stays empty otherwise
(and for the model's default guess, which is no measurement).

Refreshing refills only the rows whose cell changed. Edits replace a cell, never change
one in place (:mod:`bloodview.gui.commands`), so a row is stale exactly when its cell is
another object. On a 4000 x 3000 camera field of ~2,000 cells, re-filling every row
cost 0.08–0.1 s per class key or Space (with the other panels, 0.25–0.6 s of lag per
key); a key changes one row. The whole table is rebuilt when the image, the rows' order
(cells added, deleted or moved), the threshold, the scale, the classes or most rows changed.
"""

from __future__ import annotations

from functools import partial

from PyQt6.QtCore import QItemSelection, QItemSelectionModel, Qt, pyqtSignal
from PyQt6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.measure import PixelSize, cell_size
from bloodview.gui.review import (
    display_name,
    is_checked,
    is_unidentified,
    provenance,
    reading_order,
    shown_score,
    was_text,
)
from bloodview.gui.style import READABLE_CLASS, bulk_fill, compact_table, icon, keep_readable, swatch

COLUMNS = ("Class", "Score", "Source", "Checked", "Ø µm")
SIZE_COLUMN = COLUMNS.index("Ø µm")
REFILL_AT_MOST = 200
"""Changed rows refilled one by one up to this many; more is a bulk fill (faster then)."""


class InstanceListPanel(QTableWidget):
    """Rows in reading order; selection is kept in step with the canvas."""

    selectionChangedIds = pyqtSignal(list)
    instanceActivated = pyqtSignal(str)

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("instanceList")
        self.setAccessibleName("Cells of this image")
        self.setHorizontalHeaderLabels(COLUMNS)
        self.horizontalHeaderItem(SIZE_COLUMN).setToolTip(
            "Equivalent diameter in µm (the disc of the cell's area); empty while the image's scale is unknown")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        compact_table(self)
        # The class column takes the spare width; the score column stays as wide as a score. A
        # "(was Neutrophil 0.95)" note there used to widen it and squeeze the class itself to "…"
        # in a narrow dock; now the note is elided (the canvas label and the tooltip give it whole)
        # and every column still fits the default dock, the cell's size included.
        header = self.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        metrics = self.fontMetrics()
        header.resizeSection(1, max(metrics.horizontalAdvance("0.00"), metrics.horizontalAdvance("Score")) + 20)
        keep_readable(self, (READABLE_CLASS, "0.00", "bootstrap", "yes", "00.0"))
        self._ids: list[str] = []
        self._shown: list = []  # the Instance objects the rows show, row by row
        self._image: ImageAnnotation | None = None  # the image the rows show
        self._context: tuple | None = None  # what the rows' text depends on besides the cell
        self.itemSelectionChanged.connect(self._emit_selection)
        self.cellDoubleClicked.connect(lambda row, _col: self.instanceActivated.emit(self._ids[row]))

    def show_image(
        self, image: ImageAnnotation | None, classes: ClassCatalogue, threshold: float,
        pixel_size: PixelSize | None = None,
    ) -> None:
        """``pixel_size``: the scale in use for ``image`` (default: the one recorded on it)."""
        if pixel_size is None and image is not None:
            pixel_size = image.pixel_size
        um_per_pixel = pixel_size.um_per_pixel if pixel_size is not None and pixel_size.measured else None
        ordered = reading_order(image.instances) if image is not None else []
        context = (threshold, um_per_pixel, tuple(classes))
        if image is self._image and context == self._context and self._refill_changed(ordered, classes, threshold, um_per_pixel):
            return
        selected = set(self.selected_ids())
        self.blockSignals(True)
        with bulk_fill(self):
            self.setRowCount(0)
            self.setRowCount(len(ordered))
            for row, cell in enumerate(ordered):
                self._fill_row(row, cell, classes, threshold, um_per_pixel)
        self._ids = [cell.id for cell in ordered]
        self._shown = ordered
        self._image, self._context = image, context
        self.blockSignals(False)
        self.select_ids(selected)

    def _refill_changed(self, ordered: list, classes: ClassCatalogue, threshold: float,
                        um_per_pixel: float | None) -> bool:
        """Refill the rows whose cell is another object; False (nothing done) when the rows
        themselves changed (order, count) or too many did for one by one."""
        if [cell.id for cell in ordered] != self._ids:
            return False
        changed = [row for row, cell in enumerate(ordered) if cell is not self._shown[row]]
        if len(changed) > REFILL_AT_MOST:
            return False
        if changed:
            self.blockSignals(True)  # the selection is the same rows: nothing to tell anyone
            with bulk_fill(self):  # else each setItem re-measures every row's width
                for row in changed:
                    self._fill_row(row, ordered[row], classes, threshold, um_per_pixel)
            self._shown = ordered
            self.blockSignals(False)
        return True

    def _fill_row(self, row, cell, classes: ClassCatalogue, threshold: float, um_per_pixel: float | None) -> None:
        name_item = QTableWidgetItem(cell.class_name)
        if cell.class_name in classes:
            cls = classes[cell.class_name]
            name_item.setText(cls.display_name)
            name_item.setIcon(swatch(cls))
        unidentified = is_unidentified(cell, threshold)
        if unidentified:
            name_item.setIcon(icon("mdi.help-circle", "#c98a00"))
        shown = shown_score(cell)  # the model's score is for its class, not a person's correction
        score = "" if shown is None else f"{shown:.2f}"
        display = partial(display_name, classes)
        was = was_text(cell, display)
        score = f"({was})" if was else score
        checked = "corrected" if cell.corrected else ("yes" if is_checked(cell) else "")
        size = None if um_per_pixel is None else cell_size(cell.area, um_per_pixel)
        items = [name_item, QTableWidgetItem(score), QTableWidgetItem(cell.source.value),
                 QTableWidgetItem(checked), QTableWidgetItem("" if size is None else f"{size.diameter_um:.1f}")]
        for column in (1, SIZE_COLUMN):
            items[column].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        tip = provenance(cell, display) + ("\nunidentified: below the threshold, not counted" if unidentified else "")
        if size is not None:
            tip += f"\nsize: {size.diameter_um:.1f} µm across (area {size.area_um2:.0f} µm²)"
        for column, item in enumerate(items):
            item.setToolTip(tip)
            item.setData(Qt.ItemDataRole.UserRole, cell.id)
            self.setItem(row, column, item)

    def selected_ids(self) -> list[str]:
        rows = sorted({index.row() for index in self.selectedIndexes()})
        return [self._ids[r] for r in rows if r < len(self._ids)]

    def select_ids(self, ids) -> None:
        """Select exactly the rows of ``ids`` in one selection change: row by row, Qt merges each
        row into the selection, so selecting all 2,000 cells of a camera field (Ctrl+A) took 24 s."""
        wanted = set(ids)
        rows = [row for row, cell_id in enumerate(self._ids) if cell_id in wanted]
        selection = QItemSelection()
        last_column = self.columnCount() - 1
        for first, last in _runs(rows):
            selection.select(self.model().index(first, 0), self.model().index(last, last_column))
        self.blockSignals(True)
        self.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if rows:  # arrow keys go on from the first selected row, as after a click on it
            self.selectionModel().setCurrentIndex(self.model().index(rows[0], 0),
                                                  QItemSelectionModel.SelectionFlag.NoUpdate)
            self.scrollToItem(self.item(rows[0], 0))
        self.blockSignals(False)

    def _emit_selection(self) -> None:
        self.selectionChangedIds.emit(self.selected_ids())


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of consecutive rows: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs
