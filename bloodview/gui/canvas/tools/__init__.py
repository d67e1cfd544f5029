"""Editing tools of the canvas, one per module; the view forwards mouse and key events."""

from bloodview.gui.canvas.tools.base import Tool
from bloodview.gui.canvas.tools.brush import BrushTool
from bloodview.gui.canvas.tools.draw import DrawTool
from bloodview.gui.canvas.tools.select import SelectTool

__all__ = ["BrushTool", "DrawTool", "SelectTool", "Tool"]
