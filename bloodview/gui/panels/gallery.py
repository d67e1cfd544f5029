"""Cell gallery dock: thumbnails of the current image's cells, by class.

Click a thumbnail to jump to the cell; select several (Ctrl/Shift-click) and press
a class key (1–8) to reclassify them at once (the window's class actions act on the
shared selection, which the gallery keeps in step with the canvas).
"""

from __future__ import annotations

from PyQt6.QtCore import QRect, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QIcon, QImage, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QListView,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.gui.review import UNIDENTIFIED, is_checked, is_unidentified, reading_order

THUMB = 72
MIN_CROP = 40  # image pixels: a platelet thumbnail still shows its surroundings
ALL = "__all__"


class GalleryPanel(QWidget):
    selectionChangedIds = pyqtSignal(list)
    instanceActivated = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.filter = QComboBox()
        self.filter.setObjectName("galleryFilter")
        self.list = QListWidget()
        self.list.setObjectName("gallery")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setSpacing(4)
        self.list.setUniformItemSizes(True)
        self.list.setGridSize(QSize(THUMB + 16, THUMB + 22))
        self.list.setWordWrap(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        self._image: ImageAnnotation | None = None
        self._qimage: QImage | None = None
        self._classes = ClassCatalogue.pbc()
        self._threshold = 0.75
        self._thumbs: dict[tuple, QIcon] = {}
        self.filter.currentIndexChanged.connect(lambda _i: self._rebuild())
        self.list.itemSelectionChanged.connect(self._emit_selection)
        self.list.itemClicked.connect(
            lambda item: self.instanceActivated.emit(item.data(Qt.ItemDataRole.UserRole))
        )

    def set_classes(self, classes: ClassCatalogue) -> None:
        self._classes = classes
        current = self.filter.currentData()
        self.filter.blockSignals(True)
        self.filter.clear()
        self.filter.addItem("All cells", ALL)
        self.filter.addItem("Unidentified", UNIDENTIFIED)
        for cls in classes:
            self.filter.addItem(cls.display_name, cls.name)
        index = self.filter.findData(current)
        self.filter.setCurrentIndex(max(index, 0))
        self.filter.blockSignals(False)

    def set_filter(self, name: str) -> None:
        self.filter.setCurrentIndex(max(self.filter.findData(name), 0))

    def show_image(
        self, image: ImageAnnotation | None, qimage: QImage | None, threshold: float
    ) -> None:
        if image is not self._image or qimage is not self._qimage:
            self._thumbs.clear()
        self._image, self._qimage, self._threshold = image, qimage, threshold
        self._rebuild()

    def _rebuild(self) -> None:
        selected = set(self.selected_ids())
        self.list.blockSignals(True)
        self.list.clear()
        wanted = self.filter.currentData() or ALL
        if self._image is not None:
            for cell in reading_order(self._image.instances):
                unidentified = is_unidentified(cell, self._threshold)
                if wanted == UNIDENTIFIED and not unidentified:
                    continue
                if wanted not in (ALL, UNIDENTIFIED) and cell.class_name != wanted:
                    continue
                short = self._classes[cell.class_name].display_name.split()[0][:10] \
                    if cell.class_name in self._classes else cell.class_name
                score = "" if cell.score is None else f" {cell.score:.2f}"
                item = QListWidgetItem(self._thumbnail(cell, unidentified), f"{short}{score}")
                item.setData(Qt.ItemDataRole.UserRole, cell.id)
                name = self._classes[cell.class_name].display_name if cell.class_name in self._classes \
                    else cell.class_name
                item.setToolTip(f"{name}{score}{' · checked' if is_checked(cell) else ''}")
                self.list.addItem(item)
                item.setSelected(cell.id in selected)
        self.list.blockSignals(False)

    def _thumbnail(self, cell, unidentified: bool) -> QIcon:
        key = (cell.id, cell.class_name, is_checked(cell), unidentified, tuple(cell.bbox))
        cached = self._thumbs.get(key)
        if cached is not None:
            return cached
        pixmap = QPixmap(THUMB, THUMB)
        pixmap.fill(QColor("#303030"))
        painter = QPainter(pixmap)
        if self._qimage is not None and not self._qimage.isNull():
            x1, y1, x2, y2 = cell.bbox
            side = max(x2 - x1, y2 - y1, MIN_CROP) * 1.15 + 4
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            rect = QRect(int(cx - side / 2), int(cy - side / 2), int(side), int(side))
            crop = self._qimage.copy(rect).scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            painter.drawImage(0, 0, crop)
        rgb = self._classes[cell.class_name].color if cell.class_name in self._classes else (136,) * 3
        pen = QPen(QColor("#c98a00") if unidentified else QColor(*rgb))
        pen.setWidth(4 if not is_checked(cell) else 2)
        painter.setPen(pen)
        painter.drawRect(1, 1, THUMB - 3, THUMB - 3)
        if is_checked(cell):
            painter.setPen(QColor("#ffffff"))
            painter.drawText(QRect(0, 0, THUMB - 4, 16), Qt.AlignmentFlag.AlignRight, "✓")
        painter.end()
        result = QIcon(pixmap)
        self._thumbs[key] = result
        return result

    def selected_ids(self) -> list[str]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]

    def select_ids(self, ids) -> None:
        wanted = set(ids)
        self.list.blockSignals(True)
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setSelected(item.data(Qt.ItemDataRole.UserRole) in wanted)
        self.list.blockSignals(False)

    def shown_ids(self) -> list[str]:
        return [self.list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(self.list.count())]

    def _emit_selection(self) -> None:
        self.selectionChangedIds.emit(self.selected_ids())
