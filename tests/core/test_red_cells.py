"""Red cells and the platelet estimate (issue #13): names, colour and key, never white, lab figures."""

from __future__ import annotations

import pytest

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import (
    PBC_CLASSES,
    RED_CELL_COLOUR,
    ClassCatalogue,
    is_platelet_name,
    is_red_cell_name,
    is_white_cell_name,
)
from bloodview.core.differential import differential_count, platelet_estimate_text
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.errors import UnknownClassError


def _cells(name: str, n: int, **kw) -> list[Instance]:
    return [Instance([rectangle(k, 0, k + 1, 1)], name, **kw) for k in range(n)]


@pytest.mark.parametrize("name", ["rbc", "RBC", "RBCs", "red cell", "Red_Cells", "red blood cell",
                                  "Red-blood-cells", "erythrocyte", "Erythrocytes"])
def test_red_cell_names_are_red_not_white(name):
    assert is_red_cell_name(name) and not is_white_cell_name(name)


@pytest.mark.parametrize("name", ["erythroblast", "NRBC", "wbc", "platelet", "red", "cell", ""])
def test_other_names_are_not_red_cells(name):
    assert not is_red_cell_name(name)


def test_platelet_names():
    for name in ("platelet", "Platelets", "PLT", "thrombocytes"):
        assert is_platelet_name(name), name
    assert not is_platelet_name("plasma cell")


def test_a_red_cell_class_gets_a_red_colour_no_pbc_class_uses_and_its_own_key():
    cat = ClassCatalogue.pbc()
    rbc = cat.add("rbc", display_name="RBC")
    assert rbc.red_cell and not rbc.white_cell
    assert rbc.color == RED_CELL_COLOUR and rbc.color not in {c.color for c in PBC_CLASSES}
    assert rbc.key == "9" and cat.by_key("9") is rbc
    assert cat.red_cell_names == ["rbc"]
    assert not any(c.red_cell for c in PBC_CLASSES)  # erythroblasts are not red cells here


def test_a_second_red_cell_class_still_gets_a_colour_of_its_own():
    cat = ClassCatalogue.pbc()
    first, second = cat.add("rbc"), cat.add("erythrocyte")
    assert first.color == RED_CELL_COLOUR and second.color != first.color


def test_an_old_file_saying_a_red_cell_class_is_white_is_not_believed():
    """Project files written before white_cell existed default it to true: rbc must not enter the %."""
    items = ClassCatalogue.pbc().to_list() + [
        {"id": 9, "name": "rbc", "display_name": "RBC", "color": "#ee7733", "key": "9"}]
    cat = ClassCatalogue.from_list(items)
    assert not cat["rbc"].white_cell and cat["rbc"].color == (0xEE, 0x77, 0x33)  # its colour is kept
    assert ClassCatalogue.from_list(cat.to_list()) == cat


@pytest.mark.parametrize("name", ["RBC", "red cell", "Erythrocytes", "red_blood_cell"])
def test_every_red_cell_spelling_resolves_to_the_projects_red_cell_class(name):
    cat = ClassCatalogue.pbc()
    cat.add("rbc", display_name="RBC")
    assert cat.resolve(name) == "rbc"


def test_without_a_red_cell_class_red_cell_names_stay_unknown():
    with pytest.raises(UnknownClassError):
        ClassCatalogue.pbc().resolve("erythrocyte")
    assert ClassCatalogue.pbc().resolve("Thrombocytes") == "platelet"


def _field(platelets: int, red: int, white: int = 0) -> ImageAnnotation:
    return ImageAnnotation("f.png", 100, 100,
                           _cells("platelet", platelets) + _cells("rbc", red) + _cells("neutrophil", white))


def test_platelet_estimate_per_field_and_per_1000_red_cells():
    cat = ClassCatalogue.pbc()
    cat.add("rbc", display_name="RBC")
    fields = [_field(2, 50, 1), _field(0, 60), _field(0, 40, 2)]
    count = differential_count(fields, cat)
    assert (count.fields, count.platelets, count.red_cells, count.white_total) == (3, 2, 150, 3)
    assert count.platelets_per_field == pytest.approx(2 / 3)
    assert count.platelets_per_1000_red_cells == pytest.approx(13.333, abs=1e-3)
    assert platelet_estimate_text(count) == "0.67 platelets per field, 13.3 per 1,000 red cells"
    assert count.row("rbc").percent_of_white is None and count.row("neutrophil").percent_of_white == 100.0


def test_images_without_counted_cells_are_not_fields_and_low_scores_are_not_counted():
    cat = ClassCatalogue.pbc()
    cat.add("rbc")
    empty = ImageAnnotation("empty.png", 100, 100)
    doubtful = ImageAnnotation("doubtful.png", 100, 100, _cells("platelet", 3, score=0.2, source=Source.MODEL))
    count = differential_count([_field(4, 100), empty, doubtful], cat, min_score=0.5)
    assert (count.fields, count.platelets, count.red_cells) == (1, 4, 100)
    assert count.platelets_per_1000_red_cells == pytest.approx(40.0)


def test_an_old_project_without_red_cells_has_no_estimate_per_1000_red_cells():
    count = differential_count([ImageAnnotation("a.png", 10, 10, _cells("platelet", 1) + _cells("lymphocyte", 2))],
                               ClassCatalogue.pbc())
    assert count.red_cells == 0 and count.platelets_per_1000_red_cells is None
    assert platelet_estimate_text(count) == "1.00 platelets per field, no red cells counted"
    assert differential_count([], ClassCatalogue.pbc()).platelets_per_field is None
    assert platelet_estimate_text(differential_count([], ClassCatalogue.pbc())).startswith("none (no field")
