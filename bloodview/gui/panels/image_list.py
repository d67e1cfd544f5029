"""Image list dock: every open image, checked/total cells, sign-off and broken marks."""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt, pyqtSignal
from PyQt6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QStyledItemDelegate, QVBoxLayout, QWidget

from bloodview.gui.review import is_checked
from bloodview.gui.session import Session
from bloodview.gui.style import OK_COLOUR, WARNING_COLOUR, icon, muted_colour, text_colour


class FitWidthDelegate(QStyledItemDelegate):
    """Rows as wide as the list, not as their text: the list then shortens what does not fit."""

    def sizeHint(self, option, index) -> QSize:  # noqa: N802 - Qt's name
        return QSize(0, super().sizeHint(option, index).height())


class ImageListPanel(QWidget):
    """Click an image to show it; a warning icon marks images that cannot be read."""

    imageActivated = pyqtSignal(int)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.list = QListWidget()
        self.list.setObjectName("imageList")
        self.list.setAccessibleName("Images")
        self.list.setUniformItemSizes(True)
        # A long file name is shortened in its middle, so the "checked/total" at the end stays in
        # view: it scrolled out of a narrow dock (a larger font, a camera's long names) behind a
        # horizontal scroll bar. The tooltip gives the whole path.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setItemDelegate(FitWidthDelegate(self.list))
        self.summary = QLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.list)
        layout.addWidget(self.summary)
        self.list.currentRowChanged.connect(self._row_changed)
        session.opened.connect(self.rebuild)
        session.imageChanged.connect(self.update_row)
        session.currentChanged.connect(self._select_row)
        session.imageSetChanged.connect(self._set_changed)

    def rebuild(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for index in range(len(self.session.dataset.images)):
            self.list.addItem(QListWidgetItem())
            self._fill(index)
        self.list.blockSignals(False)
        self._update_summary()

    def _set_changed(self) -> None:
        """Images were taken out or put back: every row may now be another image."""
        self.rebuild()
        self._select_row(self.session.current_index)

    def update_row(self, index: int) -> None:
        if 0 <= index < self.list.count():
            self._fill(index)
            self._update_summary()

    def _fill(self, index: int) -> None:
        image = self.session.dataset.images[index]
        item = self.list.item(index)
        checked = sum(is_checked(i) for i in image.instances)
        name = image.image_path.name
        if index in self.session.broken:
            item.setIcon(icon("mdi.alert", WARNING_COLOUR))
            item.setText(f"{name}  — cannot be read")
            item.setToolTip(self.session.broken[index])
            return
        if image.signed_off:
            item.setIcon(icon("mdi.check-decagram", OK_COLOUR))
        elif image.instances and checked == len(image.instances):
            item.setIcon(icon("mdi.check-all", text_colour(self.list)))
        else:
            item.setIcon(icon("mdi.image-outline", muted_colour(self.list)))
        label = f"  [{image.image_label}]" if image.image_label else ""
        item.setText(f"{name}   {checked}/{len(image.instances)}{label}")
        item.setToolTip(
            f"{image.image_path}\n{checked} of {len(image.instances)} cells checked"
            + ("\nsigned off" if image.signed_off else "")
        )

    def _update_summary(self) -> None:
        images = self.session.dataset.images
        signed = sum(i.signed_off for i in images)
        broken = len(self.session.broken)
        text = f"{len(images)} images · {signed} signed off"
        if broken:
            text += f" · {broken} unreadable"
        self.summary.setText(text)

    def _row_changed(self, row: int) -> None:
        if row >= 0:
            self.imageActivated.emit(row)

    def _select_row(self, index: int) -> None:
        self.list.blockSignals(True)
        self.list.setCurrentRow(index)
        self.list.blockSignals(False)
        item = self.list.item(index)
        if item is not None:
            self.list.scrollToItem(item, QListWidget.ScrollHint.EnsureVisible)

    def selected_rows(self) -> list[int]:
        return sorted(index.row() for index in self.list.selectedIndexes())

    def item_text(self, index: int) -> str:
        return self.list.item(index).text()

    def is_marked_broken(self, index: int) -> bool:
        return "cannot be read" in self.list.item(index).text()

