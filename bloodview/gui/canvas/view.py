"""The image canvas: a ``QGraphicsView`` that draws one image's cells and edits them.

The core :class:`ImageAnnotation` is the single source of truth: the canvas
subscribes to it and keeps one :class:`InstanceItem` per cell in step with every
``instance_added/removed/changed`` and ``instances_reset`` notification, whoever
caused it. Edits are never made on items; tools push commands
(:mod:`bloodview.gui.commands`) on the image's ``QUndoStack``.

Embedding (the main window does this)::

    canvas = CanvasView()
    canvas.set_image(annotation, rgb_array_or_qimage, catalogue, undo_stack)
    canvas.selectionChanged.connect(panel.show_cells)
    canvas.set_tool("draw"); canvas.set_active_class("platelet")
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PyQt6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QPainter, QUndoCommand, QUndoStack
from PyQt6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QWidget

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance
from bloodview.errors import ImageError
from bloodview.gui.canvas.image_item import ImageItem
from bloodview.gui.canvas.items import InstanceItem
from bloodview.gui.canvas.labels import declutter
from bloodview.gui.canvas.input import InputMixin
from bloodview.gui.canvas.navigation import NavigationMixin
from bloodview.gui.canvas.overlays import OVERLAY_Z
from bloodview.gui.canvas.style import CanvasStyle
from bloodview.gui.canvas.toast import Toast
from bloodview.gui.canvas.tools import BrushTool, DrawTool, SelectTool, Tool
from bloodview.gui.qt_image import load_qimage, to_qimage
from bloodview.gui.sign_off import locked_message

log = logging.getLogger(__name__)

BACKGROUND = QColor(38, 40, 43)
SETTLE_MS = 150  # after the last pan/zoom step, redraw with antialiasing


class CanvasView(InputMixin, NavigationMixin, QGraphicsView):
    """Shows an image with its cells; select, reshape, draw, paint and erase them."""

    selectionChanged = pyqtSignal(list)
    instanceActivated = pyqtSignal(str)
    statusMessage = pyqtSignal(str)
    zoomChanged = pyqtSignal(float)
    contextMenuRequested = pyqtSignal(list, QPoint)  # selected ids, global position (right click)

    TOOL_NAMES = ("select", "draw", "brush", "eraser")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.style = CanvasStyle()
        self.annotation: ImageAnnotation | None = None
        self.undo_stack: QUndoStack = QUndoStack(self)
        self.active_class: str = self.style.classes.names[0]
        self._items: dict[str, InstanceItem] = {}
        self._selected: list[str] = []
        self._hidden_classes: set[str] = set()
        self._unsubscribe = None
        # If the widget is deleted without clear(), stop listening (the annotation outlives it).
        self._subscription: list = [None]
        subscription = self._subscription
        self.destroyed.connect(lambda *_: subscription[0] and subscription[0]())
        self._image_rect = QRectF()
        self._image_item: ImageItem | None = None
        self._pan_button: Qt.MouseButton | None = None  # the button that is panning
        self._buttons_held = Qt.MouseButton.NoButton  # held on the canvas now (mouse_held)
        self._space_held = False
        self._last_status = ""
        self.toast = Toast(self)
        self._tools: dict[str, Tool] = {
            "select": SelectTool(self),
            "draw": DrawTool(self),
            "brush": BrushTool(self, erase=False),
            "eraser": BrushTool(self, erase=True),
        }
        self._tool: Tool = self._tools["select"]
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(SETTLE_MS)
        self._settle_timer.timeout.connect(self._settle)
        self._setup_view()

    def _setup_view(self) -> None:
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(BACKGROUND)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)

    # --- image and annotation ------------------------------------------------------
    def set_image(
        self,
        annotation: ImageAnnotation,
        image: QImage | np.ndarray | None,
        classes: ClassCatalogue,
        undo_stack: QUndoStack,
    ) -> None:
        """Show ``annotation`` over ``image`` (``None``: read ``annotation.image_path``).

        The canvas listens to ``annotation`` until :meth:`clear` or the next
        ``set_image``; edits go on ``undo_stack``.
        """
        self.clear()
        self.annotation = annotation
        self.undo_stack = undo_stack
        self.style.classes = classes
        if self.active_class not in classes and len(classes):
            self.active_class = classes.names[0]
        qimage = self._image_for(annotation, image)
        width = annotation.width if annotation.width > 0 else qimage.width()
        height = annotation.height if annotation.height > 0 else qimage.height()
        self._image_rect = QRectF(0, 0, width, height)
        if (qimage.width(), qimage.height()) != (width, height):
            log.warning("image %s is %dx%d but its annotation says %dx%d; stretching the picture",
                        annotation.image_path, qimage.width(), qimage.height(), width, height)
        self._image_item = ImageItem(qimage, width, height)
        self.scene().addItem(self._image_item)
        for instance in annotation.instances:
            self._add_item(instance)
        self._unsubscribe = annotation.subscribe(self._on_annotation_event)
        self._subscription[0] = self._unsubscribe
        self.fit()
        if self.style.labels_visible:
            self._declutter_labels()
        self._tool.activate()

    def _image_for(self, annotation: ImageAnnotation, image: QImage | np.ndarray | None) -> QImage:
        if image is not None:
            return to_qimage(image)
        try:
            return load_qimage(annotation.image_path)
        except ImageError as error:
            log.warning("%s", error)
            self.show_status(str(error))
            blank = QImage(max(annotation.width, 1), max(annotation.height, 1), QImage.Format.Format_RGB32)
            blank.fill(QColor(90, 90, 90))
            return blank

    def clear(self) -> None:
        """Forget the image: stop listening, drop every item, keep the settings."""
        self._tool.deactivate()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
            self._subscription[0] = None
        self.annotation = None
        self._items.clear()
        self.scene().clear()
        self._image_item = None
        self._image_rect = QRectF()
        if self._selected:
            self._selected = []
            self.selectionChanged.emit([])

    def _on_annotation_event(self, kind: str, payload: Any) -> None:
        if kind == "instance_added":
            self._add_item(payload)
        elif kind == "instance_removed":
            self._remove_item(payload.id)
        elif kind == "instance_changed":
            item = self._items.get(payload.id)
            if item is None:
                self._add_item(payload)
            else:
                item.set_instance(payload)
                self._apply_visibility(item)
                if not item.isVisible() and payload.id in self._selected:  # moved to a hidden class
                    self._set_selection([i for i in self._selected if i != payload.id])
        elif kind == "instances_reset":
            for instance_id in list(self._items):
                self._remove_item(instance_id, notify=False)
            for instance in self.annotation.instances:
                self._add_item(instance)
            self._set_selection([i for i in self._selected if i in self._items])
        self._tool.annotation_changed(kind, payload)
        if self.style.labels_visible:
            self._settle_timer.start()  # re-place labels once edits pause

    def _add_item(self, instance: Instance) -> None:
        item = InstanceItem(instance, self.style)
        self._items[instance.id] = item
        self.scene().addItem(item)
        self._apply_visibility(item)

    def _remove_item(self, instance_id: str, notify: bool = True) -> None:
        item = self._items.pop(instance_id, None)
        if item is not None:
            self.scene().removeItem(item)
        if notify and instance_id in self._selected:
            self._set_selection([i for i in self._selected if i != instance_id])

    def _apply_visibility(self, item: InstanceItem) -> None:
        visible = item.instance.class_name not in self._hidden_classes
        if item.isVisible() != visible:
            item.setVisible(visible)
        if item.is_selected() != (item.instance_id in self._selected):
            item.set_selected(item.instance_id in self._selected)

    # --- selection ------------------------------------------------------------------
    def select(self, ids: list[str]) -> None:
        """Select these cells (unknown ids are ignored); emits ``selectionChanged``."""
        self._set_selection(list(ids))

    def selected_ids(self) -> list[str]:
        return list(self._selected)

    def set_selection(self, ids: list[str]) -> None:
        """For tools: same as :meth:`select`."""
        self._set_selection(list(ids))

    def _set_selection(self, ids: list[str]) -> None:
        ids = [i for i in dict.fromkeys(ids) if i in self._items and self._items[i].isVisible()]
        if ids == self._selected:
            return
        for instance_id in set(self._selected) - set(ids):
            item = self._items.get(instance_id)
            if item is not None:
                item.set_selected(False)
        for instance_id in ids:
            self._items[instance_id].set_selected(True)
        self._selected = ids
        self.selectionChanged.emit(list(ids))

    # --- look-ups for tools ---------------------------------------------------------------
    def instance_item(self, instance_id: str) -> InstanceItem | None:
        return self._items.get(instance_id)

    def instance_at(self, pos: QPointF) -> str | None:
        """The visible cell under ``pos`` (scene coordinates); the smallest on top wins."""
        for item in self.scene().items(pos, Qt.ItemSelectionMode.IntersectsItemShape,
                                       Qt.SortOrder.DescendingOrder):
            if isinstance(item, InstanceItem) and item.isVisible():
                return item.instance_id
        return None

    def instances_in_rect(self, rect: QRectF) -> list[str]:
        """Visible cells whose outline lies entirely inside ``rect`` (scene coordinates)."""
        found = []
        for item in self.scene().items(rect, Qt.ItemSelectionMode.IntersectsItemBoundingRect):
            if isinstance(item, InstanceItem) and item.isVisible():
                x1, y1, x2, y2 = item.instance.bbox
                if rect.contains(QRectF(x1, y1, x2 - x1, y2 - y1)):
                    found.append(item.instance_id)
        return found

    def image_size(self) -> tuple[int, int]:
        """``(width, height)`` of the shown image in image pixels."""
        return int(self._image_rect.width()), int(self._image_rect.height())

    def push(self, command: QUndoCommand) -> None:
        """Edits go through the image's undo stack, which refuses them on a signed-off image
        (:class:`bloodview.gui.sign_off.ImageUndoStack`)."""
        self.undo_stack.push(command)

    def refuse_if_locked(self) -> bool:
        """True (and the reason shown) when the image is signed off: tools check this before
        starting an outline or a stroke; the undo stack refuses any edit that gets through."""
        if self.annotation is None or not self.annotation.signed_off:
            return False
        self.notify(locked_message(self.annotation))
        return True

    def show_status(self, message: str) -> None:
        if message != self._last_status:
            self._last_status = message
            self.statusMessage.emit(message)

    def notify(self, message: str) -> None:
        """A refusal or warning: in the status bar and, briefly, over the image (non-modal)."""
        self._last_status = message
        self.statusMessage.emit(message)
        self.toast.show_message(message)

    # --- display settings -------------------------------------------------------------
    def set_opacity(self, value: float) -> None:
        """Fill opacity of the cells, 0 (outlines only) .. 1."""
        self.style.opacity = float(min(max(value, 0.0), 1.0))
        self._restyle()

    def set_class_visible(self, class_name: str, visible: bool) -> None:
        if visible:
            self._hidden_classes.discard(class_name)
        else:
            self._hidden_classes.add(class_name)
        for item in self._items.values():
            if item.instance.class_name == class_name:
                self._apply_visibility(item)
        self._set_selection([i for i in self._selected if self._items[i].isVisible()])

    def is_class_visible(self, class_name: str) -> bool:
        return class_name not in self._hidden_classes

    def set_labels_visible(self, visible: bool) -> None:
        """Class name and score above every cell (otherwise only on hover and selection)."""
        self.style.labels_visible = bool(visible)
        self._restyle()
        if visible:
            self._declutter_labels()

    def set_min_score(self, value: float | None) -> None:
        """Cells scored below ``value`` are drawn as "unidentified" (dashed grey)."""
        self.style.min_score = None if value is None else float(value)
        self._restyle()

    def _restyle(self) -> None:
        for item in self._items.values():
            item.refresh_style()

    # --- navigation -------------------------------------------------------------------------
    def center_on(self, instance_id: str) -> None:
        item = self._items.get(instance_id)
        if item is not None:
            x1, y1, x2, y2 = item.instance.bbox
            self.center_on_rect(QRectF(x1, y1, x2 - x1, y2 - y1))

    def _moving(self) -> None:
        """A pan/zoom step: draw fast until the view has been still for SETTLE_MS."""
        self.style.moving = True
        self._settle_timer.start()

    def _settle(self) -> None:
        """The view is still (after a pan/zoom) or edits paused: outline margins for the zoom,
        labels placed again, and after a pan/zoom the whole view redrawn with antialiasing. After
        an edit only what changed is redrawn (each item updates itself): repainting all ~2,000
        cells of a camera field took 25 ms of each key."""
        moved = self.style.moving
        self.style.moving = False
        for item in self._items.values():  # outline margins for the new zoom (selected: done already)
            item.scale_changed()
        if self.style.labels_visible:
            self._declutter_labels()
        if moved:
            self.viewport().update()

    def _declutter_labels(self) -> None:
        classes = self.style.classes

        def priority(item: InstanceItem) -> tuple:
            name = item.instance.class_name
            white = name in classes and classes[name].white_cell
            return (not item.is_selected(), not white, -item.area)

        visible = sorted((i for i in self._items.values() if i.isVisible()), key=priority)
        declutter(visible, self.viewportTransform().map, QRectF(self.viewport().rect()))

    def _zoom_changed(self) -> None:
        self._moving()
        self.style.pixel = 1.0 / self._zoom
        for instance_id in self._selected:
            self._items[instance_id].scale_changed()
        self._tool.zoom_changed()
        self.zoomChanged.emit(self._zoom)

    def render_view(self) -> QImage:
        """What is on screen now, as an image (for "export PNG of the current view").

        The tools' temporary marks (brush circle, unfinished outline) are left out.
        """
        overlays = [i for i in self.scene().items() if i.zValue() >= OVERLAY_Z and i.isVisible()]
        for item in overlays:
            item.setVisible(False)
        try:
            return self.viewport().grab().toImage()
        finally:
            for item in overlays:
                item.setVisible(True)

    # --- tools ------------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        if name not in self._tools:
            raise ValueError(f"unknown canvas tool {name!r}; known: {', '.join(self.TOOL_NAMES)}")
        if self._tools[name] is self._tool:
            return
        self._tool.deactivate()
        self._tool = self._tools[name]
        self.viewport().setCursor(self._tool.cursor)
        self._tool.activate()

    def current_tool(self) -> str:
        return self._tool.name

    def tool(self, name: str | None = None) -> Tool:
        """The tool object (the current one by default), e.g. to set the brush radius."""
        return self._tool if name is None else self._tools[name]

    def set_active_class(self, class_name: str) -> None:
        """Class given to newly drawn or painted cells."""
        self.active_class = class_name

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.toast.place()
        if self._fitted:
            self.fit()
        else:
            self._update_scene_rect()
