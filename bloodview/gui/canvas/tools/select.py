"""Select, move and reshape cells.

Mouse (left button):
* click a cell: select it; Ctrl-click: add/remove it from the selection;
* Shift- or Ctrl-drag on empty image: rubber-band selection (cells fully inside);
* drag on empty image: pan; click on empty image: clear the selection;
* drag a handle of a selected cell: move that point; Alt-click a handle: remove it;
* double-click (or Ctrl-click) an edge of a selected cell: insert a point there;
  dragging an edge inserts a point and drags it;
* drag inside a cell: move the whole cell; double-click a cell: ``instanceActivated``.
Keys: Delete/Backspace removes the point under the mouse, else the selected cells;
Esc clears the selection.

A drag pushes one merged :class:`ReplaceInstanceCommand` per mouse move (one undo
step per drag); on release a self-intersecting outline is repaired, or the drag is
undone with a message when no area would be left.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import QPoint, QPointF, QRect, QSize, Qt
from PyQt6.QtGui import QKeyEvent, QMouseEvent
from PyQt6.QtWidgets import QApplication, QRubberBand

from bloodview.core.instance import Instance
from bloodview.errors import GeometryError
from bloodview.gui.canvas import editing
from bloodview.gui.canvas.tools.base import Tool
from bloodview.gui.commands import RemoveInstancesCommand, ReplaceInstanceCommand

_drag_serial = itertools.count(1)

HINT_IDLE = "Click a cell to select it · Ctrl-click: add to selection · Shift-drag: select an area · drag: pan"
HINT_CELL = "Drag: move the cell · Double-click: open · Ctrl-click: add to selection"
HINT_VERTEX = "Drag: move point · Alt-click/Delete: remove point"
HINT_EDGE = "Double-click edge: insert point · Alt-click/Delete: remove point"


def _threshold(kind: str) -> int:
    """Screen pixels the mouse must travel before a press becomes a drag."""
    if kind == "move":  # moving a whole cell by accident is the costly mistake
        return QApplication.startDragDistance()
    return 3


@dataclass
class _Drag:
    kind: str  # "vertex", "edge" (may become "vertex"), "move", "rubber", "pan"
    instance_id: str | None = None
    part: int = 0
    index: int = 0
    original: Instance | None = None
    start: QPointF | None = None
    screen_start: QPoint | None = None
    last_screen: QPoint | None = None
    key: tuple | None = None
    moved: bool = False
    additive: bool = False


class SelectTool(Tool):
    name = "select"
    hint = HINT_IDLE

    def __init__(self, view):
        super().__init__(view)
        self._drag: _Drag | None = None
        self._hot: tuple[str, int, int] | None = None  # hovered vertex (id, part, index)
        self._mouse: QPointF | None = None  # last mouse position (image pixels), to re-find the hot vertex
        self._rubber: QRubberBand | None = None
        self._edge_foot: tuple[float, float] = (0.0, 0.0)

    # --- hit tests --------------------------------------------------------------
    def _selected_near(self, pos: QPointF, tolerance: float) -> list[Instance]:
        """Selected, visible cells whose box is within ``tolerance`` of ``pos``, in selection order.

        The box test first (each item keeps its cell's box): with a whole camera field selected
        (Ctrl+A, 2,000 cells) looking for a handle in every outline took ~20 ms per mouse move.
        """
        x, y = pos.x(), pos.y()
        out = []
        for instance_id in self.view.selected_ids():
            item = self.view.instance_item(instance_id)
            if item is None or not item.isVisible():
                continue
            x1, y1, x2, y2 = item.bbox
            if x1 - tolerance <= x <= x2 + tolerance and y1 - tolerance <= y <= y2 + tolerance:
                out.append(item.instance)
        return out

    def _vertex_at(self, pos: QPointF) -> tuple[str, int, int] | None:
        tolerance = self.hit_tolerance()
        for instance in self._selected_near(pos, tolerance):
            hit = editing.nearest_vertex(instance.polygons, (pos.x(), pos.y()), tolerance)
            if hit is not None:
                return instance.id, hit[0], hit[1]
        return None

    def _edge_at(self, pos: QPointF) -> tuple[str, int, int, tuple[float, float]] | None:
        tolerance = self.hit_tolerance()
        for instance in self._selected_near(pos, tolerance):
            hit = editing.nearest_edge(instance.polygons, (pos.x(), pos.y()), tolerance)
            if hit is not None:
                return (instance.id, *hit)
        return None

    def _set_hot(self, hot: tuple[str, int, int] | None) -> None:
        if hot == self._hot:
            return
        if self._hot is not None:
            item = self.view.instance_item(self._hot[0])
            if item is not None:
                item.set_hot_vertex(None)
        self._hot = hot
        if hot is not None:
            item = self.view.instance_item(hot[0])
            if item is not None:
                item.set_hot_vertex((hot[1], hot[2]))

    # --- edits ------------------------------------------------------------------
    def _push_geometry(self, instance: Instance, polygons: list[np.ndarray], text: str, key=None) -> None:
        annotation = self.view.annotation
        if annotation is None or annotation.find(instance.id) is None:
            return
        self.view.push(ReplaceInstanceCommand(annotation, instance.copy(polygons=polygons), text, merge_key=key))

    def _insert_vertex(self, instance_id: str, part: int, index: int, xy: tuple[float, float], key=None) -> None:
        instance = self.view.annotation.find(instance_id)
        polygons = editing.insert_vertex(instance.polygons, part, index, xy)
        self._push_geometry(instance, polygons, "Insert point", key)
        self._set_hot((instance_id, part, index))

    def _delete_vertex(self, instance_id: str, part: int, index: int) -> None:
        instance = self.view.annotation.find(instance_id)
        try:
            polygons = editing.delete_vertex(instance.polygons, part, index)
            polygons, _ = editing.repaired(polygons)
        except GeometryError as error:
            self.view.notify(f"Point not removed: {error}")
            return
        self._set_hot(None)
        self._push_geometry(instance, polygons, "Remove point")

    def _finish_geometry_drag(self, drag: _Drag) -> None:
        """Repair what the drag left, or put the original back, inside the same undo step."""
        annotation = self.view.annotation
        current = annotation.find(drag.instance_id) if annotation is not None else None
        if current is None or not drag.moved:
            return
        try:
            polygons, changed = editing.repaired(current.polygons)
        except GeometryError:
            self._push_geometry(current, drag.original.polygons, "Edit outline", drag.key)
            self.view.notify("Change refused: the outline would enclose no area")
            return
        if changed:
            self._set_hot(None)
            self._push_geometry(current, polygons, "Edit outline", drag.key)
            if len(polygons) < len(current.polygons):
                self.view.show_status(f"Parts of the cell overlapped and were joined ({len(polygons)} part(s) now)")
            else:
                self.view.show_status(f"The outline crossed itself and was repaired ({len(polygons)} part(s))")

    # --- mouse ------------------------------------------------------------------
    def mouse_press(self, event: QMouseEvent, pos: QPointF) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self.view.annotation is None:
            return False
        mods = event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        alt = bool(mods & Qt.KeyboardModifier.AltModifier)
        screen = event.position().toPoint()
        vertex = self._vertex_at(pos)
        if vertex is not None:
            if alt:
                self._delete_vertex(*vertex)
                return True
            instance = self.view.annotation.find(vertex[0])
            self._set_hot(vertex)
            self._drag = _Drag("vertex", vertex[0], vertex[1], vertex[2], instance, pos, screen,
                               key=("vertex", next(_drag_serial)))
            return True
        edge = self._edge_at(pos) if not shift else None
        if edge is not None:
            if ctrl:
                self._insert_vertex(*edge)
                return True
            # Pressed on an outline: a click keeps the selection (first half of a
            # double-click), a drag inserts a point there and drags it (one undo step).
            self._drag = _Drag("edge", edge[0], edge[1], edge[2], self.view.annotation.find(edge[0]), pos, screen,
                               key=("vertex", next(_drag_serial)))
            self._edge_foot = edge[3]
            return True
        instance_id = self.view.instance_at(pos)
        if instance_id is not None and not shift:
            selected = self.view.selected_ids()
            if ctrl:
                if instance_id in selected:
                    self.view.set_selection([i for i in selected if i != instance_id])
                else:
                    self.view.set_selection(selected + [instance_id])
                return True
            if instance_id not in selected:
                self.view.set_selection([instance_id])
            instance = self.view.annotation.find(instance_id)
            self._drag = _Drag("move", instance_id, original=instance, start=pos, screen_start=screen,
                               key=("move", next(_drag_serial)))
            return True
        if shift or ctrl:
            self._drag = _Drag("rubber", screen_start=screen, additive=True)
            if self._rubber is None:
                self._rubber = QRubberBand(QRubberBand.Shape.Rectangle, self.view.viewport())
            self._rubber.setGeometry(QRect(screen, QSize()))
            self._rubber.show()
            return True
        self._drag = _Drag("pan", screen_start=screen, last_screen=screen)
        return True

    def mouse_move(self, event: QMouseEvent, pos: QPointF) -> bool:
        drag = self._drag
        if drag is None:
            self._hover(pos)
            return False
        screen = event.position().toPoint()
        if not drag.moved and (screen - drag.screen_start).manhattanLength() < _threshold(drag.kind):
            return True  # a click's jitter is not a drag
        drag.moved = True
        annotation = self.view.annotation
        if drag.kind == "edge":
            self._insert_vertex(drag.instance_id, drag.part, drag.index, self._edge_foot, drag.key)
            drag.kind = "vertex"
        if drag.kind == "vertex":
            xy = editing.clamp_point((pos.x(), pos.y()), *self.view.image_size())
            current = annotation.find(drag.instance_id)
            if current is not None:
                polygons = editing.move_vertex(current.polygons, drag.part, drag.index, xy)
                self._push_geometry(current, polygons, "Move point", drag.key)
        elif drag.kind == "move":
            dx, dy = editing.clamp_shift(
                drag.original.bbox, pos.x() - drag.start.x(), pos.y() - drag.start.y(),
                *self.view.image_size(),
            )
            current = annotation.find(drag.instance_id)
            if current is not None:
                polygons = editing.translate_polygons(drag.original.polygons, dx, dy)
                self._push_geometry(current, polygons, "Move cell", drag.key)
        elif drag.kind == "rubber":
            self._rubber.setGeometry(QRect(drag.screen_start, screen).normalized())
        elif drag.kind == "pan":
            delta = screen - drag.last_screen
            drag.last_screen = screen
            self.view.pan_by(delta.x(), delta.y())
        return True

    def mouse_release(self, event: QMouseEvent, pos: QPointF) -> bool:
        drag, self._drag = self._drag, None
        if drag is None or event.button() != Qt.MouseButton.LeftButton:
            return False
        if drag.kind in ("vertex", "move"):
            self._finish_geometry_drag(drag)
        elif drag.kind == "rubber":
            self._rubber.hide()
            rect = QRect(drag.screen_start, event.position().toPoint()).normalized()
            inside = self.view.instances_in_rect(self.view.mapToScene(rect).boundingRect())
            selected = self.view.selected_ids()
            self.view.set_selection(selected + [i for i in inside if i not in selected])
        elif drag.kind == "pan" and not drag.moved:
            self.view.set_selection([])
        self._hover(pos)
        return True

    def mouse_double_click(self, event: QMouseEvent, pos: QPointF) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self.view.annotation is None:
            return False
        self._drag = None
        if self._vertex_at(pos) is None:
            edge = self._edge_at(pos)
            if edge is not None:
                self._insert_vertex(*edge)
                return True
        instance_id = self.view.instance_at(pos)
        if instance_id is not None:
            self.view.instanceActivated.emit(instance_id)
            return True
        return False

    def _hover(self, pos: QPointF) -> None:
        self._mouse = QPointF(pos)
        vertex = self._vertex_at(pos)
        self._set_hot(vertex)
        if vertex is not None:
            self.view.show_status(HINT_VERTEX)
            self.view.viewport().setCursor(Qt.CursorShape.SizeAllCursor)
        elif self._edge_at(pos) is not None:
            self.view.show_status(HINT_EDGE)
            self.view.viewport().setCursor(Qt.CursorShape.CrossCursor)
        elif self.view.instance_at(pos) is not None:
            self.view.show_status(HINT_CELL)
            self.view.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.view.show_status(HINT_IDLE)
            self.view.viewport().setCursor(Qt.CursorShape.ArrowCursor)

    # --- keys -----------------------------------------------------------------------
    def key_press(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            if self._hot is not None:
                self._delete_vertex(*self._hot)
                return True
            selected = self.view.selected_ids()
            if selected and self.view.annotation is not None:
                self.view.push(RemoveInstancesCommand(self.view.annotation, selected))
                return True
            return False
        if key == Qt.Key.Key_Escape and self.view.selected_ids():
            self.view.set_selection([])
            return True
        return False

    def wants_key(self, event: QKeyEvent) -> bool:
        """Delete/Backspace over a handle, and Esc while cells are selected: Esc clears the
        selection before the window's Esc cancels a running detection (a technician reviewing
        during Detect all otherwise cancelled the run when dropping a selection)."""
        if event.key() == Qt.Key.Key_Escape:
            return bool(self.view.selected_ids())
        return self._hot is not None and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)

    def leave(self) -> None:
        self._mouse = None
        self._set_hot(None)

    def deactivate(self) -> None:
        self._drag = None
        self._set_hot(None)
        if self._rubber is not None:
            self._rubber.hide()

    def annotation_changed(self, kind, payload) -> None:
        """The cells changed under a still mouse (undo, redo, an edit from a panel): the
        remembered handle ``(cell, part, index)`` may now name another point, or none, so find
        the one under the mouse again (Delete must remove the point the person points at)."""
        if self._hot is None or self._drag is not None:
            return
        if self.view.instance_item(self._hot[0]) is None:
            self._hot = None
        else:
            self._set_hot(self._vertex_at(self._mouse) if self._mouse is not None else None)
