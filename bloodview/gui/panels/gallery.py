"""Cell gallery dock: thumbnails of cells by class, for this image or all images.

As on a CellaVision screen, the technician reviews cells class by class: pick a
class (or "Unidentified") and a scope. A plain click jumps to the cell (switching
image if needed); Ctrl/Shift-click selects several, and a class key (1–8) or
Space then acts on all of them at once (the window asks :meth:`selected_cells`).
In "This image" scope the selection is the canvas selection.

In "All images" scope a thumbnail of another image than the one on screen starts as its frame
alone; the image is decoded only when one of its thumbnails is scrolled into view, and then all its
listed cells are drawn at once. Drawing them all up front decoded every image of the project (the
first 400 cells of a slide of 4000 x 3000 camera fields: seconds, and the cache churning through
36 MB pictures). The decoding happens off the GUI thread (:mod:`bloodview.gui.workers.thumbnails`,
the images in view first, top to bottom): done here, each camera field froze the window for
0.1–0.3 s as it scrolled into view. Only thumbnail-sized crops come back, kept in bounded caches;
an image that cannot be read gets "cannot read" thumbnails, with the reason in their tooltip, and
:attr:`GalleryPanel.imageUnreadable` tells the window, which marks it broken in the Images list.
An image whose picture the window holds already (``held``: its picture cache, asked without
decoding) has its thumbnails cut from that picture at once, on the GUI thread: no second decode.

Thumbnails are cut and drawn at the screen's resolution (:mod:`.thumbnail_drawing`: 144 pixels at
200 % scaling, 72 at 100 %); the panel cuts them again when the window moves to a screen of another
scaling.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import partial

from PyQt6.QtCore import QEvent, QObject, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QIcon, QImage
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bloodview.core.annotation import Dataset
from bloodview.core.instance import Instance
from bloodview.gui.panels.thumbnail_drawing import (
    THUMB,
    caption,
    crop_square,
    cut_thumbnail,
    draw_thumbnail,
    thumb_pixels,
)
from bloodview.gui.qt_image import numpy_to_qimage
from bloodview.gui.review import (
    UNIDENTIFIED,
    display_name,
    is_checked,
    is_unidentified,
    reading_order,
    shown_score,
    was_text,
)
from bloodview.gui.workers.thumbnails import Decode, ThumbnailBatch, ThumbnailLoader, ThumbnailRequest

MAX_CELLS = 400  # thumbnails shown in "All images" scope (a note says when there are more)
ALL = "__all__"
INDEX_ROLE = Qt.ItemDataRole.UserRole + 1
KEPT = 2 * MAX_CELLS  # thumbnails (and crops) kept in memory: ~20 KB each, so about 30 MB in all (x4 at 200 %)

Picture = Callable[[int], QImage | None]  # image index -> its pixels (None: unreadable)


class GalleryPanel(QWidget):
    selectionChangedIds = pyqtSignal(list)  # selected cell ids of the current image
    cellActivated = pyqtSignal(int, str)  # image index, cell id (a plain click)
    imageUnreadable = pyqtSignal(int, str)  # image index, why (one sentence naming the file)

    def __init__(self, parent: QWidget | None = None, decode: Decode | None = None):
        """``decode`` reads an image file for the thumbnails of images not on screen (default: the
        project's loader); it runs on a pool thread."""
        super().__init__(parent)
        self.filter = QComboBox()
        self.filter.setObjectName("galleryFilter")
        self.filter.setAccessibleName("Gallery class")
        self.filter.setToolTip("Show the cells of this class")
        self.scope = QComboBox()
        self.scope.addItems(("This image", "All images"))
        self.scope.setAccessibleName("Gallery scope")
        self.scope.setToolTip("Cells of this image or of all images")
        self.note = QLabel()
        self.note.hide()
        self.list = QListWidget()
        self.list.setObjectName("gallery")
        self.list.setAccessibleName("Cell gallery")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setSpacing(4)
        self.list.setUniformItemSizes(False)
        self.list.setGridSize(QSize(THUMB + 24, THUMB + 36))  # two caption lines: class, score
        self.list.setWordWrap(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.scope)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.list)
        self._dataset = Dataset()
        self._current = -1
        self._picture: Picture = lambda _index: None
        self._held: Picture = lambda _index: None
        self._threshold = 0.75
        self._thumbs: OrderedDict[tuple, QIcon] = OrderedDict()  # the most recent KEPT
        self._crops: OrderedDict[tuple, QImage] = OrderedDict()  # THUMB-sized pixels, by _crop_key
        self._unreadable: dict[int, str] = {}  # image index -> why it could not be read
        self._frames: dict[tuple, QIcon] = {}  # thumbnails without their picture, until in view
        self._pending: dict[int, list[tuple[QListWidgetItem, Instance, bool]]] = {}  # by image index
        self._pixels = thumb_pixels(self.list.devicePixelRatioF())  # a thumbnail's side in device pixels
        self._loader = ThumbnailLoader(self._pixels, decode, parent=self)
        self._loader.ready.connect(self._thumbnails_ready)
        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.setInterval(0)
        self._draw_timer.timeout.connect(self._draw_pending)
        self.list.verticalScrollBar().valueChanged.connect(lambda _v: self._draw_timer.start())
        self.list.viewport().installEventFilter(self)
        self.filter.currentIndexChanged.connect(lambda _i: self._rebuild())
        self.scope.currentIndexChanged.connect(lambda _i: self._rebuild())
        self.list.itemSelectionChanged.connect(self._emit_selection)
        self.list.itemClicked.connect(self._clicked)

    # --- settings ----------------------------------------------------------------------
    def set_classes(self, classes) -> None:
        current = self.filter.currentData()
        self.filter.blockSignals(True)
        self.filter.clear()
        self.filter.addItem("All cells", ALL)
        self.filter.addItem("Unidentified", UNIDENTIFIED)
        for cls in classes:
            self.filter.addItem(cls.display_name, cls.name)
        self.filter.setCurrentIndex(max(self.filter.findData(current), 0))
        self.filter.blockSignals(False)

    def set_filter(self, name: str) -> None:
        self.filter.setCurrentIndex(max(self.filter.findData(name), 0))

    @property
    def all_images(self) -> bool:
        return self.scope.currentIndex() == 1

    def set_all_images(self, value: bool) -> None:
        self.scope.setCurrentIndex(1 if value else 0)

    def show_cells(self, dataset: Dataset, current: int, picture: Picture, threshold: float,
                   held: Picture | None = None) -> None:
        """Show the cells of ``dataset`` (image ``current`` in this-image scope).

        ``picture`` gives the pixels of the image on screen; ``held`` those of any image the caller
        has decoded already and None for the rest, without ever decoding (the window's picture
        cache: its memory budget is the canvas's, so the gallery must not fill it)."""
        if dataset is not self._dataset:
            self._thumbs.clear()
            self._crops.clear()
            self._unreadable.clear()
            self._loader.cancel()  # decodes of the old images would land on the new ones' indices
        self._dataset, self._current, self._picture, self._threshold = dataset, current, picture, threshold
        self._held = held or (lambda _index: None)
        self._follow_screen()
        self._rebuild()

    def forget_pictures(self, image_index: int | None = None) -> None:
        """Drop cached thumbnails (of one image), e.g. when its pixels could not be read or the
        images' indices moved; decodes under way are dropped too and asked for again."""
        for cache in (self._thumbs, self._crops):
            for key in [k for k in cache if image_index is None or k[0] == image_index]:
                del cache[key]
        if image_index is None:
            self._unreadable.clear()
        else:
            self._unreadable.pop(image_index, None)
        self._frames.clear()
        self._loader.cancel()
        self._draw_timer.start()

    def _follow_screen(self) -> bool:
        """Cut thumbnails at the device pixel ratio of the screen the list is on now (the window
        moved to a screen of another scaling); True when it changed and the cached ones were dropped."""
        pixels = thumb_pixels(self.list.devicePixelRatioF())
        if pixels == self._pixels:
            return False
        self._pixels = self._loader.size = pixels
        self._thumbs.clear()
        self._crops.clear()
        self._frames.clear()
        self._loader.cancel()  # crops under way have the old size
        return True

    # --- content ----------------------------------------------------------------------------
    def _cells(self) -> Iterator[tuple[int, Instance]]:
        images = self._dataset.images
        indices = range(len(images)) if self.all_images else \
            ([self._current] if 0 <= self._current < len(images) else [])
        wanted = self.filter.currentData() or ALL
        for index in indices:
            for cell in reading_order(images[index].instances):
                unidentified = is_unidentified(cell, self._threshold)
                if wanted == UNIDENTIFIED and not unidentified:
                    continue
                if wanted not in (ALL, UNIDENTIFIED) and cell.class_name != wanted:
                    continue
                yield index, cell

    def _rebuild(self) -> None:
        selected = set(self.selected_cells())
        self.list.blockSignals(True)
        self.list.clear()
        self._pending.clear()
        shown = total = 0
        for index, cell in self._cells():
            total += 1
            if shown >= MAX_CELLS:
                continue
            shown += 1
            self.list.addItem(self._item(index, cell))
            self.list.item(self.list.count() - 1).setSelected((index, cell.id) in selected)
        self.list.blockSignals(False)
        self.note.setVisible(total > shown)
        self.note.setText(f"Showing the first {shown} of {total} cells; pick a class to see the rest.")
        if self._pending:
            self._draw_timer.start()

    def _item(self, index: int, cell: Instance) -> QListWidgetItem:
        classes = self._dataset.classes
        name = classes[cell.class_name].display_name if cell.class_name in classes else cell.class_name
        shown = shown_score(cell)  # none once a person changed the class: the score was for the old one
        was = was_text(cell, partial(display_name, classes))
        score = f" ({was})" if was else ("" if shown is None else f" {shown:.2f}")
        unidentified = is_unidentified(cell, self._threshold)
        thumbnail = self._ready_thumbnail(index, cell, unidentified)
        if thumbnail is None and index == self._current:  # its picture is the one on screen
            thumbnail = self._on_screen_thumbnail(index, cell, unidentified)
        if thumbnail is None:
            item = QListWidgetItem(self._frame(index, cell, unidentified), caption(name, shown))
            self._pending.setdefault(index, []).append((item, cell, unidentified))
        else:
            item = QListWidgetItem(thumbnail, caption(name, shown))
        item.setData(Qt.ItemDataRole.UserRole, cell.id)
        item.setData(INDEX_ROLE, index)
        where = f" · image {index + 1} ({self._dataset.images[index].image_path.name})" if self.all_images else ""
        item.setToolTip(f"{name}{score}{' · checked' if is_checked(cell) else ''}{where}"
                        + _unreadable_text(self._unreadable.get(index)))
        return item

    def _frame(self, index: int, cell: Instance, unidentified: bool) -> QIcon:
        """The thumbnail without its picture, shown until it is scrolled into view."""
        key = _thumb_key(index, cell, unidentified)
        frame = self._frames.get(key)
        if frame is None:
            if len(self._frames) > 4 * MAX_CELLS:
                self._frames.clear()
            frame = self._frames[key] = self._draw(cell, unidentified, None)
        return frame

    def _ready_thumbnail(self, index: int, cell: Instance, unidentified: bool) -> QIcon | None:
        """The thumbnail if it can be drawn without decoding (cached, its crop cut, or its image
        known unreadable); None when its image must be decoded first."""
        key = _thumb_key(index, cell, unidentified)
        icon = self._thumbs.get(key)
        if icon is None:
            crop = self._crops.get(_crop_key(index, cell))
            if crop is None and index not in self._unreadable:
                return None
            icon = self._draw(cell, unidentified, crop, self._unreadable.get(index))
            _remember(self._thumbs, key, icon)
        self._thumbs.move_to_end(key)
        return icon

    def _on_screen_thumbnail(self, index: int, cell: Instance, unidentified: bool) -> QIcon:
        """Cut from the picture on screen (already decoded: the window's picture cache holds it)."""
        picture, crop = self._picture(index), None
        if picture is None or picture.isNull():
            self._unreadable[index] = "the image cannot be read"
        else:
            crop = cut_thumbnail(picture, cell, self._pixels)
            _remember(self._crops, _crop_key(index, cell), crop)
        icon = self._draw(cell, unidentified, crop, self._unreadable.get(index))
        _remember(self._thumbs, _thumb_key(index, cell, unidentified), icon)
        return icon

    def _draw_pending(self) -> None:
        """Ask for the thumbnails in view, top first: each image decoded once, on a pool thread."""
        if not self._pending or not self.list.isVisible():
            self._loader.want([])  # nothing in view: nothing is worth decoding now
            return
        view = self.list.viewport().rect()
        wanted: list[tuple[tuple[int, int], ThumbnailRequest]] = []  # (where in view, request)
        for index in list(self._pending):
            rects = [self.list.visualItemRect(item) for item, _cell, _u in self._pending[index]]
            shown = [(r.top(), r.left()) for r in rects if r.intersects(view)]
            if shown and not self._draw_ready(index) and not self._draw_from_held(index):
                squares = tuple((_crop_key(index, cell), crop_square(cell.bbox))
                                for _item, cell, _u in self._pending[index])
                path = self._dataset.resolve_image(self._dataset.images[index])
                wanted.append((min(shown), ThumbnailRequest(index, path, squares)))
        self._loader.want([request for _where, request in sorted(wanted, key=lambda w: w[0])])

    def _draw_ready(self, index: int) -> bool:
        """Draw image ``index``'s waiting thumbnails that need no decoding; True when none is left."""
        waiting = []
        for item, cell, unidentified in self._pending.pop(index, []):
            icon = self._ready_thumbnail(index, cell, unidentified)
            if icon is None:
                waiting.append((item, cell, unidentified))
            else:
                item.setIcon(icon)
        if waiting:
            self._pending[index] = waiting
        return not waiting

    def _draw_from_held(self, index: int) -> bool:
        """Cut image ``index``'s waiting thumbnails from its picture when the window holds it
        decoded already (a few ms on the GUI thread, instead of a second decode on the pool);
        True when all are drawn."""
        picture = self._held(index)
        if picture is None or picture.isNull():
            return False
        for _item, cell, _unidentified in self._pending.get(index, []):
            _remember(self._crops, _crop_key(index, cell), cut_thumbnail(picture, cell, self._pixels))
        return self._draw_ready(index)

    def _thumbnails_ready(self, batch: ThumbnailBatch) -> None:
        """A decode finished (on the GUI thread now): draw that image's waiting thumbnails."""
        news = batch.error is not None and self._unreadable.get(batch.image_index) != batch.error
        if batch.error is not None:
            self._unreadable[batch.image_index] = batch.error
            for item, _cell, _u in self._pending.get(batch.image_index, []):
                item.setToolTip(item.toolTip() + _unreadable_text(batch.error))
        for key, rgb in batch.crops.items():
            if rgb.shape[0] == self._pixels:  # else cut for a screen the window has left
                _remember(self._crops, key, numpy_to_qimage(rgb))
        if batch.image_index in self._pending and not self._draw_ready(batch.image_index):
            self._draw_timer.start()  # cells listed since it was asked for (another filter): again
        if news:  # last: the window's answer (marking it broken) may rebuild this list
            self.imageUnreadable.emit(batch.image_index, batch.error)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        gallery, timer, loader = (self.__dict__.get(name) for name in ("list", "_draw_timer", "_loader"))
        if gallery is None or timer is None or loader is None:  # a torn-down window: its viewport outlived this
            return False
        if watched is gallery.viewport() and event.type() == QEvent.Type.DevicePixelRatioChange:
            if self._follow_screen():  # moved to a screen of another scaling: cut them again
                self._rebuild()
        elif watched is gallery.viewport() and event.type() in (QEvent.Type.Show, QEvent.Type.Resize):
            timer.start()  # the panel shown (its dock raised) or grown: more in view
        elif watched is gallery.viewport() and event.type() == QEvent.Type.Hide:
            loader.want([])  # another dock raised, or the window closed: nothing in view to decode
        return super().eventFilter(watched, event)

    def _draw(self, cell: Instance, unidentified: bool, crop: QImage | None, unreadable: str | None = None) -> QIcon:
        return draw_thumbnail(cell, self._dataset.classes, unidentified, crop, unreadable, self._pixels)

    # --- selection -----------------------------------------------------------------------------
    def selected_cells(self) -> list[tuple[int, str]]:
        """(image index, cell id) of every selected thumbnail."""
        return [(item.data(INDEX_ROLE), item.data(Qt.ItemDataRole.UserRole)) for item in self.list.selectedItems()]

    def selected_ids(self) -> list[str]:
        return [cell_id for index, cell_id in self.selected_cells() if index == self._current]

    def select_ids(self, ids) -> None:
        """Follow the canvas: select exactly these cells of the current image."""
        wanted = set(ids)
        self.list.blockSignals(True)
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setSelected(item.data(INDEX_ROLE) == self._current
                             and item.data(Qt.ItemDataRole.UserRole) in wanted)
        self.list.blockSignals(False)

    def shown_ids(self) -> list[str]:
        return [self.list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(self.list.count())]

    def _emit_selection(self) -> None:
        self.selectionChangedIds.emit(self.selected_ids())

    def _clicked(self, item: QListWidgetItem) -> None:
        if QApplication.keyboardModifiers() == Qt.KeyboardModifier.NoModifier:
            self.cellActivated.emit(item.data(INDEX_ROLE), item.data(Qt.ItemDataRole.UserRole))


def _thumb_key(index: int, cell: Instance, unidentified: bool) -> tuple:
    """What a thumbnail shows: the cell (its box), its class and its check marks."""
    return (index, cell.id, cell.class_name, is_checked(cell), unidentified, tuple(cell.bbox))


def _crop_key(index: int, cell: Instance) -> tuple:
    """What a thumbnail's pixels depend on: the image and the cell's box."""
    return (index, cell.id, tuple(cell.bbox))


def _unreadable_text(error: str | None) -> str:
    return "" if error is None else f" · cannot read: {error}"


def _remember(cache: OrderedDict, key: tuple, value) -> None:
    """Keep ``value`` as the most recent entry of ``cache``, dropping the oldest past :data:`KEPT`."""
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > KEPT:
        cache.popitem(last=False)
