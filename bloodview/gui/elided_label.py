"""A one-line label that ends in "…" where its text does not fit, instead of cutting a word in half.

The status bar's message shares the bar with the scale and device fields; a long detection summary
was cut mid-word ("outside the model's training rang"), so a user could not tell text was missing.
``text()`` stays the whole message (the tooltip shows it too, see ``MainWindow.show_status``).
"""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QPainter
from PyQt6.QtWidgets import QLabel, QSizePolicy, QStyleOption


class ElidedLabel(QLabel):
    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def shown_text(self) -> str:
        """What is painted: the text, shortened with "…" at the end to the label's width."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, max(0, self.contentsRect().width()))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment().value), option.palette,
                                  self.isEnabled(), self.shown_text(), self.foregroundRole())
        painter.end()
