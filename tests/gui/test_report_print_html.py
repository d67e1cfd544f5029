"""The HTML report printed from a browser: DRAFT in every page's top margin, table headers repeated.

Before, a browser's printout of a draft said DRAFT only on its first page, and a class table
running onto the next page lost its header (the tables had no <thead>).
"""

from __future__ import annotations

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.report import report_html

MARGIN_DRAFT = "@page { @top-center { content: 'DRAFT — not a final report'"


def _dataset(final: bool) -> Dataset:
    cell = Instance([rectangle(0, 0, 8, 8)], "neutrophil", score=0.9, source=Source.MODEL, reviewed=final)
    return Dataset([ImageAnnotation("a.png", 64, 48, [cell], signed_off=final)])


def test_a_drafts_html_prints_draft_on_every_page_and_repeats_table_headers():
    dataset = _dataset(final=False)
    text = report_html(dataset, dataset.images, 0.75)
    assert MARGIN_DRAFT in text
    assert "thead { display: table-header-group; }" in text
    assert text.count("<thead><tr><th>Class</th>") == 2  # the white-cell and the other-cell tables


def test_a_final_reports_html_has_no_draft_margin():
    dataset = _dataset(final=True)
    text = report_html(dataset, dataset.images, 0.75)
    assert "DRAFT" not in text and "<thead>" in text
