"""Review queue dock: overlapping cells (one cell found twice) first, then unchecked cells over
the project, least certain first; sign-off."""

from __future__ import annotations

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
from bloodview.gui.review import Overlap, QueueEntry, overlapping_cells, review_queue, sign_off_check
from bloodview.gui.style import bulk_fill, compact_table, icon

QUEUE_LIMIT = 500


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
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.sign_off = QPushButton("Sign off image")
        self.sign_off.setEnabled(False)  # nothing open yet
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("reviewQueue")
        self.table.setHorizontalHeaderLabels(("Class", "Certainty", "Image #"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        compact_table(self.table, stretch=0)
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
        self._overlap_cache: dict[int, tuple[tuple, list[Overlap]]] = {}
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
        """:func:`overlapping_cells`, cached while the image holds the same cell objects
        (commands replace cells, never change them in place; the cache keeps them alive)."""
        cells = tuple(image.instances)
        cached = self._overlap_cache.get(id(image))
        if cached is None or len(cached[0]) != len(cells) or any(a is not b for a, b in zip(cached[0], cells)):
            cached = (cells, overlapping_cells(image))
            self._overlap_cache[id(image)] = cached
        return cached[1]

    def _fill(self, dataset: Dataset, threshold: float) -> None:
        self._entries = review_queue(dataset.images, threshold, limit=QUEUE_LIMIT)
        live = {id(image) for image in dataset.images}
        self._overlap_cache = {k: v for k, v in self._overlap_cache.items() if k in live}
        self._overlaps = [(index, overlap) for index, image in enumerate(dataset.images)
                          for overlap in self.overlaps_of(image)]
        with bulk_fill(self.table):
            self.table.setRowCount(len(self._overlaps) + len(self._entries))
            for row, (index, overlap) in enumerate(self._overlaps):
                self._fill_overlap(row, dataset, index, overlap)
            for row, entry in enumerate(self._entries, start=len(self._overlaps)):
                path = dataset.images[entry.image_index].image_path
                name = str(entry.image_index + 1)
                cls = entry.class_name
                if cls in dataset.classes:
                    cls = dataset.classes[cls].display_name
                items = [QTableWidgetItem(cls), QTableWidgetItem(f"{entry.certainty:.2f}"),
                         QTableWidgetItem(name)]
                if entry.unidentified:
                    items[0].setIcon(icon("mdi.help-circle", "#c98a00"))
                    items[0].setToolTip("unidentified: below the threshold, not counted until checked")
                for item in items[1:]:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                items[2].setToolTip(str(path))
                for column, item in enumerate(items):
                    self.table.setItem(row, column, item)

    def _fill_overlap(self, row: int, dataset: Dataset, index: int, overlap: Overlap) -> None:
        image = dataset.images[index]
        names = []
        for cell_id in (overlap.keep, *overlap.drop):
            cell = image.find(cell_id)
            names.append(dataset.classes[cell.class_name].display_name
                         if cell.class_name in dataset.classes else cell.class_name)
        items = [QTableWidgetItem("Overlap: " + " / ".join(names)), QTableWidgetItem(f"IoU {overlap.iou:.2f}"),
                 QTableWidgetItem(str(index + 1))]
        items[0].setIcon(icon("mdi.set-merge", "#c98a00"))
        for item in items:
            item.setToolTip(f"{len(names)} cells overlap: probably one cell found more than once. "
                            f"Review → Merge overlapping cells keeps the {names[0]}.")
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
                who = f" by {last.by} ({last.at[:16].replace('T', ' ')} UTC)" if last and last.signed_off else ""
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
