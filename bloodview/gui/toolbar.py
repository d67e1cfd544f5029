"""The main toolbar, which keeps Detect and Cancel in view however narrow the window.

Why: at a 14 pt system font on a 1366-pixel laptop (and at 1280 px already) the toolbar was wider
than the window and Qt moved its last buttons — Detect and Cancel detection — into the "»" overflow
menu: Cancel, the button a person looks for when a detection of 300 images was started by mistake,
was out of sight. Two things keep it in view:

- the order (:data:`bloodview.gui.actions.TOOLBAR`): Detect and Cancel stand before the editing
  tools and the model selector, so what Qt moves into the overflow menu first are those (the tools
  have their keys and the Tools menu, the models the Model menu);
- :class:`FittingToolBar`: when the buttons with text do not fit, the less vital ones
  (:data:`TEXT_GIVEN_UP`, in that order) show their icon only — their text stays in the tooltip
  and the menus — and take it back when the window is wide enough again.
"""

from __future__ import annotations

from collections.abc import Sequence

from PyQt6.QtCore import QEvent, Qt, QTimer
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QToolBar, QToolButton, QWidget

TEXT_GIVEN_UP = ("open", "save", "sign_off", "accept")
"""Buttons that show their icon only when the toolbar is too narrow, the first first. Detect and
Cancel keep their text always: they are the buttons a person must find at once."""

class FittingToolBar(QToolBar):
    """A horizontal toolbar whose :meth:`give_up_text` buttons drop their text when it is too narrow.

    The decision is made from each button's width with and without its text, measured once: the
    width the bar needs with every text is then known whatever it shows now, so a fit never flips
    back and forth at the edge.
    """

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(title, parent)
        self._optional: list[QAction] = []  # most willing to drop its text first
        self._fit_timer = QTimer(self)  # a fit once the buttons have taken a change (an icon, a font, a text)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self.fit)
        self._savings: dict[tuple, int] = {}  # (button, its text, font and icon) -> pixels

    def give_up_text(self, actions: Sequence[QAction]) -> None:
        """Let ``actions`` (on this bar already) show their icon only when the bar is too narrow."""
        self._optional = list(actions)
        self.fit()

    def icon_only(self) -> list[QAction]:
        """The actions whose buttons show their icon only just now because the bar is narrow."""
        return [a for a in self._optional
                if (button := self._button(a)) is not None
                and button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly]

    def fit(self) -> None:
        """Give the optional buttons their text back, or take it, so the bar fits its width."""
        buttons = [(a, b) for a in self._optional if (b := self._button(a)) is not None]
        if self.orientation() != Qt.Orientation.Horizontal:  # docked at a side: width is not short
            for _action, button in buttons:
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            return
        savings = [self._text_width(b) for _a, b in buttons]
        shown = {id(b) for _a, b in buttons if b.toolButtonStyle() != Qt.ToolButtonStyle.ToolButtonIconOnly}
        full = self.sizeHint().width() + sum(s for (_a, b), s in zip(buttons, savings) if id(b) not in shown)
        room = self.width()
        for (_action, button), saving in zip(buttons, savings):
            short = full > room
            if short:
                full -= saving
            style = Qt.ToolButtonStyle.ToolButtonIconOnly if short else Qt.ToolButtonStyle.ToolButtonTextBesideIcon
            if button.toolButtonStyle() != style:
                button.setToolButtonStyle(style)

    def event(self, event: QEvent) -> bool:  # noqa: D102 - Qt's name
        result = super().event(event)
        if event.type() == QEvent.Type.Resize:
            self.fit()
        elif event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.FontChange, QEvent.Type.Show):
            self._fit_timer.start()
        return result

    def _button(self, action: QAction) -> QToolButton | None:
        widget = self.widgetForAction(action)
        return widget if isinstance(widget, QToolButton) else None

    def _text_width(self, button: QToolButton) -> int:
        """Pixels ``button`` gives back when it shows its icon only (measured once per text, font
        and icon: the style's margins around a text differ between styles and fonts)."""
        key = (button.text(), button.font().key(), button.icon().isNull(), button.iconSize().width())
        width = self._savings.get((id(button), key))
        if width is None:
            style = button.toolButtonStyle()
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            wide = button.sizeHint().width()
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            width = wide - button.sizeHint().width()
            button.setToolButtonStyle(style)
            self._savings[(id(button), key)] = width
        return width
