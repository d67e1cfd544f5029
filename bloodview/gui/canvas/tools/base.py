"""The interface every canvas tool implements.

The view converts each mouse event's position to scene (image pixel) coordinates
and offers it to the active tool; a handler returns ``True`` when it used the
event. Panning (middle/right drag, space + drag) and wheel zoom are the view's and
never reach the tools. Tools change data only by pushing commands
(:mod:`bloodview.gui.commands`) through :meth:`CanvasView.push`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QKeyEvent, QMouseEvent

if TYPE_CHECKING:
    from bloodview.gui.canvas.view import CanvasView

HIT_PX = 7.0  # how close (screen pixels) the mouse must be to a point or an edge


class Tool:
    """Base class: ignores everything."""

    name = ""
    hint = ""
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, view: CanvasView):
        self.view = view

    def activate(self) -> None:
        """The tool became current."""
        self.view.show_status(self.hint)

    def deactivate(self) -> None:
        """Another tool became current, or the image changed: drop unfinished work."""

    def mouse_press(self, event: QMouseEvent, pos: QPointF) -> bool:
        return False

    def mouse_move(self, event: QMouseEvent, pos: QPointF) -> bool:
        return False

    def mouse_release(self, event: QMouseEvent, pos: QPointF) -> bool:
        return False

    def mouse_double_click(self, event: QMouseEvent, pos: QPointF) -> bool:
        return False

    def key_press(self, event: QKeyEvent) -> bool:
        return False

    def wants_key(self, event: QKeyEvent) -> bool:
        """True when this key means something to the tool *now* (e.g. Esc while drawing).

        The view then claims the key before a window shortcut with the same key
        (Qt's ShortcutOverride), so Esc cancels a drawing instead of, say, clearing
        the selection, and Delete removes the point under the mouse.
        """
        return False

    def leave(self) -> None:
        """The mouse left the canvas."""

    def zoom_changed(self) -> None:
        """The zoom changed (screen-sized overlays may need a refresh)."""

    def annotation_changed(self, kind: str, payload: Any) -> None:
        """The core annotation changed (a command ran, here or elsewhere)."""

    def hit_tolerance(self) -> float:
        """:data:`HIT_PX` in image pixels at the current zoom."""
        return HIT_PX * self.view.style.pixel
