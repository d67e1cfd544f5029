"""The status bar's message ends in "…" where it does not fit, and keeps its whole text."""

from __future__ import annotations

from bloodview.gui.elided_label import ElidedLabel

LONG = ("Detection finished: 33 cells found in 15 image(s); 0 checked cells kept; glass colour of 15 image(s) "
        "outside the model's training range, balanced for detection (another lab's lamp)")


def test_a_message_too_long_for_the_label_is_shortened_with_an_ellipsis_not_cut_mid_word(qtbot):
    label = ElidedLabel(LONG)
    qtbot.addWidget(label)
    label.resize(300, 24)
    label.show()
    shown = label.shown_text()
    assert shown.endswith("…") and LONG.startswith(shown[:-1]) and len(shown) < len(LONG)
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    assert label.text() == LONG  # the whole message stays readable (tests, tooltip)
    label.resize(label.fontMetrics().horizontalAdvance(LONG) + 20, 24)
    assert label.shown_text() == LONG


def test_the_window_status_label_elides(make_window):
    window = make_window()
    window.show_status(LONG * 3)
    assert isinstance(window.status_label, ElidedLabel)
    assert window.status_label.shown_text().endswith("…") and window.status_label.toolTip() == LONG * 3
    assert window.status_label.width() < window.width()  # the message never pushes the window wider
