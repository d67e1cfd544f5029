"""Review queue dock: overlapping cells (one cell found twice) first, then unchecked cells over
the project, white cells (and erythroblasts) before platelets before red cells, least certain first
within each (:func:`bloodview.gui.review.review_queue`: the differential needs every white cell
checked, and a camera field's doubtful red-cell outlines would otherwise bury them); sign-off.

After an edit the queue and the overlaps are worked out again only for the cells it replaced
(:mod:`bloodview.gui.review_index`), and only the table rows that differ are removed or inserted:
a class key takes one row out and brings the 501st in, where re-filling all 500 rows cost
~10 ms per key on a 2,000-cell camera field.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.gui.review import Overlap, QueueEntry, sign_off_check
from bloodview.gui.review_index import OverlapIndex, QueueIndex
from bloodview.gui.style import READABLE_CLASS, blank_icon, bulk_fill, compact_table, icon, keep_readable

QUEUE_LIMIT = 500
REMOVE_OR_INSERT_AT_MOST = 100
"""Rows that changed taken out or put in one by one up to this many; more is a bulk fill."""


class ReviewQueuePanel(QWidget):
    thresholdChanged = pyqtSignal(float)
    entryActivated = pyqtSignal(int, str)  # image index, instance id
    signOffRequested = pyqtSignal()

    def __init__(self, threshold: float, parent: QWidget | None = None):
        super().__init__(parent)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setValue(threshold)
        self.threshold.setToolTip("Machine cells below this score are 'unidentified' and not counted")
        self.threshold.setAccessibleName("Unidentified below")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.sign_off = QPushButton("Sign off image")
        self.sign_off.setIcon(blank_icon(self.sign_off.iconSize()))  # as tall now as with its icon
        self.sign_off.setEnabled(False)  # nothing open yet
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("reviewQueue")
        self.table.setAccessibleName("Review queue: cells to check, least certain first")
        self.table.setHorizontalHeaderLabels(("Class", "Certainty", "Image #"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        compact_table(self.table, stretch=0)
        keep_readable(self.table, (READABLE_CLASS, "0.00", "000"))
        form = QFormLayout()
        form.addRow("Unidentified below", self.threshold)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.sign_off)
        layout.addWidget(self.table)
        self._entries: list[QueueEntry] = []
        self._overlaps: list[tuple[int, Overlap]] = []  # (image index, overlap), listed first
        self._overlap_index = OverlapIndex()
        self._queue_index = QueueIndex()
        self._rows: list[tuple] = []  # what each table row shows (see _entry_row, _overlap_row)
        self._shown: tuple = ()
        self.threshold.valueChanged.connect(self.thresholdChanged)
        self.sign_off.clicked.connect(self.signOffRequested)
        self.table.cellActivated.connect(self._activate)
        self.table.cellClicked.connect(self._activate)

    def apply_icons(self) -> None:
        self.sign_off.setIcon(icon("mdi.check-decagram"))

    def refresh(self, dataset: Dataset, current_index: int, version: object = None) -> None:
        """Rebuild the queue (skipped when ``version`` - e.g. the session's change counter -
        and the threshold are as last time) and the sign-off state of the current image."""
        threshold = self.threshold.value()
        key = (id(dataset), version, threshold)
        if version is None or key != self._shown:
            self._shown = key
            self._fill(dataset, threshold)
        self._update_status(dataset, current_index, threshold)

    def overlaps_of(self, image: ImageAnnotation) -> list[Overlap]:
        """:func:`bloodview.gui.review.overlapping_cells`, worked out again only for the cells
        replaced since the last call (commands replace cells, never change them in place)."""
        return self._overlap_index.overlaps_of(image)

    def _fill(self, dataset: Dataset, threshold: float) -> None:
        self._entries = self._queue_index.queue(dataset.images, threshold, dataset.classes, limit=QUEUE_LIMIT)
        self._overlap_index.keep_only(dataset.images)
        self._overlaps = [(index, overlap) for index, image in enumerate(dataset.images)
                          for overlap in self.overlaps_of(image)]
        rows = [_overlap_row(dataset, index, overlap) for index, overlap in self._overlaps]
        rows += [_entry_row(dataset, entry) for entry in self._entries]
        self._show_rows(rows)

    def _show_rows(self, rows: list[tuple]) -> None:
        """Make the table show ``rows``, removing and inserting only those that differ (each row
        names its cell, so rows are unique and the diff is quick)."""
        changes = [op for op in SequenceMatcher(None, self._rows, rows, autojunk=False).get_opcodes()
                   if op[0] != "equal"]
        with bulk_fill(self.table):
            if sum(max(i2 - i1, j2 - j1) for _tag, i1, i2, j1, j2 in changes) > REMOVE_OR_INSERT_AT_MOST:
                self.table.setRowCount(0)
                self.table.setRowCount(len(rows))
                for row, spec in enumerate(rows):
                    self._fill_row(row, spec)
            else:
                for _tag, i1, i2, j1, j2 in reversed(changes):  # from the end: earlier rows keep their number
                    self.table.model().removeRows(i1, i2 - i1)
                    self.table.model().insertRows(i1, j2 - j1)
                    for offset, spec in enumerate(rows[j1:j2]):
                        self._fill_row(i1 + offset, spec)
        self._rows = rows

    def _fill_row(self, row: int, spec: tuple) -> None:
        if spec[0] == "overlap":
            _kind, _index, _keep, names, iou, number = spec
            items = [QTableWidgetItem("Overlap: " + " / ".join(names)), QTableWidgetItem(f"IoU {iou:.2f}"),
                     QTableWidgetItem(number)]
            items[0].setIcon(icon("mdi.set-merge", "#c98a00"))
            for item in items:
                item.setToolTip(f"{len(names)} cells overlap: probably one cell found more than once. "
                                f"Review → Merge overlapping cells keeps the {names[0]}.")
        else:
            _kind, _index, _cell_id, cls, certainty, number, unidentified, path = spec
            items = [QTableWidgetItem(cls), QTableWidgetItem(certainty), QTableWidgetItem(number)]
            if unidentified:
                items[0].setIcon(icon("mdi.help-circle", "#c98a00"))
                items[0].setToolTip("unidentified: below the threshold, not counted until checked")
            items[2].setToolTip(path)
        for item in items[1:]:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for column, item in enumerate(items):
            self.table.setItem(row, column, item)

    def _update_status(self, dataset: Dataset, current_index: int, threshold: float) -> None:
        if 0 <= current_index < len(dataset.images):
            image = dataset.images[current_index]
            check = sign_off_check(image, threshold)
            overlaps = self.overlaps_of(image)
            if not image.instances and not image.signed_off:
                self.status.setText("No cells in this image yet (D detects, W draws).")
                self.sign_off.setText("Sign off image")
                self.sign_off.setEnabled(True)
            elif image.signed_off:
                last = image.last_sign_off
                who = f" by {last.who} ({last.at[:16].replace('T', ' ')} UTC)" if last and last.signed_off else ""
                self.status.setText(f"This image is signed off{who}: its cells cannot change until the "
                                    "sign-off is withdrawn.")
                self.sign_off.setText("Withdraw sign-off")
                self.sign_off.setEnabled(True)
            else:
                text = "Ready to sign off." if check.ok else f"Cannot sign off yet: {check.reason}."
                if overlaps:
                    text += (f" {sum(len(o.drop) + 1 for o in overlaps)} cells overlap (one cell found "
                             "twice?): Review → Merge overlapping cells.")
                self.status.setText(text)
                self.sign_off.setText("Sign off image")
                self.sign_off.setEnabled(check.ok)
        else:
            self.status.setText("")
            self.sign_off.setEnabled(False)

    def entries(self):
        return list(self._entries)

    def overlaps(self) -> list[tuple[int, Overlap]]:
        return list(self._overlaps)

    def _activate(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._overlaps):
            index, overlap = self._overlaps[row]
            self.entryActivated.emit(index, overlap.keep)
            return
        row -= len(self._overlaps)
        if 0 <= row < len(self._entries):
            entry = self._entries[row]
            self.entryActivated.emit(entry.image_index, entry.instance_id)


def _display(dataset: Dataset, class_name: str) -> str:
    return dataset.classes[class_name].display_name if class_name in dataset.classes else class_name


def _overlap_row(dataset: Dataset, index: int, overlap: Overlap) -> tuple:
    """What an overlap's row shows (its kept cell names it: rows are unique)."""
    image = dataset.images[index]
    names = tuple(_display(dataset, image.find(cell_id).class_name) for cell_id in (overlap.keep, *overlap.drop))
    return ("overlap", index, overlap.keep, names, overlap.iou, str(index + 1))


def _entry_row(dataset: Dataset, entry: QueueEntry) -> tuple:
    """What an unchecked cell's row shows (its cell names it: rows are unique)."""
    # an imported cell whose file gave no score is no machine call (counted, never unidentified):
    # "0.00" read as "the model is sure it is wrong"
    unscored = entry.certainty == 0.0 and not entry.unidentified
    return ("cell", entry.image_index, entry.instance_id, _display(dataset, entry.class_name),
            "–" if unscored else f"{entry.certainty:.2f}", str(entry.image_index + 1), entry.unidentified,
            str(dataset.images[entry.image_index].image_path))
