"""Who signed the image off, on a lab's shared PC (one login, "labuser", for the whole shift).

Bug: every sign-off on a bench PC said "labuser" (nobody there sets $BLOODVIEW_USER), so the
record could not tell the technicians apart. Now the first sign-off of a session asks
"Sign off as:", and each record keeps the name given and the login.
"""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QLabel

from bloodview.gui.signer import ALWAYS_LOGIN_KEY, LAST_NAME_KEY, MAX_NAME_LENGTH, PROMPT_KEY

pytestmark = pytest.mark.gui


@pytest.fixture
def bench(window, monkeypatch):
    """The window on a bench PC: login "labuser", no $BLOODVIEW_USER; the images have no cells
    (signing them off asks "sign it off as empty?": answered yes)."""
    monkeypatch.delenv("BLOODVIEW_USER", raising=False)
    monkeypatch.setenv("LOGNAME", "labuser")  # what getpass reads first
    window.prompts.answers["sign_off_empty"] = True
    return window


def signs(window) -> list[tuple[bool, str, str]]:
    return [(e.signed_off, e.by, e.login) for e in window.session.current_image.sign_off_history]


def line(window) -> str:
    return window.findChild(QLabel, "signerLine").text()


def test_the_first_sign_off_asks_who_and_records_the_name_beside_the_login(bench):
    window = bench
    assert "asks who is signing" in line(window) and window.acts["signer"].text() == "Sign off &as…"
    window.prompts.answers[PROMPT_KEY] = "  A.\t Smith  "  # spaces trimmed and squeezed
    assert window.review.sign_off()
    assert signs(window) == [(True, "A. Smith", "labuser")]
    assert window.session.current_image.last_sign_off.who == "A. Smith (login labuser)"
    assert "signed off by A. Smith (login labuser)" in window.status_label.text()
    assert "Signing as A. Smith (login labuser)" in line(window)
    assert window.acts["signer"].text() == "Signing &as A. Smith…"
    assert window.settings.value(LAST_NAME_KEY) == "A. Smith"


def test_the_name_holds_for_the_session_and_withdrawal_goes_under_the_signer_in_force(bench):
    window = bench
    window.prompts.answers[PROMPT_KEY] = "A. Smith"
    assert window.review.sign_off()
    window.prompts.answers[PROMPT_KEY] = "someone else"  # not asked again: this answer is not used
    window.review.step_image(1)
    assert window.review.sign_off() and signs(window) == [(True, "A. Smith", "labuser")]

    window.prompts.answers[PROMPT_KEY] = "B. Jones"  # the next technician of the shift takes over
    window.acts["signer"].trigger()
    assert window.acts["signer"].text() == "Signing &as B. Jones…" and "B. Jones" in line(window)
    assert window.review.sign_off()  # withdraws
    assert signs(window) == [(True, "A. Smith", "labuser"), (False, "B. Jones", "labuser")]
    assert "withdrawn by B. Jones (login labuser)" in window.status_label.text()


@pytest.mark.parametrize("answer", ["", "   ", "\t\n", None], ids=["empty", "spaces", "tab-newline", "cancel"])
def test_no_name_no_sign_off_and_nothing_else_is_asked(bench, answer):
    window = bench
    image = window.session.current_image
    del window.prompts.answers["sign_off_empty"]  # asked after the name: must not be reached
    window.prompts.answers[PROMPT_KEY] = answer
    assert not window.review.sign_off()
    assert not image.signed_off and image.sign_off_history == []
    assert "Not signed off: type your name or initials" in window.status_label.text()
    assert window.session.stack(0).count() == 0
    assert "asks who is signing" in line(window)  # still nobody
    window.prompts.answers.update({PROMPT_KEY: "A. Smith", "sign_off_empty": True})
    assert window.review.sign_off() and signs(window) == [(True, "A. Smith", "labuser")]


def test_a_very_long_name_is_cut(bench):
    window = bench
    window.prompts.answers[PROMPT_KEY] = "Dr. " + "Bartholomew-" * 10 + " Smith"
    assert window.review.sign_off()
    by = window.session.current_image.last_sign_off.by
    assert len(by) == MAX_NAME_LENGTH and by.startswith("Dr. Bartholomew-Bartholomew-")


def test_an_ampersand_in_a_name_is_shown_not_taken_as_a_menu_key(bench):
    window = bench
    window.prompts.answers[PROMPT_KEY] = "Smith & <b>Jones</b>"
    assert window.review.sign_off()
    assert window.acts["signer"].text() == "Signing &as Smith && <b>Jones</b>…"
    assert "Smith &amp; &lt;b&gt;Jones" in line(window)  # shown as typed, not as markup


def test_undo_takes_the_record_out_and_redo_puts_the_same_name_back(bench):
    window = bench
    window.prompts.answers[PROMPT_KEY] = "A. Smith"
    assert window.review.sign_off()
    window.prompts.answers[PROMPT_KEY] = "B. Jones"  # a redo is not a new sign-off: nobody is asked
    window.session.stack(0).undo()
    assert signs(window) == [] and not window.session.current_image.signed_off
    window.session.stack(0).redo()
    assert signs(window) == [(True, "A. Smith", "labuser")]


def test_bloodview_user_set_by_it_wins_and_nobody_is_asked(bench, monkeypatch):
    window = bench
    monkeypatch.setenv("BLOODVIEW_USER", "  hema-bench-2 ")
    window.prompts.answers[PROMPT_KEY] = "A. Smith"  # not asked
    assert window.review.sign_off() and signs(window) == [(True, "hema-bench-2", "labuser")]
    window.acts["signer"].trigger()  # says where the name comes from instead of asking
    assert "BLOODVIEW_USER" in window.prompts.messages[-1][1]
    assert signs(window) == [(True, "hema-bench-2", "labuser")]


def test_always_sign_as_my_login_name_is_remembered_on_this_pc(bench, make_window, smears, tmp_path,
                                                               monkeypatch):
    window = bench
    monkeypatch.setenv("LOGNAME", "asmith")  # a person alone on a login of their own
    window.prompts.answers[PROMPT_KEY] = ("ignored", True)
    assert window.review.sign_off() and signs(window) == [(True, "asmith", "asmith")]
    assert window.session.current_image.last_sign_off.who == "asmith"  # no "(login asmith)" twice
    assert "always the login name" in line(window)
    window.settings.sync()

    again = make_window()  # the next session on this PC (same settings file)
    assert again.files.open([smears])
    again.prompts.answers.update({"sign_off_empty": True, PROMPT_KEY: "not asked"})
    assert again.review.sign_off() and signs(again) == [(True, "asmith", "asmith")]
    # switched off again in the same question: the person is asked once more
    again.prompts.answers[PROMPT_KEY] = ("A. Smith", False)
    again.acts["signer"].trigger()
    assert again.review.sign_off() and signs(again)[-1] == (False, "A. Smith", "asmith")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert str(settings.value(ALWAYS_LOGIN_KEY)).lower() == "false"


def test_the_next_session_suggests_the_last_name_used_on_this_pc(bench, make_window, smears):
    window = bench
    window.prompts.answers[PROMPT_KEY] = "A. Smith"
    assert window.review.sign_off()
    window.settings.sync()
    again = make_window()
    assert again.files.open([smears])
    again.prompts.answers["sign_off_empty"] = True
    assert again.review.signer.suggestion() == "A. Smith"
    assert again.review.sign_off()  # non-interactive: takes the suggestion, never blocks
    assert signs(again) == [(True, "A. Smith", "labuser")]


def test_the_review_panel_line_changes_the_signer(bench):
    window = bench
    label = window.findChild(QLabel, "signerLine")
    assert label.isVisible() and label.parent() is window.queue
    window.prompts.answers[PROMPT_KEY] = "C. Lee"
    label.linkActivated.emit("change")
    assert "Signing as C. Lee (login labuser)" in label.text() and "Change…" in label.text()
    QTest.keyClick(window.canvas, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Enter
    assert signs(window) == [(True, "C. Lee", "labuser")]
