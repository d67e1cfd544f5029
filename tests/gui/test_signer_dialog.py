"""The "Sign off as:" question as a person meets it: the real dialog, typed into and clicked."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication

from bloodview.gui.prompts import Prompts
from bloodview.gui.signer import PROMPT_KEY
from bloodview.gui.signer_dialog import SignerDialog

pytestmark = pytest.mark.gui


def test_the_suggestion_is_selected_so_typing_replaces_it_and_ok_needs_a_name(qtbot):
    dialog = SignerDialog("A. Smith", "labuser", False)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.name.text() == "A. Smith" and dialog.name.selectedText() == "A. Smith"
    assert "labuser" in dialog.findChild(type(dialog.always_login), "signerAlwaysLogin").text()
    QTest.keyClicks(dialog.name, "BJ")
    assert dialog.answer() == ("BJ", False) and dialog.ok_button.isEnabled()
    dialog.name.clear()
    QTest.keyClicks(dialog.name, "   ")
    assert not dialog.ok_button.isEnabled()  # only spaces: no name
    QTest.keyClick(dialog.name, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() == 0  # Enter did not accept it
    dialog.always_login.setChecked(True)  # a login of one's own: the name field is not needed
    assert dialog.ok_button.isEnabled() and not dialog.name.isEnabled()
    assert dialog.answer()[1] is True


def test_a_long_name_cannot_be_typed_past_the_limit(qtbot):
    dialog = SignerDialog("", "labuser", False)
    qtbot.addWidget(dialog)
    QTest.keyClicks(dialog.name, "x" * 80)
    assert len(dialog.name.text()) == 60


def answer_dialog_later(typed: str | None, seen: list) -> None:
    """When the dialog is up: note what it offered, then type ``typed`` and press Enter
    (``None``: Escape). Closes it after a second whatever happens, so a test cannot hang."""
    def act():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SignerDialog):
            QTimer.singleShot(20, act)
            return
        seen.append(dialog.name.text())
        if typed is None:
            QTest.keyClick(dialog.name, Qt.Key.Key_Escape)
        else:
            QTest.keyClicks(dialog.name, typed)
            QTest.keyClick(dialog.name, Qt.Key.Key_Return)

    def give_up():
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, SignerDialog):
            dialog.reject()
    QTimer.singleShot(0, act)
    QTimer.singleShot(3000, give_up)


def test_the_real_question_in_the_window(bench_window):
    """An interactive window: the first Ctrl+Enter opens the question with the login filled
    in; the name typed is recorded; the second sign-off does not ask again."""
    window = bench_window
    window.prompts.non_interactive = False
    seen: list[str] = []
    answer_dialog_later("T. Nguyen", seen)
    assert window.review.sign_off()
    assert seen == ["labuser"]
    assert [(e.by, e.login) for e in window.session.current_image.sign_off_history] == [("T. Nguyen", "labuser")]

    window.review.step_image(1)
    assert window.review.sign_off()  # no dialog this time (one would wait until the give-up timer)
    assert window.session.current_image.last_sign_off.by == "T. Nguyen"


def test_escape_in_the_real_question_signs_nothing(bench_window):
    window = bench_window
    window.prompts.non_interactive = False
    answer_dialog_later(None, [])
    assert not window.review.sign_off()
    assert not window.session.current_image.signed_off


def test_answers_may_be_a_name_a_pair_or_none_and_non_interactive_takes_the_suggestion():
    prompts = Prompts(non_interactive=True)
    assert prompts.sign_as(None, PROMPT_KEY, "A. Smith", "labuser", False) == ("A. Smith", False)
    prompts.answers[PROMPT_KEY] = "BJ"
    assert prompts.sign_as(None, PROMPT_KEY, "A. Smith", "labuser", True) == ("BJ", False)
    prompts.answers[PROMPT_KEY] = ("", True)
    assert prompts.sign_as(None, PROMPT_KEY, "A. Smith", "labuser", False) == ("", True)
    prompts.answers[PROMPT_KEY] = None
    assert prompts.sign_as(None, PROMPT_KEY, "A. Smith", "labuser", False) is None


@pytest.fixture
def bench_window(window, monkeypatch):
    monkeypatch.delenv("BLOODVIEW_USER", raising=False)
    monkeypatch.setenv("LOGNAME", "labuser")
    window.prompts.answers["sign_off_empty"] = True
    return window
