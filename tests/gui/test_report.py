"""The differential count report (bloodview.gui.report), numbers checked by hand."""

from __future__ import annotations

import re

import pytest

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.report import differential_for, report_html


def cell(cls, score=0.9, **kw):
    return Instance([rectangle(0, 0, 10, 10)], cls, score=score, source=Source.MODEL, **kw)


@pytest.fixture
def dataset():
    a = ImageAnnotation("a.png", 100, 100, [cell("neutrophil"), cell("neutrophil"), cell("lymphocyte"),
                                            cell("platelet"), cell("monocyte", 0.3)])
    b = ImageAnnotation("b.png", 100, 100, [cell("lymphocyte", 0.2, reviewed=True), cell("erythroblast")],
                        signed_off=True)
    return Dataset([a, b])


def test_unidentified_cells_are_left_out_and_checked_low_scores_count(dataset):
    count, unidentified = differential_for(dataset.images, dataset, 0.75)
    assert unidentified == 1  # the unchecked 0.3 monocyte; the reviewed 0.2 lymphocyte counts
    assert count.total == 6 and count.white_total == 4
    assert count.row("neutrophil").per_100_white == pytest.approx(50.0)
    assert count.row("lymphocyte").percent_of_all == pytest.approx(100 * 2 / 6)
    assert count.row("erythroblast").per_100_white == pytest.approx(25.0)  # per 100 white cells


def test_html_report_carries_the_numbers_and_the_images(dataset):
    text = report_html(dataset, dataset.images, 0.75, model_name="resnet50-pbc@2026-11-25")
    assert "resnet50-pbc@2026-11-25" in text and "2 image(s), 1 signed off" in text
    row = re.search(r"Neutrophil</td><td class='n'>(\d+)</td><td class='n'>([\d.]+)</td>"
                    r"<td class='n'>([\d.]+)</td>", text)
    assert row.groups() == ("2", "33.3", "50.0")
    assert re.search(r"Unidentified \(not counted\)</td><td class=\"n\">1<", text)
    assert "b.png — 2 cells — signed off" in text
