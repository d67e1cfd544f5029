"""differential_count: checked cells told apart, white-cell % over white cells only."""

from __future__ import annotations

import pytest

from bloodview.core import ImageAnnotation, Instance, Source, differential_count
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle


def _cell(name, reviewed=False):
    return Instance([rectangle(0, 0, 5, 5)], name, score=0.9, source=Source.MODEL, reviewed=reviewed)


def test_checked_cells_are_counted_per_class_when_a_rule_is_given():
    image = ImageAnnotation("a.jpg", 10, 10, [_cell("neutrophil", True), _cell("neutrophil"),
                                             _cell("platelet", True), _cell("erythroblast")])
    diff = differential_count([image], ClassCatalogue.pbc(), checked=lambda i: i.reviewed)
    assert (diff.row("neutrophil").checked, diff.row("neutrophil").unchecked) == (1, 1)
    assert diff.checked_total == 2 and diff.white_checked == 1 and diff.unchecked_total == 2
    assert diff.row("neutrophil").percent_of_white == pytest.approx(100.0)
    assert diff.row("platelet").percent_of_white is None
    assert diff.row("erythroblast").percent_of_white is None  # NRBC: per 100 WBC, not a % of them
    assert [r.class_name for r in diff.other_rows] == ["erythroblast", "platelet"]


def test_without_a_rule_no_cell_counts_as_checked():
    image = ImageAnnotation("a.jpg", 10, 10, [_cell("neutrophil", True)])
    diff = differential_count([image], ClassCatalogue.pbc())
    assert diff.row("neutrophil").checked == 0 and diff.row("neutrophil").count == 1


def test_no_figure_per_100_white_cells_without_white_cells():
    from bloodview.core.differential import per_100_white_text

    nrbc_only = ImageAnnotation("a.png", 50, 50, [Instance([rectangle(0, 0, 5, 5)], "erythroblast")])
    count = differential_count([nrbc_only], ClassCatalogue.pbc())
    assert per_100_white_text(count.row("erythroblast"), count.white_total) == "– (no white cells counted)"
    assert per_100_white_text(count.row("platelet"), count.white_total) == "count only"
    nrbc_only.instances += [Instance([rectangle(10, 0, 15, 5)], "neutrophil") for _ in range(4)]
    count = differential_count([nrbc_only], ClassCatalogue.pbc())
    assert per_100_white_text(count.row("erythroblast"), count.white_total) == "25.0 per 100 WBC"
