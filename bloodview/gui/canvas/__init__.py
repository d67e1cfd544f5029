"""The image canvas widget and its editing tools (see :class:`CanvasView`)."""

from bloodview.gui.canvas.view import CanvasView

__all__ = ["CanvasView"]
