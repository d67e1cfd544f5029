"""Drawing one gallery thumbnail: which square of the image it shows, cut at the screen's resolution.

A thumbnail is :data:`THUMB` logical pixels on screen. Its picture is cut at THUMB x the screen's
device pixel ratio (:func:`thumb_pixels`: 144 pixels at 200 % scaling) and drawn at that ratio: cut at
72 pixels, Qt enlarged it at 150-200 % and it looked soft, the one place a person judges a cell's
chromatin. Frames, marks and text are drawn in logical pixels, so they look the same at any scaling.
"""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRect, QRectF, Qt
from PyQt6.QtGui import QColor, QIcon, QImage, QPainter, QPen, QPixmap, QPolygonF

from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance
from bloodview.gui.review import is_checked
from bloodview.gui.workers.thumbnails import Square

THUMB = 72  # logical pixels; the picture has THUMB x the device pixel ratio (see thumb_pixels)
MIN_CROP = 40  # image pixels: a platelet thumbnail still shows its surroundings


def thumb_pixels(device_pixel_ratio: float) -> int:
    """A thumbnail's side in device pixels on a screen of ``device_pixel_ratio`` (72 at 100 %,
    108 at 150 %, 144 at 200 %)."""
    return max(THUMB, round(THUMB * device_pixel_ratio))


def crop_square(bbox) -> Square:
    """The square of the image a cell's thumbnail shows (image pixels): the cell with a margin,
    at least :data:`MIN_CROP` wide so a platelet still shows its surroundings."""
    x1, y1, x2, y2 = bbox
    side = max(x2 - x1, y2 - y1, MIN_CROP) * 1.15 + 4
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return int(cx - side / 2), int(cy - side / 2), int(side)


def cut_thumbnail(picture: QImage, cell: Instance, pixels: int = THUMB) -> QImage:
    """``cell``'s :func:`crop_square` of ``picture``, shrunk (or grown) to ``pixels`` px."""
    x, y, side = crop_square(cell.bbox)
    return picture.copy(QRect(x, y, side, side)).scaled(
        pixels, pixels, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


def draw_thumbnail(cell: Instance, classes: ClassCatalogue, unidentified: bool, crop: QImage | None,
                   unreadable: str | None = None, pixels: int = THUMB) -> QIcon:
    """A thumbnail: ``crop`` (cut by :func:`crop_square`, at the screen's resolution) or, without
    it, a dark frame (waiting for its picture) that reads "cannot read" when ``unreadable`` says
    why. Drawn in THUMB logical pixels onto a pixmap of the screen's device pixel ratio."""
    pixmap = QPixmap(pixels, pixels)
    pixmap.setDevicePixelRatio(pixels / THUMB)
    pixmap.fill(QColor("#303030"))
    painter = QPainter(pixmap)
    rgb = classes[cell.class_name].color if cell.class_name in classes else (136, 136, 136)
    if crop is not None and not crop.isNull():
        painter.drawImage(QRectF(0, 0, THUMB, THUMB), crop)
        x1, y1, x2, y2 = cell.bbox
        if max(x2 - x1, y2 - y1) < MIN_CROP:  # a small cell: show which one it is
            x, y, side = crop_square(cell.bbox)
            _draw_outline(painter, cell, QRect(x, y, side, side), QColor(*rgb))
    elif unreadable is not None:
        painter.setPen(QColor("#d0d0d0"))
        painter.drawText(QRect(4, 4, THUMB - 8, THUMB - 8), Qt.AlignmentFlag.AlignCenter, "cannot\nread")
    pen = QPen(QColor("#c98a00") if unidentified else QColor(*rgb))
    pen.setWidth(2 if is_checked(cell) else 4)
    painter.setPen(pen)
    painter.drawRect(1, 1, THUMB - 3, THUMB - 3)
    if is_checked(cell):
        painter.setPen(QColor("#ffffff"))
        painter.drawText(QRect(0, 0, THUMB - 4, 16), Qt.AlignmentFlag.AlignRight, "✓")
    painter.end()
    return QIcon(pixmap)


def _draw_outline(painter: QPainter, cell: Instance, crop: QRect, color: QColor) -> None:
    """The cell's outline over its thumbnail (``crop``, a square of the image, drawn at THUMB px)."""
    scale = THUMB / max(crop.width(), 1)
    pen = QPen(color)
    pen.setWidthF(1.5)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    for polygon in cell.polygons:
        points = [QPointF((x - crop.x()) * scale, (y - crop.y()) * scale) for x, y in polygon]
        painter.drawPolygon(QPolygonF(points))


def caption(display_name: str, score: float | None) -> str:
    """Two lines under a thumbnail: the class (first word when long) and the score."""
    name = display_name if len(display_name) <= 12 else display_name.split()[0]
    return name if score is None else f"{name}\n{score:.2f}"
