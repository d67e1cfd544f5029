"""The toolbar on a narrow lab-PC screen: Detect and Cancel stay in view.

Seen at a 14 pt system font on a 1366 x 768 laptop (and at 1280 px): the toolbar was wider than the
window and Qt moved its last buttons, Detect and Cancel detection, into the "»" overflow menu: Cancel
was out of sight just when a detection of 300 images had been started by mistake."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QToolBar

pytestmark = pytest.mark.gui


def toolbar_at(window, qtbot, width: int) -> QToolBar:
    window.resize(width, 700)
    qtbot.wait(150)  # the icons are set after the first paint, and the bar fits itself after that
    return window.findChild(QToolBar, "mainToolbar")


def out_of_sight(bar: QToolBar) -> list[str]:
    """The toolbar's actions Qt moved into its overflow menu (their buttons hidden)."""
    return [a.objectName() for a in bar.actions()
            if bar.widgetForAction(a) is not None and not bar.widgetForAction(a).isVisible()]


@pytest.mark.parametrize("width", [1366, 1280])
def test_detect_and_cancel_stay_in_view_with_a_14_pt_font(app_font, make_window, qtbot, width):
    app_font(14)
    window = make_window()
    bar = toolbar_at(window, qtbot, width)
    for name in ("detect", "cancel_detect"):
        button = bar.widgetForAction(window.acts[name])
        assert button.isVisible(), name
        assert button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon  # "Cancel" in words
        assert button.geometry().right() <= bar.width()
    assert out_of_sight(bar) == []  # at these widths the less vital buttons give up their text instead
    assert window.models.selector.isVisible()


def test_buttons_keep_their_text_where_it_fits(make_window, qtbot):
    """At the usual 9 pt font a 1366-px window has room for every text: none is given up."""
    window = make_window()
    bar = toolbar_at(window, qtbot, 1366)
    assert bar.icon_only() == []
    assert bar.widgetForAction(window.acts["open"]).toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon


def test_texts_come_back_when_the_window_widens(app_font, make_window, qtbot):
    app_font(14)
    window = make_window()
    bar = toolbar_at(window, qtbot, 1280)
    narrow = [a.objectName() for a in bar.icon_only()]
    assert narrow and "action_detect" not in narrow and "action_cancel_detect" not in narrow
    assert narrow[0] == "action_open"  # the least vital first
    bar = toolbar_at(window, qtbot, 1800)
    assert bar.icon_only() == []
    assert out_of_sight(bar) == []


def test_on_a_very_narrow_window_the_tools_go_to_the_overflow_menu_first(make_window, qtbot):
    """683 px: a 1366-px laptop at 200 %. Not everything fits; what Qt hides are the editing tools
    (they have keys and the Tools menu), never Detect or Cancel."""
    window = make_window()
    window.setMinimumWidth(0)
    bar = toolbar_at(window, qtbot, 683)
    hidden = out_of_sight(bar)
    assert "action_detect" not in hidden and "action_cancel_detect" not in hidden
    assert bar.widgetForAction(window.acts["cancel_detect"]).geometry().right() <= bar.width()


def test_a_larger_font_set_while_the_window_is_open_keeps_cancel_in_view(app_font, make_window, qtbot):
    window = make_window()
    bar = toolbar_at(window, qtbot, 1280)
    assert bar.icon_only() == []
    app_font(14)  # the desktop's text size changed under a running window
    qtbot.wait(100)
    assert out_of_sight(bar) == []
    assert bar.icon_only()


def test_a_toolbar_docked_at_the_side_keeps_its_words(app_font, make_window, qtbot):
    app_font(14)
    window = make_window()
    bar = toolbar_at(window, qtbot, 1280)
    assert bar.icon_only()
    window.addToolBar(Qt.ToolBarArea.LeftToolBarArea, bar)  # dragged to the left edge
    qtbot.wait(50)
    assert bar.icon_only() == []
