"""Small shared look-and-feel helpers: icons (QtAwesome) and class colour swatches."""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

from PyQt6.QtGui import QColor, QIcon, QPixmap

from bloodview.core.classes import CellClass

WARNING_COLOUR = "#c98a00"
OK_COLOUR = "#2e7d32"


@lru_cache(maxsize=128)
def icon(name: str, color: str | None = None) -> QIcon:
    """A QtAwesome icon (cached; QtAwesome icons are slowish to build)."""
    import qtawesome as qta

    return qta.icon(name, color=color) if color else qta.icon(name)


def swatch(cell_class: CellClass, size: int = 14) -> QIcon:
    return QIcon(swatch_pixmap(cell_class.color, size))


@lru_cache(maxsize=128)
def swatch_pixmap(rgb: tuple[int, int, int], size: int = 14) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*rgb))
    return pixmap


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
