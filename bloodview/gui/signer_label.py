"""Showing who is signing: the Review menu's **Signing as NAME…** and a line in the Review panel.

On a shared bench PC the window may stay open all shift while technicians take turns;
the name in force must be in sight next to the sign-off button, with the way to change
it one click away ("Change…"), or the next person signs under the last one's name.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel

if TYPE_CHECKING:
    from bloodview.gui.main_window import MainWindow


def menu_text(name: str) -> str:
    """The Review menu item: ``Signing &as A. Smith…`` (``&`` in a name shown, not a mnemonic)."""
    return f"Signing &as {name.replace('&', '&&')}…" if name else "Sign off &as…"


def show_signer(window: MainWindow) -> QLabel:
    """Keep the menu item and a "Signing as … Change…" line above the Review panel's sign-off
    button in step with ``window.review.signer``; returns the line."""
    signer, action = window.review.signer, window.acts["signer"]
    line = QLabel()
    line.setObjectName("signerLine")
    line.setWordWrap(True)
    line.setTextFormat(Qt.TextFormat.RichText)
    line.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                 | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
    line.linkActivated.connect(lambda _link: window.review.change_signer())
    panel = window.queue
    layout = panel.layout()
    layout.insertWidget(layout.indexOf(panel.sign_off), line)

    def update(_name: str = "") -> None:
        name = signer.name
        action.setText(menu_text(name))
        text = signer.describe()
        link = "Change…" if name else "Set name…"
        line.setText(f"{html.escape(text)} · <a href='change'>{link}</a>")
        line.setToolTip("Who each sign-off and withdrawal is recorded under, beside the computer's login")
        line.setAccessibleName(text)

    signer.changed.connect(update)
    update()
    return line
