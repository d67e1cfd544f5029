"""A thin frame in the palette's highlight colour around the widget that has the keyboard focus.

Why: a technician who reviews with the keyboard only must see where the keys go. Under the Fusion
style (and the offscreen one) the spin boxes frame themselves in the highlight colour when focused,
but the canvas showed nothing at all, nor did a combo box (the differential's scope) or a list
without a current row (the Cells list and the review queue of a fresh image): a key pressed there
did something unseen, or nothing. :class:`FocusRing` marks those widgets; it is drawn just inside the
widget's edge (2 px, over the list's own frame or the canvas's outermost pixels), so it never covers
a neighbour nor the middle of the image, and it is left out of "Export view as PNG" (the canvas
exports its viewport, which the ring is not part of).
"""

from __future__ import annotations

from PyQt6 import sip
from PyQt6.QtCore import QEvent, QObject, QRect, Qt
from PyQt6.QtGui import QPainter, QPalette, QRegion
from PyQt6.QtWidgets import QAbstractItemView, QApplication, QComboBox, QGraphicsView, QWidget

RING_PX = 2
"""The frame's width in logical pixels: seen at a glance, hides no more than a list's own frame."""

MARKED = (QGraphicsView, QAbstractItemView, QComboBox)
"""Widgets that get the ring: those whose style shows their focus faintly or not at all (spin boxes
and line edits frame themselves in the highlight colour already)."""


class FocusRing(QWidget):
    """The frame itself: a child of the focused widget, as large as it, painted on its edge only (its
    mask is the ring, so the widget below keeps its mouse and its painting)."""

    def __init__(self, target: QWidget):
        super().__init__(target)
        self.setObjectName("focusRing")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.fit()

    def fit(self) -> None:
        """Cover the target (its parent) again, e.g. after it was resized."""
        parent = self.parentWidget()
        if parent is None:
            return
        rect = parent.rect()
        self.setGeometry(rect)
        inner = QRect(0, 0, rect.width(), rect.height()).adjusted(RING_PX, RING_PX, -RING_PX, -RING_PX)
        self.setMask(QRegion(0, 0, rect.width(), rect.height()).subtracted(QRegion(inner)))
        self.raise_()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight))
        painter.end()


class FocusMarker(QObject):
    """Moves one :class:`FocusRing` to whichever widget of ``window`` gets the keyboard focus.

    ``ring`` is None while the focus is elsewhere (another window, a spin box, nowhere).
    """

    def __init__(self, window: QWidget):
        super().__init__(window)
        self._window = window
        self.ring: FocusRing | None = None
        _follow_focus(self)

    def _focus_moved(self, _old: QWidget | None, new: QWidget | None) -> None:
        if self.ring is not None and sip.isdeleted(self.ring):
            self.ring = None  # deleted with its widget
        target = new if isinstance(new, MARKED) and new.window() is self._window else None
        if target is not None and not self._window.isVisible():
            target = None  # a window closing hands its focus round its dying widgets: no ring there
        if self.ring is not None and self.ring.parentWidget() is target:
            return
        if self.ring is not None:
            self.ring.destroyed.disconnect(self._ring_gone)
            parent = self.ring.parentWidget()
            if parent is not None:
                parent.removeEventFilter(self)
            self.ring.hide()
            self.ring.deleteLater()
            self.ring = None
        if target is not None:
            self.ring = FocusRing(target)
            self.ring.destroyed.connect(self._ring_gone)
            target.installEventFilter(self)
            self.ring.show()

    def _ring_gone(self) -> None:
        self.ring = None  # its widget was deleted with it

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if self.ring is not None and watched is self.ring.parentWidget() and event.type() == QEvent.Type.Resize:
            self.ring.fit()
        return False


def _follow_focus(marker: FocusMarker) -> None:
    """Send the application's focus changes to ``marker`` while it lives, then stop.

    The application outlives every window: a connection to a marker whose window was deleted
    (each test makes and closes one) reached a deleted ring and crashed the process later, in
    Qt's painting. The slot is a plain function that checks the marker first and disconnects
    itself once the marker is gone."""
    app = QApplication.instance()

    def moved(old: QWidget | None, new: QWidget | None) -> None:
        if sip.isdeleted(marker):
            app.focusChanged.disconnect(moved)
            return
        marker._focus_moved(old, new)

    app.focusChanged.connect(moved)


def mark_keyboard_focus(window: QWidget) -> FocusMarker:
    """Frame the widget of ``window`` that has the keyboard focus (see the module's docstring)."""
    return FocusMarker(window)
