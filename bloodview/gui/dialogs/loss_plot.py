"""A small live loss plot drawn with QPainter (PyQt6 ships no QtCharts by default)."""

from __future__ import annotations

import math

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QPainter, QPainterPath, QPen
from PyQt6.QtWidgets import QSizePolicy, QWidget

SERIES_COLOURS = {"loss": "#332288", "val_loss": "#cc6677"}
WAITING_TEXT = "loss appears here once training runs"


class LossPlot(QWidget):
    """Plots ``loss`` per step (x = fractional epoch) and ``val_loss`` per epoch, log-free."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(320, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.series: dict[str, list[tuple[float, float]]] = {"loss": [], "val_loss": []}
        self.epochs = 1
        self.empty_text = WAITING_TEXT  # what the empty plot says (a run with no epochs says why)

    def clear(self) -> None:
        for points in self.series.values():
            points.clear()
        self.update()

    def add_point(self, name: str, x: float, y: float) -> None:
        if math.isfinite(y):
            self.series.setdefault(name, []).append((x, y))
            self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        area = QRectF(self.rect()).adjusted(44, 10, -10, -26)
        painter.setPen(QPen(QColor("#999999")))
        painter.drawRect(area)
        points = [p for s in self.series.values() for p in s]
        if not points:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
            return
        x_max = max(self.epochs, max(p[0] for p in points))
        y_max = max(p[1] for p in points) * 1.05 or 1.0
        y_min = 0.0
        painter.setPen(QColor("#555555"))
        painter.drawText(QRectF(0, area.top() - 6, 40, 14), Qt.AlignmentFlag.AlignRight, f"{y_max:.2f}")
        painter.drawText(QRectF(0, area.bottom() - 8, 40, 14), Qt.AlignmentFlag.AlignRight, "0")
        painter.drawText(QRectF(area.left(), area.bottom() + 4, area.width(), 16),
                         Qt.AlignmentFlag.AlignCenter, f"epoch (0–{x_max:g})")

        def to_screen(x: float, y: float) -> QPointF:
            return QPointF(area.left() + area.width() * x / x_max,
                           area.bottom() - area.height() * (y - y_min) / (y_max - y_min))

        legend_x = area.right() - 90
        for row, (name, series) in enumerate(self.series.items()):
            if not series:
                continue
            colour = QColor(SERIES_COLOURS.get(name, "#117733"))
            painter.setPen(QPen(colour, 2))
            path = QPainterPath(to_screen(*series[0]))
            for x, y in series[1:]:
                path.lineTo(to_screen(x, y))
            painter.drawPath(path)
            if len(series) == 1:
                painter.drawEllipse(to_screen(*series[0]), 3, 3)
            painter.drawText(QPointF(legend_x, area.top() + 16 + 14 * row), name)
