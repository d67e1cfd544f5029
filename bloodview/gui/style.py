"""Small shared look-and-feel helpers: icons (QtAwesome) and class colour swatches."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from functools import lru_cache

from PyQt6.QtGui import QColor, QIcon, QPalette, QPixmap

from bloodview.core.classes import CellClass

WARNING_COLOUR = "#c98a00"
OK_COLOUR = "#2e7d32"


@lru_cache(maxsize=128)
def icon(name: str, color: str | None = None) -> QIcon:
    """A QtAwesome icon (cached; QtAwesome icons are slowish to build)."""
    import qtawesome as qta

    return qta.icon(name, color=color) if color else qta.icon(name)


def text_colour(widget) -> str:
    """``widget``'s text colour ("#rrggbb"), from its palette: light in a dark theme, dark in a light one.

    Grey icons with fixed colours (#555555 for "every cell checked") nearly vanished on a dark
    theme's list background; colours taken from the palette follow the theme."""
    return widget.palette().color(QPalette.ColorRole.Text).name()


def muted_colour(widget) -> str:
    """Between ``widget``'s text and background colours: for a mark that should not stand out but
    must still be seen (about 4.5:1 against the background in both light and dark themes)."""
    palette = widget.palette()
    text, base = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base)
    mix = [round(0.65 * a + 0.35 * b) for a, b in zip(text.getRgb()[:3], base.getRgb()[:3])]
    return QColor(*mix).name()


def blank_icon(size) -> QIcon:
    """A transparent icon of ``size``: holds a button's place until its QtAwesome icon is set, so
    the button does not grow by 2 px then and squeeze the dock it sits in (the window lays its docks
    out before the icons come)."""
    pixmap = QPixmap(size)
    pixmap.fill(QColor(0, 0, 0, 0))
    return QIcon(pixmap)


def swatch(cell_class: CellClass, size: int = 14) -> QIcon:
    return QIcon(swatch_pixmap(cell_class.color, size))


@lru_cache(maxsize=128)
def swatch_pixmap(rgb: tuple[int, int, int], size: int = 14) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*rgb))
    return pixmap


READABLE_CLASS = "Monocyte"
"""A class name of typical length: the class column of a table is never narrower than this text."""
CELL_PADDING_PX = 16
"""What a table cell adds around its text (margins, grid line), for :func:`readable_width`."""


def readable_width(table, samples: Sequence[str], marks: int = 1) -> int:
    """Pixels ``table`` needs to show each column's ``samples`` text whole, in its font.

    ``marks``: icons or check boxes in front of the first column's text (a class swatch, a tick).
    Why: a dock keeps its width when the system font is larger, and the stretching class column
    took what the number columns left: at 14 pt the Cells dock showed swatches without a class name
    and the count "B…", "E…". A table whose minimum width is this makes its dock wider instead.
    """
    metrics = table.fontMetrics()
    header = table.horizontalHeader()
    mark = marks * (table.iconSize().width() if table.iconSize().isValid() else 16) + marks * 6
    width = 2 * table.frameWidth() + table.verticalScrollBar().sizeHint().width()
    for column, sample in enumerate(samples):
        text = metrics.horizontalAdvance(sample) + CELL_PADDING_PX + (mark if column == 0 else 0)
        width += max(text, header.sectionSizeHint(column))
    return width


def keep_readable(table, samples: Sequence[str], marks: int = 1) -> None:
    """Set ``table``'s minimum width to :func:`readable_width` (see there for why)."""
    table.setMinimumWidth(readable_width(table, samples, marks))


SCREEN_MARGIN = (20, 60)
"""Room a dialog leaves on its screen (width, height): its frame, title bar and the taskbar's edge."""


def resize_within_screen(widget, width: int, height: int) -> None:
    """``widget.resize(width, height)``, no larger than the free area of the screen it is on.

    The Retrain dialog opened 900 px tall: on a 1366 x 768 laptop its buttons (Start, Use the new
    model) were below the screen's edge, out of reach of the mouse."""
    screen = widget.screen()
    if screen is not None:
        free = screen.availableGeometry()
        width = min(width, free.width() - SCREEN_MARGIN[0])
        height = min(height, free.height() - SCREEN_MARGIN[1])
    widget.resize(max(width, 1), max(height, 1))


def compact_table(table, stretch: int = 0) -> None:
    """Tight rows, no row numbers, column ``stretch`` takes the spare width, others fit."""
    from PyQt6.QtWidgets import QAbstractItemView, QHeaderView

    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(22)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    header = table.horizontalHeader()
    for column in range(table.columnCount()):
        mode = QHeaderView.ResizeMode.Stretch if column == stretch else QHeaderView.ResizeMode.ResizeToContents
        header.setSectionResizeMode(column, mode)


@contextmanager
def bulk_fill(table):
    """Fill a table fast: ResizeToContents columns re-measure on *every* setItem (quadratic)."""
    from PyQt6.QtWidgets import QHeaderView

    header = table.horizontalHeader()
    modes = [header.sectionResizeMode(c) for c in range(table.columnCount())]
    for column in range(table.columnCount()):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
    table.setUpdatesEnabled(False)
    try:
        yield table
    finally:
        for column, mode in enumerate(modes):
            header.setSectionResizeMode(column, mode)
        table.setUpdatesEnabled(True)


def class_label(cell_class: CellClass) -> str:
    key = f"  [{cell_class.key}]" if cell_class.key else ""
    return f"{cell_class.display_name}{key}"
