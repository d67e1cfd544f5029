"""Where the printed report's pages break: never through a line of text or a table row.

Qt's own pagination (``QTextDocument.setPageSize``) lets the first line after a table run
across a page boundary, so a heading was printed half at the foot of one page and half at the
head of the next. Here the document is laid out as one long page and the breaks are chosen
from its lines and table rows: a page ends above the first line or row that would not fit, and
a table that goes on to the next page gets its header rows drawn again at the top there.
Only a single line or row taller than a whole page is cut.
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QTextCursor, QTextDocument, QTextTable


@dataclass(frozen=True)
class Unit:
    """A piece that must stay on one page: ``top``/``bottom`` in document pixels; ``header`` the
    table header to repeat when a page breaks before this table row (``None`` otherwise);
    ``keep_with_next`` for a heading or a table's header row, never left alone at a page's foot."""

    top: float
    bottom: float
    header: QRectF | None = None
    keep_with_next: bool = False


@dataclass(frozen=True)
class Page:
    """The document band ``top``..``bottom`` a page shows, under ``header`` (a table header) if any."""

    top: float
    bottom: float
    header: QRectF | None = None


def _tables(document: QTextDocument) -> list[QTextTable]:
    found, frames = [], list(document.rootFrame().childFrames())
    while frames:
        frame = frames.pop()
        if isinstance(frame, QTextTable):
            found.append(frame)
        frames.extend(frame.childFrames())
    return found


def _block_span(document: QTextDocument, block) -> tuple[float, float]:
    rect = document.documentLayout().blockBoundingRect(block)
    layout = block.layout()
    if layout.lineCount() == 0:
        return rect.top(), rect.bottom()
    first, last = layout.lineAt(0), layout.lineAt(layout.lineCount() - 1)
    return rect.top() + first.y(), rect.top() + last.y() + last.height()


def _row_spans(document: QTextDocument, table: QTextTable) -> list[tuple[float, float]]:
    spans = []
    for row in range(table.rows()):
        tops, bottoms = [], []
        for column in range(table.columns()):
            cell = table.cellAt(row, column)
            block = cell.firstCursorPosition().block()
            end = cell.lastCursorPosition().block()
            while block.isValid():
                top, bottom = _block_span(document, block)
                tops.append(top)
                bottoms.append(bottom)
                if block == end:
                    break
                block = block.next()
        spans.append((min(tops), max(bottoms)))
    return spans


def layout_units(document: QTextDocument) -> list[Unit]:
    """The lines outside tables and the table rows of ``document`` (laid out without pages), by top."""
    units: list[Unit] = []
    for table in _tables(document):
        spans = _row_spans(document, table)
        heads = table.format().headerRowCount()
        frame = document.documentLayout().frameBoundingRect(table)
        header = None
        if 0 < heads < len(spans):
            pad = table.format().cellPadding() + table.format().cellSpacing()
            top, below = spans[0][0] - pad, spans[heads][0] - 1  # down to the next row's text: the rule too
            header = QRectF(frame.left(), top, frame.width(), below - top)
        units.extend(Unit(top, bottom, header if row >= heads else None, row < heads)
                     for row, (top, bottom) in enumerate(spans))
    block = document.begin()
    while block.isValid():
        if QTextCursor(block).currentTable() is None:
            rect = document.documentLayout().blockBoundingRect(block)
            layout = block.layout()
            heading = block.blockFormat().headingLevel() > 0
            for index in range(layout.lineCount()):
                line = layout.lineAt(index)
                units.append(Unit(rect.top() + line.y(), rect.top() + line.y() + line.height(), None, heading))
        block = block.next()
    return sorted(units, key=lambda unit: (unit.top, unit.bottom))


def paginate(document: QTextDocument, width: float, height: float, first_page_extra: float = 0.0) -> list[Page]:
    """Lay ``document`` out ``width`` pixels wide and cut it into pages ``height`` pixels tall
    (the first ``first_page_extra`` pixels taller: no band at its top)."""
    document.setPageSize(QRectF(0, 0, width, -1).size())  # one long page: no breaks of Qt's own
    end = document.size().height()
    units = layout_units(document)
    pages: list[Page] = []
    top, header, index = 0.0, None, 0
    while index < len(units):
        unit = units[index]
        if header is not None and header.height() > height / 2:
            header = None  # a header that would leave no room is not repeated
        room = height - (header.height() if header is not None else 0.0) + (0.0 if pages else first_page_extra)
        if unit.bottom <= top + room:
            index += 1
            continue
        first = index  # headings and table headers go to the next page with what follows them
        while first > 0 and units[first - 1].keep_with_next and units[first - 1].top > top + 0.5:
            first -= 1
        cut = min(units[first].top, top + room)
        if cut <= top + 0.5:  # the page would hold nothing new
            cut = min(unit.top, top + room)
        if cut <= top + 0.5:  # a line or row taller than a page: cut through it
            cut = top + max(room, 1.0)
        repeat = unit.header if unit.header is not None and unit.header.bottom() <= cut + 0.5 else None
        pages.append(Page(top, cut, header))
        top, header = cut, repeat
    if end > top + 0.5 or not pages:
        pages.append(Page(top, max(end, top), header))
    return pages
