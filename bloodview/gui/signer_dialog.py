"""The "Sign off as:" question: a name or initials, and a switch for people alone on their own login.

Kept small and free of the window so :meth:`bloodview.gui.prompts.Prompts.sign_as` can
show it and tests can fill it in as a person would. The field starts filled in and
selected (Enter keeps the suggestion, typing replaces it); OK stays greyed out while
the field holds no name (empty or only spaces).
"""

from __future__ import annotations

from PyQt6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from bloodview.gui.signer import MAX_NAME_LENGTH


class SignerDialog(QDialog):
    def __init__(self, suggestion: str, login: str, always_login: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("signerDialog")
        self.setWindowTitle("Sign off as")
        self.login = login
        text = QLabel(f"Sign off as: your name or initials, as your lab records them. It is kept with "
                      f"each sign-off, beside this computer's login ({login}).")
        text.setWordWrap(True)
        self.name = QLineEdit(suggestion)
        self.name.setObjectName("signerName")
        self.name.setAccessibleName("Sign off as")
        self.name.setPlaceholderText("e.g. A. Smith")
        self.name.setMaxLength(MAX_NAME_LENGTH)
        self.name.selectAll()
        self.always_login = QCheckBox(f"Always sign as my login name ({login}) on this computer — "
                                      "don't ask (for a login of your own)")
        self.always_login.setObjectName("signerAlwaysLogin")
        self.always_login.setChecked(always_login)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.name)
        layout.addWidget(self.always_login)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._update)
        self.always_login.toggled.connect(self._update)
        self._update()

    @property
    def ok_button(self):
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def answer(self) -> tuple[str, bool]:
        """(name as typed, always sign as the login name)."""
        return self.name.text(), self.always_login.isChecked()

    def _update(self) -> None:
        always = self.always_login.isChecked()
        self.name.setEnabled(not always)
        self.ok_button.setEnabled(always or bool(self.name.text().strip()))
