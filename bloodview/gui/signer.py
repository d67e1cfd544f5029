"""Who is signing images off at this computer, asked once a session.

A lab's bench PC usually has one login for the whole shift ("labuser"), so the login
name cannot tell technicians apart, and nobody there sets ``$BLOODVIEW_USER``. The
first sign-off (or withdrawal) of a session therefore asks "Sign off as:" with the
last name given on this PC (QSettings) or the login name filled in; the answer holds
for the rest of the session and can be changed with **Review → Signing as …**.

Who wins, in order:

1. ``$BLOODVIEW_USER`` (set by whoever configured the PC): used as it is, never asked;
2. the setting "always sign as my login name" (a person alone on their own login):
   the login name, never asked;
3. the name given this session; else the question.

Each sign-off records the name *and* the login (:class:`SignOffEvent`), so an auditor
reads "A. Smith (login labuser)".
"""

from __future__ import annotations

import getpass
import os
import re

from PyQt6.QtCore import QObject, QSettings, pyqtSignal
from PyQt6.QtWidgets import QWidget

from bloodview.gui.prompts import Prompts

MAX_NAME_LENGTH = 60
"""Longer names are cut: the record is read in a one-line list, and initials are the norm."""

LAST_NAME_KEY = "sign_off/last_name"
ALWAYS_LOGIN_KEY = "sign_off/always_login"
PROMPT_KEY = "sign_as"
ENVIRONMENT_VARIABLE = "BLOODVIEW_USER"

_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def login_name() -> str:
    """The computer's login the program runs under (``"unknown"`` when the system has none)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        return "unknown"


def configured_name() -> str:
    """``$BLOODVIEW_USER`` cleaned, ``""`` when it is not set (or blank)."""
    return clean_name(os.environ.get(ENVIRONMENT_VARIABLE, ""))


def clean_name(text: object) -> str:
    """A name as recorded: spaces at the ends dropped, runs of spaces, tabs and line breaks
    made one space, control characters removed, cut to :data:`MAX_NAME_LENGTH` characters.
    ``""`` means no name (empty or only spaces): refused."""
    name = _SPACES.sub(" ", _CONTROL.sub(" ", str(text or ""))).strip()
    return name[:MAX_NAME_LENGTH].rstrip()


class Signer(QObject):
    """The signing person of this session; ``changed`` carries the new name (``""``: not asked yet)."""

    changed = pyqtSignal(str)

    def __init__(self, settings: QSettings, prompts: Prompts, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        self.prompts = prompts
        self._name = ""  # given this session

    # --- state ----------------------------------------------------------------------
    @property
    def always_login(self) -> bool:
        return str(self.settings.value(ALWAYS_LOGIN_KEY, "false")).lower() in ("true", "1")

    @property
    def source(self) -> str:
        """Where the name comes from: ``"environment"``, ``"login"``, ``"given"`` or ``""`` (ask)."""
        if configured_name():
            return "environment"
        if self.always_login:
            return "login"
        return "given" if self._name else ""

    @property
    def name(self) -> str:
        """Who signs now without asking; ``""`` when the next sign-off asks."""
        source = self.source
        if source == "environment":
            return configured_name()
        if source == "login":
            return login_name()
        return self._name

    def suggestion(self) -> str:
        """What the question starts with: this session's name, the last one given on this PC,
        else the login name."""
        last = clean_name(self.settings.value(LAST_NAME_KEY, ""))
        return self._name or last or login_name()

    def describe(self) -> str:
        """One line for the Review panel: who is signing and how that was decided."""
        source = self.source
        if source == "environment":
            return f"Signing as {self.name} (set for this PC by BLOODVIEW_USER)"
        if source == "login":
            return f"Signing as {self.name} (always the login name)"
        if source == "given":
            login = login_name()
            return f"Signing as {self.name}" + (f" (login {login})" if login != self.name else "")
        return "The first sign-off asks who is signing"

    # --- asking ---------------------------------------------------------------------
    def who_signs(self, parent: QWidget | None) -> str:
        """The name to record for a sign-off or withdrawal, asking the first time in a
        session; ``""`` when the person cancelled or gave no name (nothing is signed)."""
        return self.name or self.ask(parent)

    def ask(self, parent: QWidget | None) -> str:
        """Ask "Sign off as:" now (the menu's **Signing as …**); returns the name in force
        afterwards, ``""`` when cancelled or empty (the previous name then stays)."""
        if configured_name():
            self.prompts.info(parent, "Signing as", f"This PC signs as {configured_name()}: it is set by "
                              f"{ENVIRONMENT_VARIABLE} in the PC's configuration; ask whoever set it up.")
            return configured_name()
        answer = self.prompts.sign_as(parent, PROMPT_KEY, self.suggestion(), login_name(), self.always_login)
        if answer is None:
            return ""
        given, always_login = answer
        self.settings.setValue(ALWAYS_LOGIN_KEY, bool(always_login))
        name = login_name() if always_login else clean_name(given)
        if name:
            self._name = name
            if name == login_name():
                self.settings.remove(LAST_NAME_KEY)  # the login is suggested anyway
            else:
                self.settings.setValue(LAST_NAME_KEY, name)
        self.changed.emit(self.name)  # also when refused: the panel still says who (or that nobody) signs
        return name
