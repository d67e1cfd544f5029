"""The smear image as a scene item, with a small pyramid for fast zoomed-out drawing.

Drawing a 6000 x 4500 image smoothly scaled down to a window every frame costs
several milliseconds; drawing a copy pre-scaled by 1/2, 1/4, ... costs far less and
looks the same. Levels are made on first use (smooth scaling, once). From
:data:`PIXELATED_ZOOM` on, image pixels are drawn as sharp squares so a person can
see exactly which pixels an outline encloses.
"""

from __future__ import annotations

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QImage, QPainter, QPixmap
from PyQt6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

PIXELATED_ZOOM = 3.0
MIN_LEVEL_SIDE = 256  # no pyramid level smaller than this


class ImageItem(QGraphicsItem):
    """Shows ``image`` stretched over ``width x height`` scene units (image pixels)."""

    def __init__(self, image: QImage, width: int, height: int):
        super().__init__()
        self.setZValue(-1e9)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self._image = image
        self._rect = QRectF(0, 0, width, height)
        self._levels: dict[int, QPixmap] = {0: QPixmap.fromImage(image)}

    def _level(self, k: int) -> QPixmap:
        if k not in self._levels:
            w = max(1, self._image.width() >> k)
            h = max(1, self._image.height() >> k)
            scaled = self._image.scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio,
                                        Qt.TransformationMode.SmoothTransformation)
            self._levels[k] = QPixmap.fromImage(scaled)
        return self._levels[k]

    def level_for(self, zoom: float) -> int:
        """The coarsest level still at least as detailed as the screen at ``zoom``."""
        k = 0
        while (zoom * (2 ** (k + 1)) <= 1.0 and min(self._image.width(), self._image.height()) >> (k + 1)
               >= MIN_LEVEL_SIDE):
            k += 1
        return k

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        zoom = option.levelOfDetailFromTransform(painter.worldTransform())
        pixmap = self._level(self.level_for(zoom))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, zoom < PIXELATED_ZOOM)
        painter.drawPixmap(self._rect, pixmap, QRectF(pixmap.rect()))
