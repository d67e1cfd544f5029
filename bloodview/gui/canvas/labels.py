"""Cell labels: a small tag with class and score, and de-cluttering of many tags.

Tags have a fixed screen size (they ignore the zoom) and sit *outside* their
cell - centred above it, or below it - so even a platelet a few pixels wide is
never covered by its own tag. With all labels switched on, :func:`declutter`
hides tags that would overlap an already placed one (hovering or selecting a
cell always shows its tag).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PyQt6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

LABEL_Z = 2e6
GRID_PX = 64


class LabelItem(QGraphicsItem):
    """Class name and score in a rounded tag, centred on its anchor point."""

    PAD = 2.0

    def __init__(self, text: str, color: QColor, point_size: float = 8.0):
        super().__init__()
        self._below = False
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(LABEL_Z)
        self._font = QFont()
        self._font.setPointSizeF(point_size)
        self.set_text(text, color)

    def set_text(self, text: str, color: QColor) -> None:
        self.prepareGeometryChange()
        self.text = text
        metrics = QFontMetricsF(self._font)
        width = metrics.horizontalAdvance(text) + 2 * self.PAD
        height = metrics.height() + self.PAD
        self._rect = QRectF(-width / 2.0, 1.0 if self._below else -height - 1.0, width, height)
        background = QColor(color)
        background.setAlpha(225)
        self._background = background
        self._text_color = readable_text_colour(color)
        self.update()

    def colours(self) -> tuple[QColor, QColor]:
        """(text, background) of the tag."""
        return QColor(self._text_color), QColor(self._background)

    def point_size(self) -> float:
        """The tag's font size in points (:func:`bloodview.gui.canvas.style.label_point_size`)."""
        return self._font.pointSizeF()

    def height(self) -> float:
        """Screen pixels the tag needs above (or below) its anchor."""
        return self._rect.height() + 1.0

    def rect_at(self, anchor: QPointF, below: bool) -> QRectF:
        """The tag's screen rectangle if its anchor were at screen point ``anchor``."""
        top = anchor.y() + 1.0 if below else anchor.y() - self.height()
        return QRectF(anchor.x() + self._rect.left(), top, self._rect.width(), self._rect.height())

    def set_below(self, below: bool) -> None:
        """Hang the tag below its anchor instead of standing on it."""
        if below != self._below:
            self._below = below
            self.prepareGeometryChange()
            self._rect.moveTop(1.0 if below else -self._rect.height() - 1.0)
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._background)
        painter.drawRoundedRect(self._rect, 2.0, 2.0)
        painter.setFont(self._font)
        painter.setPen(self._text_color)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)


DARK_TEXT = QColor(20, 20, 20)
LIGHT_TEXT = QColor(255, 255, 255)


def relative_luminance(colour: QColor) -> float:
    """WCAG relative luminance (0 black to 1 white) of an sRGB colour."""
    def linear(value: int) -> float:
        c = value / 255.0
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return 0.2126 * linear(colour.red()) + 0.7152 * linear(colour.green()) + 0.0722 * linear(colour.blue())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours, 1 (none) to 21 (black on white)."""
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable_text_colour(background: QColor) -> QColor:
    """Dark or white text, whichever contrasts more with ``background``.

    The old rule (a brightness over 140 of 255) put white text on the eosinophil's pink (3.7:1),
    the tag hardest to read on a smear; dark text there is 5:1."""
    dark, light = contrast_ratio(DARK_TEXT, background), contrast_ratio(LIGHT_TEXT, background)
    return QColor(DARK_TEXT if dark >= light else LIGHT_TEXT)


def declutter(items: Iterable, to_screen: Callable[[QPointF], QPointF], screen: QRectF) -> int:
    """Place each item's tag above or below its cell where it overlaps no placed tag.

    ``items`` are :class:`InstanceItem` in priority order (first placed first);
    ``to_screen`` maps a scene point to a viewport point; ``screen`` is the
    viewport rectangle (a tag must fit inside it vertically). Tags that fit
    nowhere are hidden until hovered. Returns how many were hidden.

    A tag already made is only moved when its place changes: re-placing every tag of a
    2,000-cell camera field (each one set to "auto" and back) after each key made the scene
    re-index and repaint all of them.
    """
    grid: dict[tuple[int, int], list[QRectF]] = defaultdict(list)
    hidden = 0
    for item in items:
        label = item.label_item()
        if label is None:  # not made yet: "auto" makes it
            item.set_label_place("auto")
            label = item.label_item()
        if label is None:
            continue
        for below in (False, True):
            rect = label.rect_at(to_screen(item.label_anchor(below)), below).adjusted(-1, -1, 1, 1)
            if rect.top() < screen.top() or rect.bottom() > screen.bottom():
                continue
            cells = [
                (gx, gy)
                for gx in range(int(rect.left() // GRID_PX), int(rect.right() // GRID_PX) + 1)
                for gy in range(int(rect.top() // GRID_PX), int(rect.bottom() // GRID_PX) + 1)
            ]
            if not any(rect.intersects(other) for cell in cells for other in grid[cell]):
                for cell in cells:
                    grid[cell].append(rect)
                item.set_label_place("below" if below else "above")
                break
        else:
            item.set_label_place(None)
            hidden += 1
    return hidden
