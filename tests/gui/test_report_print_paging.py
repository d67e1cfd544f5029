"""Page breaks of the printed report (bloodview.gui.report_paging): never through a line or a row,
never under a heading or a table header.

Qt's own pagination put the heading after a table across a page boundary (on A4 at 150 dpi the
"Fields and platelet estimate" heading of a three-image project ran from 1462 to 1495 px over a
break at 1470 px): half of it was printed at the foot of page 1, half at the head of page 2.
"""

from __future__ import annotations

import pytest

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.report import report_html

pytestmark = pytest.mark.gui


def _report(images: int) -> str:
    names = ["neutrophil", "lymphocyte", "monocyte", "platelet", "erythroblast"]
    cells = [Instance([rectangle(10 * k, 0, 10 * k + 8, 8)], names[k % 5], score=0.9, source=Source.MODEL)
             for k in range(12)]
    dataset = Dataset([ImageAnnotation(f"field {n:03d} with a rather long name.png", 640, 480,
                                       [c.copy() for c in cells]) for n in range(images)])
    return report_html(dataset, dataset.images, 0.75)


@pytest.mark.parametrize("images", [3, 40])
def test_every_line_and_table_row_lies_on_one_page(images, qtbot):
    from PyQt6.QtGui import QTextDocument

    from bloodview.gui.report_paging import layout_units, paginate

    text = _report(images)
    for height in range(250, 1500, 41):
        document = QTextDocument()
        document.setHtml(text)
        pages = paginate(document, 600, height)
        assert pages[0].top == 0 and all(a.bottom == b.top for a, b in zip(pages, pages[1:]))
        for page in pages:
            shown = page.bottom - page.top + (page.header.height() if page.header is not None else 0)
            assert shown <= height + 0.5, (height, page)
        for unit in layout_units(document):
            assert any(p.top - 0.5 <= unit.top and unit.bottom <= p.bottom + 0.5 for p in pages), (height, unit)


def test_a_table_broken_across_pages_repeats_its_header_and_never_leaves_it_alone(qtbot):
    from PyQt6.QtGui import QTextDocument

    from bloodview.gui.report_paging import layout_units, paginate

    document = QTextDocument()
    document.setHtml(_report(150))
    for height in range(250, 900, 23):
        pages = paginate(document, 600, height)
        units = layout_units(document)  # as paginate laid the document out
        kept = [(u, units[k + 1]) for k, u in enumerate(units[:-1]) if u.keep_with_next]  # headings, headers
        assert len(kept) >= 6 and any(u.header is not None for u in units)
        for unit, following in kept:  # never at the foot of a page without what follows it
            page = next(p for p in pages if p.top - 0.5 <= unit.top < p.bottom)
            assert following.bottom <= page.bottom + 0.5, (height, unit, following)
        for page in pages:  # a repeated header belongs to a table begun on an earlier page
            assert page.header is None or page.top > page.header.bottom() - 0.5


def test_a_page_too_small_for_a_row_still_ends(qtbot):
    """A row taller than the page is cut through rather than looping for ever."""
    from PyQt6.QtGui import QTextDocument

    from bloodview.gui.report_paging import paginate

    document = QTextDocument()
    document.setHtml(_report(3))
    pages = paginate(document, 600, 5)
    assert len(pages) > 10 and pages[-1].bottom >= document.size().height() - 0.5
