"""Draw a new cell outline point by point.

Click: add a point (clamped to the image). Enter, a double-click or a click on the
first point: close the outline and add the cell with the active class. Backspace:
remove the last point. Esc: cancel. A self-intersecting outline is split into
valid parts (:func:`bloodview.core.geometry.repair_polygon`); one with no area is
refused with a message. The new cell is ``source=human``, ``reviewed=True``.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QKeyEvent, QMouseEvent

from bloodview.core.instance import Instance, Source
from bloodview.errors import GeometryError
from bloodview.gui.canvas import editing
from bloodview.gui.canvas.overlays import DraftItem
from bloodview.gui.canvas.tools.base import Tool
from bloodview.gui.commands import AddInstanceCommand

HINT = "Click to add points, Enter to close, Esc to cancel, Backspace: remove last point"


class DrawTool(Tool):
    name = "draw"
    hint = HINT
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, view):
        super().__init__(view)
        self._points: list[QPointF] = []
        self._mouse: QPointF | None = None
        self._draft: DraftItem | None = None

    @property
    def points(self) -> list[tuple[float, float]]:
        return [(p.x(), p.y()) for p in self._points]

    def _near_first(self, pos: QPointF) -> bool:
        if len(self._points) < 3:
            return False
        first = self._points[0]
        return np.hypot(first.x() - pos.x(), first.y() - pos.y()) <= self.hit_tolerance()

    def _refresh(self) -> None:
        if not self._points:
            if self._draft is not None and self._draft.scene() is not None:
                self._draft.scene().removeItem(self._draft)
            self._draft = None
            return
        if self._draft is None:
            color = self.view.style.class_color(self.view.active_class)
            self._draft = DraftItem(self.view.style, color)
            self.view.scene().addItem(self._draft)
        close_hot = self._mouse is not None and self._near_first(self._mouse)
        self._draft.set_state(self._points, self._mouse, close_hot)

    def _clamped(self, pos: QPointF) -> QPointF:
        x, y = editing.clamp_point((pos.x(), pos.y()), *self.view.image_size())
        return QPointF(x, y)

    def mouse_press(self, event: QMouseEvent, pos: QPointF) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self.view.annotation is None:
            return False
        if self.view.refuse_if_locked():  # say so at the first click, not after a whole outline
            return True
        if self._near_first(pos):
            self.finish()
            return True
        point = self._clamped(pos)
        if self._points and point == self._points[-1]:
            return True
        self._points.append(point)
        self._mouse = point
        self._refresh()
        self.view.show_status(f"{len(self._points)} point(s) · " + HINT)
        return True

    def mouse_move(self, event: QMouseEvent, pos: QPointF) -> bool:
        if self.view.annotation is None:
            return False
        self._mouse = self._clamped(pos)
        if self._points:
            self._refresh()
        return bool(self._points)

    def mouse_double_click(self, event: QMouseEvent, pos: QPointF) -> bool:
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        self.finish()
        return True

    def key_press(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._points:
            self.finish()
            return True
        if key == Qt.Key.Key_Escape and self._points:
            self.cancel()
            self.view.show_status("Drawing cancelled")
            return True
        if key == Qt.Key.Key_Backspace and self._points:
            self._points.pop()
            self._refresh()
            return True
        return False

    def wants_key(self, event: QKeyEvent) -> bool:
        keys = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape, Qt.Key.Key_Backspace)
        return bool(self._points) and event.key() in keys and not event.modifiers() & Qt.KeyboardModifier.ControlModifier

    def cancel(self) -> None:
        self._points = []
        self._refresh()

    def finish(self) -> Instance | None:
        """Close the outline and add the cell; returns it (``None`` when refused)."""
        annotation = self.view.annotation
        if annotation is None or not self._points:
            return None
        if len(self._points) < 3:
            self.view.notify("An outline needs at least 3 points; keep clicking or press Esc")
            return None
        polygon = np.array(self.points, dtype=np.float64)
        self.cancel()
        try:
            polygons, repaired = editing.repaired([polygon])
        except GeometryError:
            self.view.notify("Not added: the outline encloses no area")
            return None
        instance = Instance(polygons, self.view.active_class, source=Source.HUMAN, reviewed=True)
        self.view.push(AddInstanceCommand(annotation, instance, f"Draw {instance.class_name}"))
        self.view.set_selection([instance.id])
        if repaired:
            self.view.show_status(f"The outline crossed itself and was split into {len(polygons)} part(s)")
        else:
            self.view.show_status(f"Added {self.view.style.display_name(instance.class_name)} · " + HINT)
        return instance

    def deactivate(self) -> None:
        self.cancel()

    def zoom_changed(self) -> None:
        if self._draft is not None:
            self._refresh()
