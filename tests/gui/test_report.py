"""The differential count report (bloodview.gui.report), numbers checked by hand."""

from __future__ import annotations

import re

import pytest

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.report import differential_for, report_html, review_tally


def cell(cls, score=0.9, **kw):
    return Instance([rectangle(0, 0, 10, 10)], cls, score=score, source=Source.MODEL, **kw)


@pytest.fixture
def dataset():
    a = ImageAnnotation("a.png", 100, 100, [cell("neutrophil"), cell("neutrophil"), cell("lymphocyte"),
                                            cell("platelet"), cell("monocyte", 0.3)])
    b = ImageAnnotation("b.png", 100, 100, [cell("lymphocyte", 0.2, reviewed=True), cell("erythroblast")],
                        signed_off=True)
    return Dataset([a, b])


def _row(text: str, name: str) -> tuple[str, ...]:
    found = re.search(name + r"</td>((?:<td class='n'>[^<]*</td>)+)</tr>", text)
    assert found, name
    return tuple(re.findall(r"<td class='n'>([^<]*)</td>", found.group(1)))


def test_unidentified_cells_are_left_out_and_checked_low_scores_count(dataset):
    count, unidentified = differential_for(dataset.images, dataset, 0.75)
    assert unidentified == 1  # the unchecked 0.3 monocyte; the reviewed 0.2 lymphocyte counts
    assert count.total == 6 and count.white_total == 4
    assert count.row("neutrophil").per_100_white == pytest.approx(50.0)
    assert count.row("erythroblast").per_100_white == pytest.approx(25.0)  # per 100 white cells
    assert count.row("lymphocyte").checked == 1 and count.row("lymphocyte").unchecked == 1
    assert count.checked_total == 1 and count.white_checked == 1


def test_report_with_unsigned_images_is_a_draft_in_title_and_body(dataset):
    text = report_html(dataset, dataset.images, 0.75, model_name="resnet50-pbc@2026-11-25")
    assert "<title>DRAFT — Differential count</title>" in text
    assert "<h1>DRAFT — Differential count</h1>" in text
    assert "1 of 2 image(s) not signed off" in text
    assert "6 of 7 cell(s) not checked by a person, 1 of them unidentified" in text
    assert "resnet50-pbc@2026-11-25" in text and "2 image(s), 1 of 2 signed off" in text
    assert "7 cells: 1 checked by a person, 6 unchecked (6 model)" in text
    assert "Final" not in text
    assert "b.png — 2 cells — signed off" in text and "a.png — 5 cells — not signed off" in text


def test_report_denominators_white_cells_for_the_percent_nrbc_and_platelets_apart(dataset):
    text = report_html(dataset, dataset.images, 0.75)
    # checked, unchecked, count, % of the 4 white cells
    assert _row(text, "Neutrophil") == ("0", "2", "2", "50.0")
    assert _row(text, "Lymphocyte") == ("1", "1", "2", "50.0")
    assert "of the 4 white cells counted (1 checked by a person,\n3 unchecked)" in text
    assert _row(text, "Erythroblast") == ("0", "1", "1", "25.0 per 100 WBC")
    assert _row(text, "Platelet") == ("0", "1", "1", "count only")
    white_table = text.split("<h2>White-cell differential</h2>")[1].split("<h2>Other cells")[0]
    assert "Platelet" not in white_table and "Erythroblast" not in white_table
    assert re.search(r"Unidentified \(not counted\)</td><td></td><td></td><td class=\"n\">1<", text)


def test_report_is_final_only_when_every_image_is_signed_off_and_every_cell_checked(dataset):
    for image in dataset.images:
        for instance in image.instances:
            instance.reviewed = True
        image.signed_off = True
    assert review_tally(dataset.images, 0.75).final
    text = report_html(dataset, dataset.images, 0.75)
    assert "DRAFT" not in text and "<title>Differential count</title>" in text
    assert "Final: all 2 image(s) signed off" in text

    dataset.images[0].instances[0].reviewed = False  # signed off, yet an unchecked cell crept in
    text = report_html(dataset, dataset.images, 0.75)
    assert "<h1>DRAFT" in text and "1 of 7 cell(s) not checked" in text


def test_report_of_no_images_is_a_draft_not_a_crash():
    text = report_html(Dataset([]), [], 0.75)
    assert "DRAFT" in text and "no images" in text


@pytest.mark.gui
def test_pdf_of_a_draft_says_draft_in_its_document_title(dataset, tmp_path, qtbot):
    from bloodview.gui.report import write_report

    path = tmp_path / "count.pdf"
    write_report(path, report_html(dataset, dataset.images, 0.75))
    data = path.read_bytes()
    assert data[:5] == b"%PDF-"
    title = data[data.index(b"/Title"):].split(b"\n", 1)[0]
    assert "DRAFT — Differential count".encode("utf-16-be") in title


def test_the_report_names_the_origin_of_unchecked_cells_not_all_the_models():
    """Imported and segmenter (bootstrap) cells were counted as "Unchecked (model)": an auditor
    read the model as having called cells it never saw."""
    image = ImageAnnotation("a.png", 100, 100, [
        cell("neutrophil"), Instance([rectangle(20, 0, 30, 10)], "neutrophil", source=Source.IMPORT),
        Instance([rectangle(40, 0, 50, 10)], "platelet", source=Source.BOOTSTRAP, quality=0.9),
        Instance([rectangle(60, 0, 70, 10)], "platelet", source=Source.HUMAN)])
    text = report_html(Dataset([image]), [image], 0.75)
    assert "Unchecked (model)</th><th class='n'>Unchecked (segmenter)</th><th class='n'>Unchecked (imported)" in text
    # checked, unchecked model / segmenter / imported, count, figure
    assert _row(text, "Neutrophil") == ("0", "1", "0", "1", "2", "100.0")
    assert _row(text, "Platelet") == ("1", "0", "1", "0", "2", "count only")
    assert "4 cells: 1 checked by a person, 3 unchecked (1 model, 1 segmenter, 1 imported)" in text
    assert "<i>imported</i>: read from a file that does not say who made the cell" in text
    assert re.search(r"Unidentified \(not counted\)</td>(<td></td>){4}<td class=\"n\">0<", text)


def test_a_fully_checked_report_has_one_unchecked_column_of_zeros(dataset):
    for image in dataset.images:
        for instance in image.instances:
            instance.reviewed = True
    text = report_html(dataset, dataset.images, 0.75)
    assert "<th class='n'>Unchecked</th>" in text and "Unchecked (" not in text
    assert _row(text, "Neutrophil") == ("2", "0", "2", "40.0")  # of 5 white cells: the 0.3 monocyte counts now
    assert "7 cells: 7 checked by a person, 0 unchecked ·" in text
