"""Questions and messages to the user, in one place so tests and --screenshot can answer.

When ``non_interactive`` is set (tests, ``--screenshot``), questions return their
default and messages are logged instead of shown; ``answers`` may pre-set replies
by key.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt6.QtWidgets import QFileDialog, QMessageBox, QWidget

log = logging.getLogger(__name__)


class Prompts:
    def __init__(self, non_interactive: bool = False):
        self.non_interactive = non_interactive
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

    def error(self, parent: QWidget | None, title: str, text: str) -> None:
        self.messages.append((title, text))
        log.warning("%s: %s", title, text)
        if not self.non_interactive:
            QMessageBox.warning(parent, title, text)

    def info(self, parent: QWidget | None, title: str, text: str) -> None:
        self.messages.append((title, text))
        if not self.non_interactive:
            QMessageBox.information(parent, title, text)

    def open_paths(self, parent: QWidget | None, title: str, filters: str) -> list[Path]:
        if "open_paths" in self.answers:
            return [Path(p) for p in self.answers["open_paths"]]  # type: ignore[union-attr]
        if self.non_interactive:
            return []
        files, _ = QFileDialog.getOpenFileNames(parent, title, "", filters)
        return [Path(f) for f in files]

    def folder(self, parent: QWidget | None, key: str, title: str, start: Path) -> Path | None:
        if key in self.answers:
            value = self.answers[key]
            return Path(value) if value else None  # type: ignore[arg-type]
        if self.non_interactive:
            return None
        folder = QFileDialog.getExistingDirectory(parent, title, str(start))
        return Path(folder) if folder else None

    def save_path(self, parent: QWidget | None, key: str, title: str, start: Path,
                  filters: str) -> Path | None:
        if key in self.answers:
            value = self.answers[key]
            return Path(value) if value else None  # type: ignore[arg-type]
        if self.non_interactive:
            return None
        path, _ = QFileDialog.getSaveFileName(parent, title, str(start), filters)
        return Path(path) if path else None
