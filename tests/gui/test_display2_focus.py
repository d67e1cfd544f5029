"""Where the keys go: the widget with the keyboard focus is framed in the palette's highlight colour.

Seen with screenshots under Fusion (light and dark palettes): the canvas, the differential's scope
combo and the Cells list / review queue of a fresh image looked exactly the same focused or not, so a
technician working with the keyboard only could not tell where a key would land."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor, QImage, QPalette
from PyQt6.QtWidgets import QApplication, QWidget

from bloodview.gui.focus_ring import RING_PX, FocusRing
from bloodview.gui.qt_image import qimage_to_numpy

pytestmark = pytest.mark.gui

DARK = {QPalette.ColorRole.Window: "#2b2b2b", QPalette.ColorRole.WindowText: "#e0e0e0",
        QPalette.ColorRole.Base: "#1e1e1e", QPalette.ColorRole.Text: "#e0e0e0",
        QPalette.ColorRole.Button: "#353535", QPalette.ColorRole.ButtonText: "#e0e0e0",
        QPalette.ColorRole.Highlight: "#2a82da", QPalette.ColorRole.HighlightedText: "#ffffff"}


@pytest.fixture(params=["light", "dark"])
def theme(request, qapp):
    before = QPalette(qapp.palette())
    if request.param == "dark":
        palette = QPalette(before)
        for role, colour in DARK.items():
            palette.setColor(role, QColor(colour))
        QApplication.setPalette(palette)
    yield request.param
    QApplication.setPalette(before)


def targets(window) -> dict[str, QWidget]:
    return {"canvas": window.canvas, "cells": window.findChild(QWidget, "instanceList"),
            "queue": window.findChild(QWidget, "reviewQueue"), "legend": window.findChild(QWidget, "classLegend"),
            "scope": window.differential.scope}


def focus(window, widget: QWidget, qtbot) -> None:
    window.activateWindow()
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=2000)
    qtbot.wait(10)


def edge_in_highlight(window, widget: QWidget) -> float:
    """Share of the widget's outermost ring of pixels, as the window shows it, in the highlight colour."""
    shown = qimage_to_numpy(widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)).astype(int)
    highlight = widget.palette().color(QPalette.ColorRole.Highlight)
    target = np.array([highlight.red(), highlight.green(), highlight.blue()])
    edge = np.concatenate([shown[0], shown[-1], shown[:, 0], shown[:, -1]])
    return float((np.abs(edge - target).sum(axis=1) < 40).mean())


def test_the_focused_widget_is_framed_in_the_highlight_colour(theme, make_window, smears, qtbot):
    window = make_window()
    assert window.files.open([smears])
    widgets = targets(window)
    for name, widget in widgets.items():
        focus(window, widget, qtbot)
        assert edge_in_highlight(window, widget) > 0.95, (theme, name)
        for other_name, other in widgets.items():  # one frame: only where the keys go
            if other is not widget:
                assert edge_in_highlight(window, other) < 0.5, (theme, name, other_name)


def test_the_ring_leaves_the_image_and_the_export_alone(make_window, smears, qtbot):
    """The frame is the canvas's outer 2 px, and "Export view as PNG" (its viewport) never has it."""
    window = make_window()
    assert window.files.open([smears])
    focus(window, window.image_list.list, qtbot)
    exported_unfocused = qimage_to_numpy(window.canvas.render_view())
    focus(window, window.canvas, qtbot)
    ring = window.canvas.findChild(FocusRing)
    assert ring is not None and ring.isVisible()
    assert ring.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # clicks reach the canvas
    assert ring.mask().boundingRect() == window.canvas.rect()
    assert not ring.mask().contains(window.canvas.rect().adjusted(RING_PX, RING_PX, -RING_PX, -RING_PX).topLeft())
    np.testing.assert_array_equal(qimage_to_numpy(window.canvas.render_view()), exported_unfocused)


def test_the_ring_follows_a_resize_and_leaves_with_the_focus(make_window, qtbot):
    window = make_window()
    cells = window.findChild(QWidget, "instanceList")
    focus(window, cells, qtbot)
    window.resize(window.width() + 120, window.height())
    qtbot.wait(20)
    ring = cells.findChild(FocusRing)
    assert ring.geometry() == cells.rect()
    focus(window, window.queue.threshold, qtbot)  # a spin box frames itself: no second frame
    qtbot.wait(10)
    assert window.focus_marker.ring is None
    assert edge_in_highlight(window, cells) < 0.5
