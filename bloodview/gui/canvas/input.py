"""Mouse and keyboard of the canvas (mixin of :class:`CanvasView`).

Panning (middle or right drag, Space + drag) and zoom (wheel, ``+``/``-``, ``0`` to
fit) are handled here; every other mouse event goes to the current tool with its
position in image pixels, and keys go to the tool first. A tool can claim a key
before the window's shortcuts see it (:meth:`Tool.wants_key`).
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QPointF, Qt
from PyQt6.QtGui import QKeyEvent, QMouseEvent, QWheelEvent

from bloodview.gui.canvas.navigation import STEP


class InputMixin:
    """Needs the view's ``annotation``, ``_tool``, ``_pan_button``, ``_buttons_held``, ``_space_held`` and navigation."""

    def mouse_held(self) -> bool:
        """True while a mouse button pressed on the canvas is held (a drag, a stroke, a pan)."""
        return self._buttons_held != Qt.MouseButton.NoButton

    def _scene_pos(self, event: QMouseEvent) -> QPointF:
        return self.mapToScene(event.position().toPoint())

    def _offer(self, handler, event: QMouseEvent) -> bool:
        """Give a mouse event to the current tool; True when it used it."""
        if self.annotation is None or not handler(event, self._scene_pos(event)):
            return False
        event.accept()
        return True

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.zoom_by(STEP ** (delta / 120.0), event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        self._buttons_held |= event.button()  # its own button: Qt's global button state can be stale
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        button = event.button()
        if button in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton) or (
            button == Qt.MouseButton.LeftButton and self._space_held
        ):
            self._pan_button = button
            self._start_pan(event.position().toPoint())
            event.accept()
            return
        if not self._offer(self._tool.mouse_press, event):
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if self._pan_button is not None:
            self._pan_to(event.position().toPoint())
            event.accept()
            return
        super().mouseMoveEvent(event)  # hover highlighting of items
        self._offer(self._tool.mouse_move, event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        self._buttons_held &= ~event.button()
        if self._pan_button is not None:
            if event.button() != self._pan_button:
                return  # another button let go while panning: keep panning
            self._pan_button = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space_held else self._tool.cursor)
            event.accept()
            if event.button() == Qt.MouseButton.RightButton and self._pan_travel(event.position().toPoint()) < 3:
                self._context_click(event)  # a right click, not a right drag
            return
        if not self._offer(self._tool.mouse_release, event):
            super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if not self._offer(self._tool.mouse_double_click, event):
            super().mouseDoubleClickEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride:
            # QGraphicsView would hand it to the scene, which swallows it; decide here.
            wanted = self.annotation is not None and self._tool.wants_key(event)
            event.setAccepted(wanted)
            return wanted
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if self.annotation is not None and self._tool.key_press(event):
            event.accept()
            return
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key == Qt.Key.Key_Minus:
            self.zoom_out()
        elif key == Qt.Key.Key_0:
            self.fit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.viewport().setCursor(self._tool.cursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._tool.leave()
        super().leaveEvent(event)

    def _context_click(self, event: QMouseEvent) -> None:
        """Right click: select the cell under the mouse (unless already selected), ask for a menu."""
        if self.annotation is None:
            return
        under = self.instance_at(self._scene_pos(event))
        if under is not None and under not in self.selected_ids():
            self.select([under])
        self.contextMenuRequested.emit(self.selected_ids(), event.globalPosition().toPoint())
