from __future__ import annotations

import pytest

from bloodview.core.classes import PBC_CLASSES, ClassCatalogue
from bloodview.errors import UnknownClassError


def test_pbc_catalogue_has_the_eight_classes_with_keys_and_distinct_colours():
    cat = ClassCatalogue.pbc()
    assert cat.names == [
        "basophil", "eosinophil", "erythroblast", "ig",
        "lymphocyte", "monocyte", "neutrophil", "platelet",
    ]
    assert [c.key for c in cat] == [str(i) for i in range(1, 9)]
    assert [c.id for c in cat] == list(range(1, 9))
    assert len({c.color for c in cat}) == 8
    assert cat.by_key("8").name == "platelet"
    assert not cat["platelet"].white_cell and not cat["erythroblast"].white_cell
    assert cat["neutrophil"].white_cell


def test_names_from_other_tools_resolve_and_unknown_ones_list_the_known():
    cat = ClassCatalogue.pbc()
    assert cat.resolve("Platelets") == "platelet"
    assert cat.resolve("Immature granulocyte") == "ig"
    assert cat.resolve("NEUTROPHIL") == "neutrophil"
    with pytest.raises(UnknownClassError) as err:
        cat.resolve("RBC")
    assert "basophil" in str(err.value) and "'RBC'" in str(err.value)


def test_project_can_add_a_class_with_the_next_id():
    cat = ClassCatalogue.pbc()
    rbc = cat.add("rbc", "Red blood cell")
    assert rbc.id == 9 and rbc.key == "9" and "rbc" in cat
    assert cat.add("rbc") is rbc
    assert ClassCatalogue(PBC_CLASSES) != cat


def test_catalogue_round_trips_through_plain_lists():
    cat = ClassCatalogue.pbc()
    cat.add("rbc")
    assert ClassCatalogue.from_list(cat.to_list()) == cat
