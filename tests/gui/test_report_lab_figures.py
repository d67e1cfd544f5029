"""Every figure of the differential report checked against a hand count of a known smear set.

:func:`lab_project` is the set the report, the exports (``test_export_round_trip.py``) and
``bloodview count`` (``tests/cli/test_count.py``) are checked on: cells checked, unchecked,
unidentified, imported without a score, corrected, red cells, platelets, an erythroblast, a
lab's own white-cell class with a non-ASCII name, an image name with a space and ``#``, one
image signed off (by whom and when) and one with no cells.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation, SignOffEvent
from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance, Source
from bloodview.gui.report import report_html, write_report

FIRST = "field 1 #a.png"
OWN_CLASS = "Zelle ä"  # a lab's own white-cell class
SIGNED_BY = SignOffEvent(True, "ana", "2026-11-30T09:00:00+00:00")


def _square(x: float, y: float) -> np.ndarray:
    return np.array([[x, y], [x + 12, y], [x + 12, y + 12], [x, y + 12]], float)


def lab_project(folder: Path) -> Dataset:
    """Three 200 x 160 fields on disk; the hand count at the unidentified threshold 0.75:

    * ``field 1 #a.png`` (not signed off), 14 cells: neutrophil 0.95 (unchecked) and 0.90
      (confirmed), lymphocyte 0.50 (unidentified: left out), lymphocyte imported without a score
      (counted, unchecked), monocyte corrected from a 0.40 neutrophil (checked), one "Zelle ä" drawn
      by a person, erythroblast 0.90, 2 platelets 0.90, 5 red cells (bootstrap, quality 0.9);
    * ``b.png`` (signed off by ana, 2026-11-30 09:00 UTC), 8 cells drawn by a person: 2 neutrophils,
      1 platelet, 5 red cells;
    * ``c.png`` (not signed off): no cells.

    White cells 7 (5 checked, 2 unchecked): neutrophil 4 = 57.1 %, lymphocyte, monocyte and
    Zelle ä 1 each = 14.3 %; erythroblast 1 per 7 white cells = 14.3 per 100 WBC; platelets 3,
    red cells 10 over 2 fields (c.png left out): 1.50 per field, 300.0 per 1,000 red cells;
    22 cells, 11 checked, 11 not (1 of them unidentified).
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name in (FIRST, "b.png", "c.png"):
        Image.new("RGB", (200, 160), "white").save(folder / name)
    classes = ClassCatalogue.pbc()
    classes.add(OWN_CLASS, white_cell=True)
    classes.add("rbc", display_name="Red cell")
    model = Source.MODEL
    a = ImageAnnotation(FIRST, 200, 160, [
        Instance([_square(0, 0)], "neutrophil", score=0.95, source=model, origin="default@2026"),
        Instance([_square(20, 0)], "neutrophil", score=0.9, source=model, reviewed=True),
        Instance([_square(40, 0)], "lymphocyte", score=0.5, source=model),
        Instance([_square(60, 0)], "lymphocyte", source=Source.IMPORT),
        Instance([_square(80, 0)], "monocyte", score=0.4, source=model, corrected=True,
                 extra={"model_class": "neutrophil"}),
        Instance([_square(100, 0)], OWN_CLASS, source=Source.HUMAN),
        Instance([_square(120, 0)], "erythroblast", score=0.9, source=model),
        Instance([_square(140, 0)], "platelet", score=0.9, source=model),
        Instance([_square(160, 0)], "platelet", score=0.9, source=model),
        *[Instance([_square(20 * k, 40)], "rbc", source=Source.BOOTSTRAP, quality=0.9) for k in range(5)],
    ])
    b = ImageAnnotation("b.png", 200, 160, [
        Instance([_square(0, 0)], "neutrophil"), Instance([_square(20, 0)], "neutrophil"),
        Instance([_square(40, 0)], "platelet"),
        *[Instance([_square(20 * k, 40)], "rbc") for k in range(5)],
    ], signed_off=True, sign_off_history=[SIGNED_BY])
    return Dataset([a, b, ImageAnnotation("c.png", 200, 160)], classes, folder)


def row(text: str, name: str) -> tuple[str, ...]:
    """(checked, unchecked, count, figure) of ``name``'s row in the report."""
    found = re.search(re.escape(name) + r"</td>((?:<td class='n'>[^<]*</td>)+)</tr>", text)
    assert found, name
    return tuple(re.findall(r"<td class='n'>([^<]*)</td>", found.group(1)))


def lab_figures(text: str) -> dict[str, str]:
    return dict(re.findall(r"<tr><td>([^<]+)</td><td class='n'>([^<]*)</td></tr>", text))


@pytest.fixture
def project(tmp_path):
    return lab_project(tmp_path / "smears")


def test_every_figure_of_the_report_matches_the_hand_count(project):
    text = report_html(project, project.images, 0.75)
    # checked, unchecked from the model / the segmenter / imported, count, figure
    assert row(text, "Neutrophil") == ("3", "1", "0", "0", "4", "57.1")
    assert row(text, "Lymphocyte") == ("0", "0", "0", "1", "1", "14.3")  # imported; the 0.50 one is unidentified
    assert row(text, "Monocyte") == ("1", "0", "0", "0", "1", "14.3")  # corrected: checked
    assert row(text, OWN_CLASS) == ("1", "0", "0", "0", "1", "14.3")
    assert "of the 7 white cells counted (5 checked by a person,\n2 unchecked)" in text
    assert row(text, "Erythroblast") == ("0", "1", "0", "0", "1", "14.3 per 100 WBC")
    assert row(text, "Platelet") == ("1", "2", "0", "0", "3", "count only")
    assert row(text, "Red cell") == ("5", "0", "5", "0", "10", "count only")  # the bootstrap's, not the model's
    assert "22 cells: 11 checked by a person, 11 unchecked (5 model, 5 segmenter, 1 imported)" in text
    assert re.search(r"Unidentified \(not counted\)</td>(<td></td>){4}<td class=\"n\">1<", text)
    assert lab_figures(text) == {
        "Fields (images) counted": "2", "White cells counted": "7", "Red cells counted": "10",
        "Platelets counted": "3", "Platelets per field (mean)": "1.50", "Platelets per 1,000 red cells": "300.0"}
    assert "1 image(s) without counted cells are left out" in text
    assert ("2 of 3 image(s) not signed off; 11 of 22 cell(s) not checked by a person, 1 of them "
            "unidentified") in text
    assert "<title>DRAFT — Differential count</title>" in text


def test_the_report_says_who_signed_each_image_off_and_when(project):
    project.images[2].sign_off_history = [SignOffEvent(True, "ben", "2026-12-01T08:00:00+00:00"),
                                          SignOffEvent(False, "ana", "2026-12-01T08:30:00+00:00")]
    text = report_html(project, project.images, 0.75)
    # before: "b.png — 8 cells — signed off", naming nobody
    assert "<li>b.png — 8 cells — signed off by ana, 2026-11-30 09:00 UTC</li>" in text
    assert f"<li>{FIRST} — 14 cells — not signed off</li>" in text
    assert "c.png — 0 cells — not signed off (sign-off withdrawn by ana, 2026-12-01 08:30 UTC)" in text
    project.images[1].sign_off_history = []  # a project saved before the record was kept
    assert "b.png — 8 cells — signed off (who and when not recorded)" in report_html(project, project.images, 0.75)


def test_without_white_cells_there_is_no_percent_and_no_figure_per_100_white_cells():
    image = ImageAnnotation("nrbc.png", 100, 100, [
        Instance([_square(0, 0)], "erythroblast"), Instance([_square(20, 0)], "erythroblast"),
        Instance([_square(40, 0)], "platelet")])
    dataset = Dataset([image])
    text = report_html(dataset, [image], 0.75)
    # before: "0.0 per 100 WBC" beside two erythroblasts, and 0.0 % for every white class
    assert row(text, "Erythroblast") == ("2", "0", "2", "– (no white cells counted)")
    assert row(text, "Neutrophil") == ("0", "0", "0", "–")
    assert "No white cells were counted" in text and "0.0" not in text.split("<h2>Fields")[0]


def test_one_image_and_a_long_class_list(tmp_path):
    classes = ClassCatalogue.pbc()
    for k in range(40):
        classes.add(f"Klasse {k} <b>", white_cell=True)
    image = ImageAnnotation("one.png", 100, 100, [Instance([_square(0, 0)], "Klasse 39 <b>")])
    text = report_html(Dataset([image], classes), [image], 0.75)
    assert row(text, "Klasse 39 &lt;b&gt;") == ("1", "0", "1", "100.0")  # escaped, never markup
    assert "<b>" not in text.replace("<b>DRAFT", "") and text.count("Klasse ") == 40


@pytest.mark.gui
def test_the_pdf_is_a_readable_draft_with_the_same_figures(project, tmp_path, qtbot):
    from PyQt6.QtPdf import QPdfDocument

    path = tmp_path / "count.pdf"
    write_report(path, report_html(project, project.images, 0.75))
    document = QPdfDocument(None)
    assert document.load(str(path)) == QPdfDocument.Error.None_
    assert document.metaData(QPdfDocument.MetaDataField.Title) == "DRAFT — Differential count"
    text = "".join(pdf_text(document, page) for page in range(document.pageCount()))
    assert "DRAFT—notafinalreport" in text and "DRAFT—Differentialcount—page1of1" in text
    for line in ("Neutrophil 3 1 0 0 4 57.1", f"{OWN_CLASS} 1 0 0 0 1 14.3", "Erythroblast 0 1 0 0 1 14.3 per 100 WBC",
                 "Red cell 5 0 5 0 10", "Unchecked (segmenter)",
                 "Platelets per 1,000 red cells 300.0", "Platelets per field (mean) 1.50",
                 "b.png — 8 cells — signed off by ana, 2026-11-30 09:00 UTC", f"{FIRST} — 14 cells"):
        assert "".join(line.split()) in text, line


def pdf_text(document, page: int) -> str:
    """A PDF page's text without white space (the extractor breaks dense lines anywhere)."""
    return "".join(document.getAllText(page).text().split())


@pytest.mark.gui
def test_a_report_of_300_fields_is_written_in_seconds(tmp_path, qtbot):
    from PyQt6.QtPdf import QPdfDocument

    cells = [Instance([_square(10 * k, 0)], name, score=0.9, source=Source.MODEL)
             for k, name in enumerate(["neutrophil"] * 6 + ["lymphocyte"] * 3 + ["platelet"] * 11)]
    images = [ImageAnnotation(f"field {n:03d}.png", 640, 480, [c.copy() for c in cells]) for n in range(300)]
    dataset = Dataset(images)
    started = time.perf_counter()
    text = report_html(dataset, images, 0.75)
    write_report(tmp_path / "slide.pdf", text)
    assert time.perf_counter() - started < 10.0
    assert row(text, "Neutrophil") == ("0", "1800", "1800", "66.7")
    assert lab_figures(text)["Platelets per field (mean)"] == "11.00"
    document = QPdfDocument(None)
    assert document.load(str(tmp_path / "slide.pdf")) == QPdfDocument.Error.None_
    pages = document.pageCount()
    assert pages > 1 and "field299.png" in pdf_text(document, pages - 1)
    for page in range(pages):  # each printed page says DRAFT on its own (before: only the first did)
        assert f"DRAFT—Differentialcount—page{page + 1}of{pages}" in pdf_text(document, page)
