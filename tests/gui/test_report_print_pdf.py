"""The printed differential report (bloodview.gui.report_pdf): paper, margins, DRAFT on every page.

What a lab lead meets when printing the PDF: the footer (DRAFT, "page n of m") sat 3.6 mm from
the paper's edge, inside the strip printers cannot print; the paper was A4 even for a US Letter
printer (whose pages then lost their last 18 mm, footer included); pages after the first said
DRAFT only in that small footer; a table running onto a second page lost its header.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.report import report_html, write_report

pytestmark = pytest.mark.gui

MM_PER_POINT = 25.4 / 72
WHEN = dt.datetime(2026, 12, 7, 18, 45, tzinfo=dt.timezone.utc)


def _cell(name: str, k: int = 0) -> Instance:
    return Instance([rectangle(10 * k, 0, 10 * k + 8, 8)], name, score=0.9, source=Source.MODEL,
                    origin="resnet50-pbc@2026-11-25")


def _project(tmp_path, images: int = 150, signed: int = 0) -> Dataset:
    cells = [_cell(n, k) for k, n in enumerate(["neutrophil"] * 5 + ["lymphocyte"] * 2 + ["platelet"] * 4)]
    dataset = Dataset([ImageAnnotation(f"field_{n:03d}.jpg", 640, 480, [c.copy() for c in cells])
                       for n in range(images)], root=tmp_path / "smears 2026-12-07")
    for image in dataset.images[:signed]:
        for cell in image.instances:
            cell.reviewed = True
        image.signed_off = True
    return dataset


def _pdf(path):
    from PyQt6.QtPdf import QPdfDocument

    document = QPdfDocument(None)
    assert document.load(str(path)) == QPdfDocument.Error.None_
    return document


def _text(document, page: int) -> str:
    return "".join(document.getAllText(page).text().split())


def test_every_page_keeps_its_text_clear_of_the_unprintable_edge(tmp_path, qtbot):
    path = tmp_path / "count.pdf"
    write_report(path, report_html(_project(tmp_path), _project(tmp_path).images, 0.75, generated=WHEN))
    document = _pdf(path)
    assert document.pageCount() > 1
    for page in range(document.pageCount()):
        size = document.pagePointSize(page)
        box = document.getAllText(page).boundingRectangle()  # page points, top-left origin
        edges_mm = [box.left(), box.top(), size.width() - box.right(), size.height() - box.bottom()]
        # before: 9.3, 4.6, 3.7, 3.6 mm — the footer in the strip a printer leaves white
        assert min(edges_mm) * MM_PER_POINT >= 9.5, (page, [round(e * MM_PER_POINT, 1) for e in edges_mm])
        assert box.left() * MM_PER_POINT >= 17.5  # room to punch and file


@pytest.mark.parametrize(("locale_name", "points"), [("en_US", (612, 792)), ("en_CA", (612, 792)),
                                                     ("de_DE", (595, 842)), ("ja_JP", (595, 842))])
def test_the_paper_is_the_locales(locale_name, points, tmp_path, qtbot):
    from PyQt6.QtCore import QLocale

    before = QLocale()
    QLocale.setDefault(QLocale(locale_name))
    try:
        path = tmp_path / "count.pdf"
        dataset = _project(tmp_path, images=2)
        write_report(path, report_html(dataset, dataset.images, 0.75))
    finally:
        QLocale.setDefault(before)
    size = _pdf(path).pagePointSize(0)
    assert (round(size.width()), round(size.height())) == points  # before: A4 (595 x 842) everywhere


def test_every_page_of_a_draft_says_so_in_a_band_and_names_the_report(tmp_path, qtbot):
    dataset = _project(tmp_path, signed=40)
    path = tmp_path / "count.pdf"
    write_report(path, report_html(dataset, dataset.images, 0.75, generated=WHEN))
    document = _pdf(path)
    pages = document.pageCount()
    assert pages >= 3
    assert _text(document, 0).startswith("DRAFTDRAFT—Differentialcount")  # the grey mark, then the title
    for page in range(pages):
        text = _text(document, page)
        if page:  # the grey DRAFT behind the text, then the band (before: page 2 on began with an image name)
            assert text.startswith("DRAFTDRAFT—notafinalreport"), page
        assert f"DRAFT—Differentialcount—page{page + 1}of{pages}" in text
        assert "smears2026-12-07·wholeproject,150image(s)·2026-12-0718:45UTC" in text, page


def test_a_final_report_has_no_draft_marks(tmp_path, qtbot):
    dataset = _project(tmp_path, images=3, signed=3)
    path = tmp_path / "count.pdf"
    write_report(path, report_html(dataset, dataset.images, 0.75, generated=WHEN))
    document = _pdf(path)
    text = "".join(_text(document, page) for page in range(document.pageCount()))
    assert "DRAFT" not in text and "Differentialcount—page1of1" in text


def test_a_class_table_split_across_pages_repeats_its_header(tmp_path, qtbot):
    classes = ClassCatalogue()
    for n in range(60):
        classes.add(f"lab class {n:02d}", white_cell=True)
    image = ImageAnnotation("a.png", 640, 480, [_cell(f"lab class {n:02d}", n) for n in range(60)])
    dataset = Dataset([image], classes, root=tmp_path)
    path = tmp_path / "count.pdf"
    write_report(path, report_html(dataset, [image], 0.75, generated=WHEN))
    document = _pdf(path)
    second = _text(document, 1)
    assert "Labclass" in second  # the white-cell table runs onto page 2 …
    heading = "ClassCheckedUnchecked(model)Count%ofwhitecells"
    assert second.index(heading) < second.index("Labclass")  # … under its header again (before: none)


def test_a_name_no_installed_font_can_draw_is_printed_as_its_code_not_as_boxes(tmp_path, qtbot, caplog):
    """Before, an image named 東京.png printed as two empty boxes on a computer without Japanese
    fonts: the page no longer told the files apart. U+10FFFD (private use) is in no font."""
    strange = "\U0010fffd"
    image = ImageAnnotation(f"Ærø_{strange}.png", 640, 480, [_cell("neutrophil")])
    dataset = Dataset([image], root=tmp_path)
    path = tmp_path / "count.pdf"
    text_html = report_html(dataset, [image], 0.75, generated=WHEN)
    write_report(path, text_html)
    assert strange in text_html  # the HTML keeps the name: a browser has its own fonts
    text = _text(_pdf(path), 0)
    assert "Ærø_[U+10FFFD].png—" in text
    assert "no installed font has" in caplog.text
