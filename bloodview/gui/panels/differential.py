"""Differential count dock: per class checked/unchecked counts and the white-cell %, image or project.

The % column's denominator is the white cells only; erythroblasts (NRBC) show
per 100 white cells, platelets and red cells a count only, never inside the
white-cell %. Below the table, the lab figures: fields counted, white cells, red
cells and platelets, and the platelet estimate (per field; per 1,000 red cells
when red cells were counted).

Unchecked cells are named by origin (model, segmenter, imported), in the report's and
``bloodview count``'s words (:func:`bloodview.core.review_rules.origin`): a lab reads an
imported or segmented cell very differently from a model's call. The narrow dock has one
short unchecked column ("Unch.", as wide as the "Model" it replaces, so the class names keep
their room); each number's tooltip and the totals line under the table give the split.

On a laptop (1280 x 720) the dock is short: the table asks for the height of all its rows, and
the totals text under it scrolls in what is left (at least four lines), so the count itself is
never squeezed to a couple of rows by its own footnotes.
"""

from __future__ import annotations

from collections.abc import Sequence

from PyQt6.QtCore import QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.differential import (
    DifferentialCount,
    DifferentialRow,
    platelet_estimate_text,
    unchecked_text,
)
from bloodview.core.review_rules import ORIGINS
from bloodview.gui.report import ORIGIN_MEANING, differential_for, review_tally
from bloodview.gui.style import READABLE_CLASS, blank_icon, bulk_fill, compact_table, icon, keep_readable, swatch

SCOPES = ("This image", "Whole project")
# short headers: the dock is narrow and the class names need the width (tooltips say more)
COLUMNS = ("Class", "✓", "Unch.", "n", "% WBC")
UNCHECKED = 2
UNCHECKED_TIP = ("Unchecked: counted cells no person has checked yet (unidentified ones are not counted), "
                 "by origin — " + "; ".join(f"{name}: {ORIGIN_MEANING[name]}" for name in ORIGINS))
COLUMN_TIPS = (
    "Cell class (white cells first)",
    "Checked: cells a person drew, corrected or confirmed",
    UNCHECKED_TIP,
    "Count: checked + unchecked",
    "White cells: % of all counted white cells (the differential; the denominator is the white "
    "cells only). Erythroblasts (NRBC): per 100 white cells, not part of the 100 %. "
    "Platelets and red cells: count only (–)",
)
PERCENT = 4
TEXT_LINES = 4  # the totals text's least height, in lines; the rest scrolls when the dock is short
MIN_ROWS = 4  # the count table's least height, in rows, where the screen is too short for every row
TITLE_BAR_PX = 40  # what a window's title bar takes of the screen's free height (not in its own height)


class CountTable(QTableWidget):
    """The count table; its size hints ask for every row, so a short dock takes the room from the
    text under it (and from the docks above), not from the count.

    Unless the screen is too short for that: a minimum of every row (nine, more in a project with its
    own classes) made the window taller than a 1366 x 768 laptop at a 14 pt system font, its status
    bar and the docks' bottoms off the screen. :meth:`fit_screen` then lowers the minimum by the rows
    the window is too tall by (to :data:`MIN_ROWS` at least), and the table scrolls."""

    def __init__(self, *args):
        super().__init__(*args)
        self.spare_rows = 0  # rows the minimum leaves out for the screen's sake (fit_screen)

    def row_height(self) -> int:
        header = self.verticalHeader()
        return max(header.defaultSectionSize(), header.minimumSectionSize())  # a big font's rows are taller

    def rows_height(self, rows: int | None = None) -> int:
        """Pixels that show the header and ``rows`` rows (default: every row, at least one)."""
        rows = max(self.rowCount() if rows is None else rows, 1)
        return self.horizontalHeader().sizeHint().height() + rows * self.row_height() + 2 * self.frameWidth()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        rows = max(min(self.rowCount(), MIN_ROWS), self.rowCount() - self.spare_rows)
        return QSize(super().minimumSizeHint().width(), self.rows_height(rows))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(super().sizeHint().width(), self.rows_height())

    def fit_screen(self, window_minimum: int | None = None) -> None:
        """Leave out of the minimum as many rows as the window's minimum height overflows its
        screen's free height (less a title bar), or put back as many as there is room for.

        ``window_minimum``: the window's minimum with this table's minimum as it is now, when the
        caller knows it before the layouts do (:meth:`DifferentialPanel.show_count` works it out as
        the rows change, so the window never grows past the screen in between); default: the
        window's own, exact once the layouts have settled (show_count runs that on the next turn of
        the event loop)."""
        window, screen = self.window(), self.screen()
        if window is self or screen is None:
            return
        if window_minimum is None:
            window_minimum = window.minimumSizeHint().height()
        overflow = window_minimum + TITLE_BAR_PX - screen.availableGeometry().height()
        rows = -(-overflow // self.row_height())  # too tall: rows to leave out (rounded up); else to put back
        spare = min(max(self.spare_rows + rows, 0), max(self.rowCount() - MIN_ROWS, 0))
        if spare != self.spare_rows:
            self.spare_rows = spare
            self.updateGeometry()
        free = screen.availableGeometry().height() - TITLE_BAR_PX
        if overflow > 0 and window.height() > free and not (window.isMaximized() or window.isFullScreen()):
            window.resize(window.width(), free)  # it grew past the screen before the rows were left out


class DifferentialPanel(QWidget):
    """Unidentified cells (below the threshold, unchecked) are shown apart and not counted."""

    scopeChanged = pyqtSignal(int)
    exportRequested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.scope = QComboBox()
        self.scope.addItems(SCOPES)
        self.scope.setAccessibleName("Count scope")
        self.scope.setToolTip("Count this image or the whole project")
        self.export = QPushButton("Report…")
        self.export.setIcon(blank_icon(self.export.iconSize()))  # as tall now as with its icon (apply_icons)
        self.export.setToolTip("Export the differential count as HTML or PDF (a DRAFT until every "
                               "image is signed off)")
        self.table = CountTable(0, len(COLUMNS))
        self.table.setObjectName("differential")
        self.table.setAccessibleName("Differential count")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for column, tip in enumerate(COLUMN_TIPS):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        compact_table(self.table)
        keep_readable(self.table, (READABLE_CLASS, "000", "000", "000", "0.0/100"))
        self.totals = QLabel()
        self.totals.setWordWrap(True)
        self.estimate = QLabel()
        self.estimate.setObjectName("plateletEstimate")
        self.estimate.setWordWrap(True)
        self.estimate.setToolTip("Fields: images with counted cells. Platelet estimate: platelets per "
                                 "field (mean) and per 1,000 red cells, as labs check an analyser's count")
        top = QHBoxLayout()
        top.addWidget(self.scope, 1)
        top.addWidget(self.export)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        text = QWidget()
        lines = QVBoxLayout(text)
        lines.setContentsMargins(0, 0, 0, 0)
        lines.addWidget(self.totals)
        lines.addWidget(self.estimate)
        lines.addStretch(1)
        self.text = QScrollArea()
        self.text.setObjectName("differentialText")
        self.text.setAccessibleName("Differential totals")
        self.text.setWidget(text)
        self.text.setWidgetResizable(True)
        self.text.setFrameShape(QFrame.Shape.NoFrame)
        self.text.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.text.setMinimumHeight(TEXT_LINES * self.fontMetrics().lineSpacing())
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.text)
        self._fit = QTimer(self)
        self._fit.setSingleShot(True)
        self._fit.setInterval(0)
        self._fit.timeout.connect(self.table.fit_screen)
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
        rows = count.white_rows + count.other_rows
        window_minimum = self.window().minimumSizeHint().height() - self.table.minimumSizeHint().height()
        with bulk_fill(self.table):
            self.table.setRowCount(len(rows))
            right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            for row, entry in enumerate(rows):
                percent, tip = _percent_cell(entry, count.white_total)
                values = [
                    QTableWidgetItem(swatch(dataset.classes[entry.class_name]), entry.display_name),
                    QTableWidgetItem(str(entry.checked)),
                    QTableWidgetItem(str(entry.unchecked)),
                    QTableWidgetItem(str(entry.count)),
                    QTableWidgetItem(percent),
                ]
                values[PERCENT].setToolTip(tip)
                if entry.unchecked:
                    values[UNCHECKED].setToolTip(f"Unchecked: {unchecked_text(entry.unchecked_by_origin)}")
                for column, item in enumerate(values):
                    if column:
                        item.setTextAlignment(right)
                    self.table.setItem(row, column, item)
        self.table.fit_screen(window_minimum + self.table.minimumSizeHint().height())  # before the window grows
        self.table.updateGeometry()  # its height follows its rows
        self._fit.start()  # and exactly, once the window's layout has the new rows
        tally = review_tally(images, threshold)
        white = count.white_total
        others = ", ".join(f"{r.count} {r.display_name.lower()}" for r in count.other_rows if r.count)
        if tally.images == 1:
            signed = "Image signed off" if images[0].signed_off else "Image not signed off"
        else:
            signed = f"{tally.signed_off} of {tally.images} images signed off"
        self.totals.setText(
            f"% of {white} white cells: {count.white_checked} checked, {white_unchecked_text(count)}\n"
            f"Not in the %: {others or 'no other cells'} · {unidentified} unidentified (not counted)\n"
            f"{signed}{'' if tally.final else ' — a draft count'}"
        )
        self.estimate.setText(lab_figures_text(count))

    def value(self, class_name: str, column: int = 3) -> str:
        """The text in ``column`` (default: the count) of ``class_name``'s row."""
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text().lower().startswith(class_name.lower()[:4]):
                return self.table.item(row, column).text()
        raise KeyError(class_name)


def white_unchecked_text(count: DifferentialCount) -> str:
    """``"2 unchecked (1 model, 1 imported)"``: the white cells no person has checked, by origin."""
    by_origin = tuple((name, n) for name in count.unchecked_origins
                      if (n := count.unchecked_from(name, white_only=True)))
    unchecked = count.white_total - count.white_checked
    return f"{unchecked} unchecked" + (f" ({unchecked_text(by_origin)})" if unchecked else "")


def lab_figures_text(count: DifferentialCount) -> str:
    """Fields, cells counted and the platelet estimate, in two lines."""
    fields = f"{count.fields} field{'' if count.fields == 1 else 's'}"
    return (f"{fields}: {count.white_total} white cells, {count.red_cells} red cells, "
            f"{count.platelets} platelets\nPlatelet estimate: {platelet_estimate_text(count)}")


def _percent_cell(row: DifferentialRow, white_total: int) -> tuple[str, str]:
    """(text, tooltip) of the % WBC column for ``row``; "–" while no white cell is counted (a
    "0.0" there would read as "none of them", and an erythroblast's "0.0/100" would hide it)."""
    if row.per_100_white is not None and not white_total:
        return "–", "No white cells counted: no % and no figure per 100 white cells"
    if row.white_cell:
        return f"{row.percent_of_white:.1f}", f"{row.count} of {white_total} white cells"
    if row.per_100_white is not None:
        return (f"{row.per_100_white:.1f}/100",
                f"{row.count} per {white_total} white cells x 100 — not part of the 100 %")
    return "–", "Count only: not a white cell, not in the white-cell %"
