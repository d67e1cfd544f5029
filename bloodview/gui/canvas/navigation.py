"""Zoom and pan for a ``QGraphicsView`` showing one image (mixin of :class:`CanvasView`).

Zoom is a uniform scale (1.0 = one image pixel per screen pixel) kept around a
point on screen: the image point under the cursor stays under the cursor.
"""

from __future__ import annotations

from PyQt6.QtCore import QPoint, QPointF, QRectF, Qt
from PyQt6.QtGui import QTransform

MIN_ZOOM = 0.02
MAX_ZOOM = 64.0
STEP = 1.25
FOCUS_MAX_ZOOM = 4.0  # centring on a cell never zooms in further than this ...
FOCUS_CONTEXT_PX = 150.0  # ... nor so far that less than this many image pixels show around it


class NavigationMixin:
    """Needs ``self`` to be a QGraphicsView with ``_image_rect``, ``_zoom_changed()``
    and ``_moving()`` (called on every pan step)."""

    _zoom = 1.0
    _fitted = False  # True while the view shows the fitted image (refit on resize)

    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        return self._zoom

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``zoom`` keeping the image point at viewport position ``anchor`` still."""
        zoom = min(max(float(zoom), MIN_ZOOM), MAX_ZOOM)
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        before = self.mapToScene(anchor.toPoint())
        self.setTransform(QTransform.fromScale(zoom, zoom))
        self._zoom = zoom
        self._update_scene_rect()
        self._fitted = False
        after = self.mapFromScene(before)
        delta = after - anchor.toPoint()
        self.pan_by(-delta.x(), -delta.y())
        self._zoom_changed()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self._zoom * factor, anchor)

    def _cursor_anchor(self) -> QPointF | None:
        pos = self.viewport().mapFromGlobal(self.cursor().pos())
        return QPointF(pos) if self.viewport().rect().contains(pos) else None

    def zoom_in(self) -> None:
        """One step in, around the mouse when it is over the canvas."""
        self.zoom_by(STEP, self._cursor_anchor())

    def zoom_out(self) -> None:
        self.zoom_by(1.0 / STEP, self._cursor_anchor())

    def fit(self) -> None:
        """Show the whole image, centred, with a small margin."""
        rect: QRectF = self._image_rect
        if rect.isEmpty():
            return
        view = self.viewport().rect()
        margin = 8
        zoom = min((view.width() - 2 * margin) / rect.width(), (view.height() - 2 * margin) / rect.height())
        self.setTransform(QTransform.fromScale(max(zoom, MIN_ZOOM), max(zoom, MIN_ZOOM)))
        self._zoom = max(min(zoom, MAX_ZOOM), MIN_ZOOM)
        self._update_scene_rect()
        self.centerOn(rect.center())
        self._fitted = True
        self._zoom_changed()

    def _update_scene_rect(self) -> None:
        """Let the image be panned until its edge reaches the middle of the window."""
        rect: QRectF = self._image_rect
        if rect.isEmpty():
            return
        mx = self.viewport().width() / 2.0 / self._zoom
        my = self.viewport().height() / 2.0 / self._zoom
        self.setSceneRect(rect.adjusted(-mx, -my, mx, my))

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the image by ``(dx, dy)`` screen pixels (positive: image moves right/down)."""
        h = self.horizontalScrollBar()
        v = self.verticalScrollBar()
        h.setValue(h.value() - int(round(dx)))
        v.setValue(v.value() - int(round(dy)))
        self._fitted = False
        self._moving()

    def center_on_rect(self, rect: QRectF, min_screen_px: float = 80.0) -> None:
        """Centre ``rect``; zoom in when it would look smaller than ``min_screen_px``.

        The zoom-in is capped (:data:`FOCUS_MAX_ZOOM`, and at least
        :data:`FOCUS_CONTEXT_PX` image pixels across the view) so a platelet a few
        pixels wide is shown among its neighbours, not as a blur filling the window.
        A view already zoomed further in is left as it is.
        """
        size = max(rect.width(), rect.height(), 1.0)
        view = self.viewport().rect()
        cap = min(FOCUS_MAX_ZOOM, min(view.width(), view.height()) / FOCUS_CONTEXT_PX)
        wanted = min(min_screen_px / size, cap)
        if wanted > self._zoom:
            self.set_zoom(wanted)
        self.centerOn(rect.center())
        self._fitted = False

    def _start_pan(self, pos: QPoint) -> None:
        self._pan_last = pos
        self._pan_start = pos
        self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def _pan_to(self, pos: QPoint) -> None:
        delta = pos - self._pan_last
        self._pan_last = pos
        self.pan_by(delta.x(), delta.y())

    def _pan_travel(self, pos: QPoint) -> int:
        """Screen pixels between where the pan started and ``pos``."""
        return (pos - self._pan_start).manhattanLength()
