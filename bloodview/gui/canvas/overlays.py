"""Temporary scene items the tools draw while working (never part of the data).

* :class:`DraftItem` - the polygon being drawn: placed points, the line to the mouse.
* :class:`BrushCursorItem` - the brush/eraser circle under the mouse.
* :class:`StrokeItem` - the area painted by the current brush stroke.
"""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPainterPathStroker, QPen
from PyQt6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from bloodview.gui.canvas.style import HANDLE_EDGE, HANDLE_FILL, HANDLE_HOT, CanvasStyle

OVERLAY_Z = 3e6


def _pen(color: QColor, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color, width, style)
    pen.setCosmetic(True)
    return pen


class DraftItem(QGraphicsItem):
    """Points of a polygon being drawn, and a dashed line from the last point to the mouse."""

    def __init__(self, style: CanvasStyle, color: QColor):
        super().__init__()
        self._style = style
        self._color = QColor(color)
        self._points: list[QPointF] = []
        self._mouse: QPointF | None = None
        self._close_hot = False
        self.setZValue(OVERLAY_Z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_state(self, points: list[QPointF], mouse: QPointF | None, close_hot: bool) -> None:
        self.prepareGeometryChange()
        self._points = list(points)
        self._mouse = mouse
        self._close_hot = close_hot
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        points = self._points + ([self._mouse] if self._mouse is not None else [])
        if not points:
            return QRectF()
        xs = [p.x() for p in points]
        ys = [p.y() for p in points]
        margin = (self._style.handle_px * 1.5 + 3) * self._style.pixel
        return QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)).adjusted(
            -margin, -margin, margin, margin
        )

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if not self._points:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        fill = QColor(self._color)
        fill.setAlphaF(min(1.0, self._style.opacity * 0.6))
        if len(self._points) >= 3:
            path = QPainterPath(self._points[0])
            for point in self._points[1:]:
                path.lineTo(point)
            path.closeSubpath()
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawPath(path)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(_pen(QColor(255, 255, 255), 4.0))
        painter.drawPolyline(self._points)
        painter.setPen(_pen(self._color, 2.0))
        painter.drawPolyline(self._points)
        if self._mouse is not None:
            painter.setPen(_pen(self._color, 1.5, Qt.PenStyle.DashLine))
            painter.drawLine(self._points[-1], self._mouse)
        half = self._style.handle_px * self._style.pixel / 2.0
        painter.setPen(_pen(HANDLE_EDGE, 1.0))
        for i, point in enumerate(self._points):
            hot = i == 0 and self._close_hot
            size = half * (1.6 if hot else 1.0)
            painter.setBrush(HANDLE_HOT if hot else HANDLE_FILL)
            painter.drawEllipse(QRectF(point.x() - size, point.y() - size, 2 * size, 2 * size))


class BrushCursorItem(QGraphicsItem):
    """The brush outline: a circle of the brush radius (image pixels) around the mouse."""

    def __init__(self, style: CanvasStyle):
        super().__init__()
        self._style = style
        self._radius = 8.0
        self._erase = False
        self.setZValue(OVERLAY_Z + 1)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_radius(self, radius: float, erase: bool) -> None:
        self.prepareGeometryChange()
        self._radius = float(radius)
        self._erase = erase
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        r = self._radius + 3 * self._style.pixel
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = QRectF(-self._radius, -self._radius, 2 * self._radius, 2 * self._radius)
        painter.setPen(_pen(QColor(0, 0, 0, 160), 3.0))
        painter.drawEllipse(rect)
        color = QColor(255, 90, 90) if self._erase else QColor(255, 255, 255)
        painter.setPen(_pen(color, 1.5, Qt.PenStyle.DashLine if self._erase else Qt.PenStyle.SolidLine))
        painter.drawEllipse(rect)


class StrokeItem(QGraphicsItem):
    """The area swept by a brush stroke so far (a thick round-capped polyline)."""

    def __init__(self, color: QColor, erase: bool):
        super().__init__()
        fill = QColor(255, 80, 80, 110) if erase else QColor(color)
        if not erase:
            fill.setAlpha(130)
        self._brush = QBrush(fill)
        self._path = QPainterPath()
        self.setZValue(OVERLAY_Z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_stroke(self, points: list[QPointF], radius: float) -> None:
        self.prepareGeometryChange()
        centre = QPainterPath(points[0])
        for point in points[1:]:
            centre.lineTo(point)
        if len(points) == 1:
            centre.lineTo(points[0] + QPointF(0.01, 0.0))
        stroker = QPainterPathStroker()
        stroker.setWidth(2.0 * radius)
        stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
        stroker.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        self._path = stroker.createStroke(centre)  # winding fill: overlaps blend once
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._path.boundingRect()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._brush)
        painter.drawPath(self._path)
