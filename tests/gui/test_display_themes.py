"""The window in a dark desktop theme (Windows or GNOME set to dark): marks drawn in fixed colours
must still be seen on the theme's backgrounds."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QSize
from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication

pytestmark = pytest.mark.gui

DARK = {QPalette.ColorRole.Window: "#2b2b2b", QPalette.ColorRole.WindowText: "#e0e0e0",
        QPalette.ColorRole.Base: "#1e1e1e", QPalette.ColorRole.AlternateBase: "#2b2b2b",
        QPalette.ColorRole.Text: "#e0e0e0", QPalette.ColorRole.Button: "#353535",
        QPalette.ColorRole.ButtonText: "#e0e0e0", QPalette.ColorRole.Highlight: "#2a82da",
        QPalette.ColorRole.HighlightedText: "#ffffff"}


@pytest.fixture
def dark_theme(qapp):
    """A dark application palette, as a desktop's dark theme gives Qt; the usual one after the test."""
    before = QPalette(qapp.palette())
    palette = QPalette(before)
    for role, colour in DARK.items():
        palette.setColor(role, QColor(colour))
    QApplication.setPalette(palette)
    yield palette
    QApplication.setPalette(before)


def luminance(colour: QColor) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(colour.red()) + 0.7152 * channel(colour.green()) + 0.0722 * channel(colour.blue())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio (1 to 21); 3:1 is the least for a mark a person must notice."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def icon_contrast(icon, background: QColor) -> float:
    """The contrast of an icon's strongest opaque pixel against ``background``."""
    image = icon.pixmap(QSize(16, 16)).toImage()
    pixels = [image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())]
    return max(contrast(p, background) for p in pixels if p.alpha() > 200)


def test_image_list_marks_are_seen_in_a_dark_theme(dark_theme, make_window, smears, review_current):
    """Seen with a dark palette: the "every cell checked" mark of the Images list was #555555 on the
    #1e1e1e list, 2.2:1, next to invisible: an image ready to sign off looked like any other."""
    window = make_window()
    assert window.files.open([smears])
    review_current(window)
    panel = window.image_list
    panel.rebuild()
    base = panel.list.palette().color(QPalette.ColorRole.Base)
    assert base.lightness() < 60  # the dark theme is in force
    current = window.session.current_index
    checked, plain = panel.list.item(current).icon(), panel.list.item(current + 1).icon()
    assert icon_contrast(checked, base) >= 4.5
    assert icon_contrast(plain, base) >= 3
