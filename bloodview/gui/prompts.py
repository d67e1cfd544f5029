"""Questions and messages to the user, in one place so tests and --screenshot can answer.

When ``non_interactive`` is set (tests, ``--screenshot``), questions return their
default and messages are logged instead of shown; ``answers`` may pre-set replies
by key.

File dialogs start in the folder chosen last time for the same key (open,
import, each export, …), kept in ``settings`` (QSettings) across restarts.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QFileDialog, QMessageBox, QWidget

log = logging.getLogger(__name__)

LAST_FOLDER_KEY = "last_folder"


class Prompts:
    def __init__(self, non_interactive: bool = False, settings: QSettings | None = None):
        self.non_interactive = non_interactive
        self.settings = settings  # where the last folder of each file dialog is remembered
        self.answers: dict[str, object] = {}
        self.messages: list[tuple[str, str]] = []  # (title, text) shown, newest last

    def ask(self, parent: QWidget | None, key: str, title: str, text: str, default: bool) -> bool:
        if key in self.answers:
            return bool(self.answers[key])
        if self.non_interactive:
            return default
        buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
        reply = QMessageBox.question(parent, title, text, buttons,
                                     QMessageBox.StandardButton.Yes if default
                                     else QMessageBox.StandardButton.No)
        return reply == QMessageBox.StandardButton.Yes

    def choose(self, parent: QWidget | None, key: str, title: str, text: str,
               options: list[str], default: str) -> str:
        """One of ``options`` (button texts); Escape gives ``default``."""
        if key in self.answers:
            return str(self.answers[key])
        if self.non_interactive:
            return default
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
        buttons = {box.addButton(o, QMessageBox.ButtonRole.AcceptRole): o for o in options}
        box.exec()
        return buttons.get(box.clickedButton(), default)

    def sign_as(self, parent: QWidget | None, key: str, suggestion: str, login: str,
                always_login: bool) -> tuple[str, bool] | None:
        """Who signs off: (name as given, always sign as the login name), ``None`` when cancelled.

        ``answers[key]`` may be a name, a ``(name, always_login)`` pair or ``None``;
        non-interactive runs take the suggestion."""
        if key in self.answers:
            value = self.answers[key]
            if value is None or isinstance(value, tuple):
                return value  # type: ignore[return-value]
            return str(value), False
        if self.non_interactive:
            return suggestion, always_login
        from bloodview.gui.signer_dialog import SignerDialog

        dialog = SignerDialog(suggestion, login, always_login, parent)
        try:
            return dialog.answer() if dialog.exec() == SignerDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()

    def error(self, parent: QWidget | None, title: str, text: str) -> None:
        self.messages.append((title, text))
        log.warning("%s: %s", title, text)
        if not self.non_interactive:
            QMessageBox.warning(parent, title, text)

    def info(self, parent: QWidget | None, title: str, text: str) -> None:
        self.messages.append((title, text))
        log.info("%s: %s", title, text)  # what --screenshot runs were told, in their log
        if not self.non_interactive:
            QMessageBox.information(parent, title, text)

    # --- file dialogs ------------------------------------------------------------
    def last_folder(self, key: str) -> Path | None:
        """The folder the ``key`` dialog was last answered in (None: never, or it is gone)."""
        value = self.settings.value(f"{LAST_FOLDER_KEY}/{key}") if self.settings is not None else None
        return Path(str(value)) if value and Path(str(value)).is_dir() else None

    def remember_folder(self, key: str, chosen: Path) -> None:
        """Remember where ``chosen`` (a file, or a folder: its parent, so its siblings show) lies."""
        if self.settings is not None:
            self.settings.setValue(f"{LAST_FOLDER_KEY}/{key}", str(chosen.parent))

    def _start(self, key: str, start: Path | None, is_folder: bool = False) -> str:
        """``start`` moved into the remembered folder (a file keeps its suggested name)."""
        last = self.last_folder(key)
        if last is None:
            return str(start) if start is not None else ""
        return str(last if is_folder or start is None else last / start.name)

    def open_paths(self, parent: QWidget | None, title: str, filters: str,
                   key: str | None = None) -> list[Path]:
        key = key or title.lower().replace(" ", "_")
        if "open_paths" in self.answers:
            return [Path(p) for p in self.answers["open_paths"]]  # type: ignore[union-attr]
        if self.non_interactive:
            return []
        files, _ = QFileDialog.getOpenFileNames(parent, title, self._start(key, None), filters)
        if files:
            self.remember_folder(key, Path(files[0]))
        return [Path(f) for f in files]

    def folder(self, parent: QWidget | None, key: str, title: str, start: Path) -> Path | None:
        if key in self.answers:
            value = self.answers[key]
            return Path(value) if value else None  # type: ignore[arg-type]
        if self.non_interactive:
            return None
        folder = QFileDialog.getExistingDirectory(parent, title, self._start(key, start, is_folder=True))
        if folder:
            self.remember_folder(key, Path(folder))
        return Path(folder) if folder else None

    def save_path(self, parent: QWidget | None, key: str, title: str, start: Path,
                  filters: str) -> Path | None:
        if key in self.answers:
            value = self.answers[key]
            return Path(value) if value else None  # type: ignore[arg-type]
        if self.non_interactive:
            return None
        path, _ = QFileDialog.getSaveFileName(parent, title, self._start(key, start), filters)
        if path:
            self.remember_folder(key, Path(path))
        return Path(path) if path else None
