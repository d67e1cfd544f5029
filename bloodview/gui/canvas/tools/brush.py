"""Brush and eraser: paint onto or erase from a cell with a round brush, one undo step per stroke.

The stroke is shown as an overlay while the button is held; on release the swept area is
united with (brush) or cut out of (eraser) the cell's outline as exact geometry
(:func:`bloodview.gui.canvas.strokes.stroke_outline`): the points of the cell away from the
stroke stay where they were, parts it does not touch stay as they were, and a stroke that
changes nothing (it missed the cell, or painted only inside it) leaves no undo step. The result
replaces the cell in ONE :class:`ReplaceInstanceCommand`.

Which cell: the selected one (when exactly one is selected), else the cell under
the mouse at the start of the stroke. A brush stroke on empty image starts a new
cell of the active class. ``[`` and ``]`` change the radius (image pixels).
Holes are not kept (outlines are outer boundaries only).
"""

from __future__ import annotations

import math

import numpy as np
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QKeyEvent, QMouseEvent

from bloodview.core.instance import Instance, Source
from bloodview.gui.canvas.overlays import BrushCursorItem, StrokeItem
from bloodview.gui.canvas.strokes import apply_stroke, stroke_outline  # noqa: F401 - apply_stroke: public here too
from bloodview.gui.canvas.tools.base import Tool
from bloodview.gui.commands import AddInstanceCommand, ReplaceInstanceCommand

MIN_RADIUS = 1.0
MAX_RADIUS = 200.0
RADIUS_STEP = 1.25


def paint_stroke(mask: np.ndarray, points: np.ndarray, radius: float, value: bool) -> None:
    """Set pixels of ``mask`` whose centre is within ``radius`` of the polyline ``points``.

    ``points`` is ``(K, 2)`` ``(x, y)`` in the mask's pixel coordinates (pixel centres at
    ``+0.5``); one point paints a disc. Changes ``mask`` in place. For mask editing; the tool
    itself changes outlines as geometry (:func:`apply_stroke`), never through a mask.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(points) == 1:
        points = np.vstack([points, points])
    height, width = mask.shape
    for a, b in zip(points[:-1], points[1:]):
        x1 = max(int(math.floor(min(a[0], b[0]) - radius)), 0)
        x2 = min(int(math.ceil(max(a[0], b[0]) + radius)), width)
        y1 = max(int(math.floor(min(a[1], b[1]) - radius)), 0)
        y2 = min(int(math.ceil(max(a[1], b[1]) + radius)), height)
        if x2 <= x1 or y2 <= y1:
            continue
        xs = np.arange(x1, x2) + 0.5
        ys = np.arange(y1, y2) + 0.5
        px, py = np.meshgrid(xs, ys)
        ab = b - a
        length2 = float(ab @ ab)
        if length2 > 0:
            t = np.clip(((px - a[0]) * ab[0] + (py - a[1]) * ab[1]) / length2, 0.0, 1.0)
        else:
            t = np.zeros_like(px)
        dx = px - (a[0] + t * ab[0])
        dy = py - (a[1] + t * ab[1])
        inside = dx * dx + dy * dy <= radius * radius
        mask[y1:y2, x1:x2][inside] = value


class BrushTool(Tool):
    """``erase=False``: the brush; ``erase=True``: the eraser."""

    cursor = Qt.CursorShape.BlankCursor

    def __init__(self, view, erase: bool = False):
        super().__init__(view)
        self.erase = erase
        self.name = "eraser" if erase else "brush"
        self.radius = 8.0
        self._target: str | None = None
        self._points: list[QPointF] = []
        self._stroke: StrokeItem | None = None
        self._cursor_item: BrushCursorItem | None = None

    @property
    def hint(self) -> str:  # type: ignore[override]
        verb = "erase from" if self.erase else "paint onto"
        return f"Drag to {verb} the selected cell · [ ] brush size ({self.radius:.0f} px) · Esc: cancel stroke"

    def activate(self) -> None:
        super().activate()
        if self._cursor_item is None or self._cursor_item.scene() is None:
            self._cursor_item = BrushCursorItem(self.view.style)
            self.view.scene().addItem(self._cursor_item)
            self._cursor_item.setVisible(False)
        self._cursor_item.set_radius(self.radius, self.erase)

    def deactivate(self) -> None:
        self._end_stroke()
        if self._cursor_item is not None and self._cursor_item.scene() is not None:
            self._cursor_item.scene().removeItem(self._cursor_item)
        self._cursor_item = None

    def set_radius(self, radius: float) -> None:
        self.radius = float(min(max(radius, MIN_RADIUS), MAX_RADIUS))
        if self._cursor_item is not None:
            self._cursor_item.set_radius(self.radius, self.erase)
        self.view.show_status(self.hint)

    def _move_cursor(self, pos: QPointF) -> None:
        if self._cursor_item is None or self._cursor_item.scene() is None:
            self.activate()
        self._cursor_item.setPos(pos)
        self._cursor_item.setVisible(True)

    def _pick_target(self, pos: QPointF) -> str | None:
        selected = [i for i in self.view.selected_ids() if self.view.instance_item(i) is not None]
        if len(selected) == 1:
            return selected[0]
        under = self.view.instance_at(pos)
        if under is not None:
            self.view.set_selection([under])
        return under

    def mouse_press(self, event: QMouseEvent, pos: QPointF) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self.view.annotation is None:
            return False
        if self.view.refuse_if_locked():  # say so before a stroke, not after it
            return True
        self._target = self._pick_target(pos)
        if self._target is None and self.erase:
            self.view.notify("Select a cell first: the eraser removes parts of the selected cell")
            return True
        self._points = [pos]
        color = self.view.style.class_color(self._target_class())
        self._stroke = StrokeItem(color, self.erase)
        self.view.scene().addItem(self._stroke)
        self._stroke.set_stroke(self._points, self.radius)
        return True

    def _target_class(self) -> str:
        if self._target is not None:
            instance = self.view.annotation.find(self._target)
            if instance is not None:
                return instance.class_name
        return self.view.active_class

    def mouse_move(self, event: QMouseEvent, pos: QPointF) -> bool:
        self._move_cursor(pos)
        if self._stroke is None:
            return False
        last = self._points[-1]
        if math.hypot(pos.x() - last.x(), pos.y() - last.y()) >= max(0.25 * self.radius, 0.5):
            self._points.append(pos)
            self._stroke.set_stroke(self._points, self.radius)
        return True

    def mouse_release(self, event: QMouseEvent, pos: QPointF) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self._stroke is None:
            return False
        if pos != self._points[-1]:
            self._points.append(pos)
        self._commit()
        return True

    def _commit(self) -> None:
        annotation = self.view.annotation
        points = np.array([(p.x(), p.y()) for p in self._points], dtype=np.float64)
        target = annotation.find(self._target) if self._target is not None else None
        self._end_stroke()
        if self.erase and target is None:  # deleted (undo, a panel) while the button was held
            self.view.notify("Not erased: the cell is no longer there")
            return
        polygons = target.polygons if target is not None else []
        result = stroke_outline(polygons, points, self.radius, self.erase, *self.view.image_size())
        if result.outside:
            self.view.notify("Nothing changed: the stroke is outside the image")
            return
        if target is not None and not result.changed:
            self.view.notify(self._unchanged_message(result.hole_only))
            return
        if not result.polygons:
            if target is not None:
                self.view.notify("Not erased: nothing of the cell would be left (press Delete to remove it)")
            else:
                self.view.notify("Not painted: the stroke is too small for a cell (at least 4 square pixels)")
            return
        if target is None:
            instance = Instance(result.polygons, self.view.active_class, source=Source.HUMAN, reviewed=True)
            self.view.push(AddInstanceCommand(annotation, instance, f"Paint {instance.class_name}"))
            self.view.set_selection([instance.id])
        else:
            text = "Erase" if self.erase else "Brush"
            self.view.push(ReplaceInstanceCommand(annotation, target.copy(polygons=result.polygons), text))

    def _unchanged_message(self, hole_only: bool) -> str:
        if hole_only:
            return "Not erased: the stroke stays inside the cell, and outlines have no holes; erase from its edge"
        if self.erase:
            return "Nothing erased: the stroke does not touch the selected cell"
        return "Nothing painted: the stroke stays inside the selected cell"

    def _end_stroke(self) -> None:
        if self._stroke is not None and self._stroke.scene() is not None:
            self._stroke.scene().removeItem(self._stroke)
        self._stroke = None
        self._points = []

    def key_press(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key == Qt.Key.Key_BracketRight:
            self.set_radius(self.radius * RADIUS_STEP)
            return True
        if key == Qt.Key.Key_BracketLeft:
            self.set_radius(self.radius / RADIUS_STEP)
            return True
        if key == Qt.Key.Key_Escape and self._stroke is not None:
            self._end_stroke()
            self.view.show_status("Stroke cancelled")
            return True
        return False

    def wants_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        return key in (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight) or (
            key == Qt.Key.Key_Escape and self._stroke is not None
        )

    def leave(self) -> None:
        if self._cursor_item is not None:
            self._cursor_item.setVisible(False)
