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


def test_unchecked_cells_are_told_apart_by_origin_model_segmenter_imported():
    """Before, every unchecked cell was read as the model's; imported and bootstrap cells are not."""
    from bloodview.core.differential import review_tally
    from bloodview.core.review_rules import is_checked, origin

    made = [Instance([rectangle(0, 0, 5, 5)], "neutrophil", source=s, score=0.9 if s == Source.MODEL else None,
                     quality=0.9 if s == Source.BOOTSTRAP else None)
            for s in (Source.MODEL, Source.MODEL, Source.BOOTSTRAP, Source.IMPORT, Source.HUMAN)]
    assert [origin(i) for i in made] == ["model", "model", "segmenter", "imported", "person"]
    image = ImageAnnotation("a.jpg", 10, 10, made + [_cell("platelet"), _cell("neutrophil", reviewed=True)])
    diff = differential_count([image], ClassCatalogue.pbc(), checked=is_checked)
    row = diff.row("neutrophil")
    assert row.unchecked_by_origin == (("model", 2), ("segmenter", 1), ("imported", 1))
    assert row.unchecked == 4 and row.checked == 2 and row.unchecked_from("person") == 0
    assert diff.unchecked_origins == ("model", "segmenter", "imported")
    assert diff.unchecked_from("model") == 3 and diff.unchecked_from("model", white_only=True) == 2
    assert sum(diff.unchecked_from(o) for o in diff.unchecked_origins) == diff.unchecked_total
    tally = review_tally([image], 0.75)
    assert tally.cells_text() == "7 cells: 2 checked by a person, 5 unchecked (3 model, 1 segmenter, 1 imported)"
