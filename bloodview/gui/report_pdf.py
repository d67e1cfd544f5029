"""The differential report as a PDF a lab prints, files and signs (Qt's text engine).

A printed page must stand on its own once the pages of a stack are apart: every page
carries a footer that names the report (``report-id``, see :func:`report_id_of`) and says
"page n of m", and every page of a DRAFT says so: the first in its title and a box under it,
each later one in a boxed band at its top, all of them in a large grey "DRAFT" behind the
text (``QTextDocument.print`` marks no page after the first). Black and grey on white: the
marks survive a black-and-white printer and a photocopy.

The paper is the one the lab's printer takes: US Letter where the locale's paper is Letter
(the United States, Canada, Mexico…), A4 elsewhere (:func:`locale_page_size`); an A4 page
sent to a Letter printer loses its last 18 mm, the footer with it. Margins (18 mm on the
left for punching and filing, 10-12 mm elsewhere) keep the band and footer off the strip
that printers cannot print (about 5 mm; before, the footer sat 3.6 mm from the edge).
A character no installed font has is printed as its code, not as an empty box.
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

from PyQt6.QtCore import QLocale, QMarginsF, QRectF, Qt
from PyQt6.QtGui import (QColor, QFont, QFontDatabase, QFontMetricsF, QPageLayout, QPageSize, QPainter,
                         QPdfWriter, QPen, QRawFont, QTextDocument)

from bloodview.gui.report_paging import Page, paginate

logger = logging.getLogger(__name__)

DRAFT = "DRAFT"
DRAFT_BAND = "DRAFT — not a final report"
MARGINS_MM = QMarginsF(18, 10, 12, 10)  # left, top, right, bottom
RESOLUTION = 150  # dots per inch the document is laid out at

# Territories whose paper is US Letter although QLocale calls their system metric.
_LETTER_TERRITORIES = {
    QLocale.Country.UnitedStates, QLocale.Country.Canada, QLocale.Country.Mexico,
    QLocale.Country.Philippines, QLocale.Country.Chile, QLocale.Country.Colombia,
    QLocale.Country.Venezuela, QLocale.Country.PuertoRico, QLocale.Country.Guatemala,
    QLocale.Country.CostaRica, QLocale.Country.Panama, QLocale.Country.DominicanRepublic,
}
_REPORT_ID = re.compile(r'<meta name="report-id" content="([^"]*)">')


def locale_page_size(locale: QLocale | None = None) -> QPageSize:
    """US Letter where ``locale`` (default: the application's, which follows the system's) prints
    on Letter, else A4."""
    locale = QLocale() if locale is None else locale
    letter = (locale.measurementSystem() == QLocale.MeasurementSystem.ImperialUSSystem
              or locale.territory() in _LETTER_TERRITORIES)
    return QPageSize(QPageSize.PageSizeId.Letter if letter else QPageSize.PageSizeId.A4)


def report_id_of(text_html: str) -> str:
    """What identifies the report on every page (its ``<meta name="report-id">``), or ``""``."""
    found = _REPORT_ID.search(text_html)
    return html.unescape(found.group(1)) if found else ""


def unprintable_characters(text: str) -> set[str]:
    """The characters of ``text`` that no installed font can draw (they would print as empty
    boxes: an image named 東京.png on a computer without Japanese fonts)."""
    wanted = {ch for ch in text if ord(ch) > 127 and not ch.isspace()}
    if not wanted:
        return set()
    fonts = [QRawFont.fromFont(QFont(family)) for family in QFontDatabase.families()]
    return {ch for ch in wanted if not any(font.supportsCharacter(ord(ch)) for font in fonts)}


def spell_unprintable(text_html: str, path: Path) -> str:
    """``text_html`` with each character no installed font has written as its code (``[U+6771]``),
    so that the printout still tells the files apart; logged as a warning."""
    missing = unprintable_characters(text_html)
    if not missing:
        return text_html
    logger.warning("%s: no installed font has %s; printed as their codes (install a font that has them)",
                   path, " ".join(sorted(missing)))
    return "".join(f"[U+{ord(ch):04X}]" if ch in missing else ch for ch in text_html)


def write_pdf(path: Path, text_html: str, page_size: QPageSize | None = None) -> None:
    """Render the report's HTML to a PDF on ``page_size`` (default :func:`locale_page_size`).

    Needs a QGuiApplication. The document title (DRAFT or not) comes from the HTML's
    ``<title>``; a title starting with "DRAFT" marks every page as a draft."""
    path = Path(path)
    writer = QPdfWriter(str(path))
    writer.setPageLayout(QPageLayout(page_size or locale_page_size(), QPageLayout.Orientation.Portrait,
                                     MARGINS_MM, QPageLayout.Unit.Millimeter))
    writer.setResolution(RESOLUTION)
    text_html = spell_unprintable(text_html, path)
    document = QTextDocument()
    document.documentLayout().setPaintDevice(writer)  # fonts laid out at the PDF's resolution
    document.setHtml(text_html)
    title = document.metaInformation(QTextDocument.MetaInformation.DocumentTitle)
    writer.setTitle(title)
    writer.setCreator("bloodview")
    draft = title.startswith(DRAFT)
    area = writer.pageLayout().paintRectPixels(writer.resolution())
    line = QFontMetricsF(document.defaultFont(), writer).height()
    header = 2.0 * line if draft else 0.0
    identity = report_id_of(text_html)
    footer_lines = _footer_lines(QFontMetricsF(document.defaultFont(), writer), area.width(), identity,
                                 f"{title} — page 999 of 999")
    footer = (footer_lines + 0.4) * line
    width = area.width()
    pages = paginate(document, width, area.height() - header - footer - line / 2, first_page_extra=header)
    painter = QPainter(writer)
    if not painter.isActive():
        raise OSError(f"{path}: the PDF could not be written (is the folder writable?)")
    try:
        for index, page in enumerate(pages):
            if index:
                writer.newPage()
            if draft:  # page 1 opens with the DRAFT title and box: the band is for the pages after it
                _draft_marks(painter, document.defaultFont(), width, area.height(), header if index else 0.0)
            _draw_page(painter, document, page, width, header if index else 0.0)
            _footer(painter, document.defaultFont(), QRectF(0, area.height() - footer, width, footer),
                    identity, f"{title} — page {index + 1} of {len(pages)}")
    finally:
        painter.end()
    if not path.exists():
        raise OSError(f"{path}: the PDF could not be written")


def _draw_page(painter: QPainter, document: QTextDocument, page: Page, width: float, top: float) -> None:
    """The document band of ``page`` from ``top`` down, under its repeated table header if any."""
    if page.header is not None:
        painter.save()
        painter.translate(0, top - page.header.top())
        document.drawContents(painter, QRectF(0, page.header.top(), width, page.header.height()))
        painter.restore()
        top += page.header.height()
    painter.save()
    painter.translate(0, top - page.top)
    document.drawContents(painter, QRectF(0, page.top, width, page.bottom - page.top))
    painter.restore()


def _draft_marks(painter: QPainter, font: QFont, width: float, height: float, header: float) -> None:
    """A large grey DRAFT behind the text and, where ``header`` > 0, a boxed "DRAFT — not a final
    report" band at the top."""
    painter.save()
    big = QFont(font)
    big.setBold(True)
    big.setPixelSize(int(width / 5))
    painter.setFont(big)
    painter.setPen(QColor(225, 225, 225))
    painter.translate(width / 2, height / 2)
    painter.rotate(-45)
    painter.drawText(QRectF(-width, -width / 4, 2 * width, width / 2), int(Qt.AlignmentFlag.AlignCenter), DRAFT)
    painter.restore()
    if header <= 0:
        return
    painter.save()
    band = QRectF(0, 0, width, header * 0.75)
    painter.setPen(QPen(QColor(0, 0, 0), max(2.0, header / 20)))
    painter.drawRect(band)
    bold = QFont(font)
    bold.setBold(True)
    bold.setPixelSize(int(band.height() * 0.55))
    painter.setFont(bold)
    painter.drawText(band, int(Qt.AlignmentFlag.AlignCenter), DRAFT_BAND)
    painter.restore()


def _footer_lines(metrics: QFontMetricsF, width: float, identity: str, page_text: str) -> int:
    """1 when the identity and the page text fit side by side on one line, else 2."""
    gap = metrics.averageCharWidth() * 4
    return 1 if metrics.horizontalAdvance(identity) + gap + metrics.horizontalAdvance(page_text) <= width else 2


def _footer(painter: QPainter, font: QFont, rect: QRectF, identity: str, page_text: str) -> None:
    """Under a rule: the report's identity at the left (shortened in the middle if too long), the
    title and "page n of m" at the right — on the same line where both fit, else on the next."""
    painter.save()
    painter.setFont(font)
    painter.setPen(QColor(0, 0, 0))
    painter.drawLine(rect.topLeft(), rect.topRight())
    metrics = QFontMetricsF(font, painter.device())
    bottom = Qt.AlignmentFlag.AlignBottom
    if _footer_lines(metrics, rect.width(), identity, page_text) == 1:
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | bottom), identity)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignRight | bottom), page_text)
    else:
        upper = QRectF(rect.left(), rect.top(), rect.width(), rect.height() - metrics.height())
        shown = metrics.elidedText(identity, Qt.TextElideMode.ElideMiddle, rect.width())
        painter.drawText(upper, int(Qt.AlignmentFlag.AlignLeft | bottom), shown)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignRight | bottom), page_text)
    painter.restore()
