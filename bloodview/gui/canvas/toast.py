"""A brief, non-modal message over the top of the canvas ("toast").

Why: a refused action (nothing selected, an outline with no area, sign-off with
cells left) used to be told only in the status bar, far from where the person is
looking. The toast shows the same sentence at the top of the image for a few
seconds; it takes no focus and lets every click through, so work goes on.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QAbstractScrollArea, QLabel

from bloodview.gui.style import WARNING_COLOUR

SHOW_MS = 3500
MARGIN_PX = 12
PADDING_PX = 12


class Toast(QLabel):
    """Child of a scroll area (the canvas), placed over the top centre of its viewport."""

    def __init__(self, area: QAbstractScrollArea):
        super().__init__(area)
        self._area = area
        self.setObjectName("canvasToast")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet(
            "QLabel#canvasToast { background: rgba(30, 30, 30, 215); color: white;"
            f" border: 1px solid {WARNING_COLOUR}; border-radius: 6px; padding: 6px {PADDING_PX}px; }}"
        )
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_message(self, text: str, ms: int = SHOW_MS) -> None:
        self.setText(text)
        self.place()
        self.show()
        self.raise_()
        self._timer.start(ms)

    def place(self) -> None:
        """Top centre of the viewport: one line when it fits in ~80 % of the width, else wrapped."""
        port = self._area.viewport().geometry()
        limit = max(120, int(port.width() * 0.8))
        natural = self.fontMetrics().horizontalAdvance(self.text()) + 2 * PADDING_PX + 4
        self.setWordWrap(natural > limit)
        width = min(natural, limit)
        height = self.heightForWidth(width) if self.wordWrap() else self.sizeHint().height()
        self.resize(width, height)
        x = port.x() + (port.width() - self.width()) // 2
        self.move(max(port.x(), x), port.y() + MARGIN_PX)
