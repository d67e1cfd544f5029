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


def test_added_classes_get_unused_colours_and_free_keys():
    """BCCD's WBC/RBC used to get erythroblast's and lymphocyte's colours and no key of their own."""
    cat = ClassCatalogue.pbc()
    added = [cat.add(name) for name in ("wbc", "rbc", "smudge", "ghost", "artefact")]
    colours = [c.color for c in cat]
    assert len(set(colours)) == len(colours)
    assert [c.key for c in added] == ["9", "0", None, None, None]
    many = ClassCatalogue.pbc()
    for number in range(30):
        many.add(f"class {number}")
    assert len({c.color for c in many}) == len(many)


def test_white_cell_names_from_other_tools_count_as_white_cells():
    cat = ClassCatalogue.pbc()
    for name in ("WBC", "white cell", "Leukocytes", "white_blood_cell", "leucocyte"):
        assert cat.add(name.lower(), display_name=name).white_cell, name
    for name in ("rbc", "red cell", "artefact"):
        assert not cat.add(name).white_cell, name
    from_model = ClassCatalogue([])
    assert from_model.add("neutrophil").white_cell and not from_model.add("platelet").white_cell


def test_a_wbc_class_counts_in_the_differential():
    import numpy as np

    from bloodview.core.annotation import ImageAnnotation
    from bloodview.core.differential import differential_count
    from bloodview.core.geometry import rectangle
    from bloodview.core.instance import Instance

    cat = ClassCatalogue.pbc()
    cat.add("wbc", display_name="WBC")
    cat.add("rbc", display_name="RBC")
    image = ImageAnnotation("a.png", 100, 100, [
        Instance(rectangle(0, 0, 10, 10), "wbc"), Instance(rectangle(20, 0, 30, 10), "neutrophil"),
        Instance(rectangle(40, 0, 50, 10), "rbc"), Instance(np.array([[60, 0], [70, 0], [65, 9.0]]), "rbc"),
    ])
    count = differential_count([image], cat)
    assert count.white_total == 2
    assert count.row("wbc").percent_of_white == 50.0 and count.row("rbc").percent_of_white is None


def test_a_red_cell_class_brought_by_a_prediction_is_shown_as_red_cell():
    """The red-cell finder names its cells ``rbc``; the legend and review list show "Red cell",
    while other classes a prediction brings keep their own spelling."""
    from bloodview.core.classes import shown_name

    cat = ClassCatalogue.pbc()
    added = cat.add("rbc", display_name=shown_name("rbc"))
    assert added.display_name == "Red cell" and not added.white_cell
    assert shown_name("erythrocytes") == "Red cell"
    assert shown_name("RBC") == "RBC" and shown_name("Erythrocytes") == "Erythrocytes"  # as a file's author wrote it
    assert shown_name("schistocyte") == "schistocyte"


def test_a_catalogue_built_from_a_models_class_list_shows_pbc_names_as_the_app_does():
    """`bloodview predict` builds its catalogue from the model's class names: `count` then said "Ig"
    where the app and the report say "Immature granulocyte"."""
    catalogue = ClassCatalogue([])
    for name in ("ig", "erythroblast", "IG"):
        catalogue.add(name)
    assert catalogue["ig"].display_name == "Immature granulocyte" and catalogue["ig"].white_cell
    assert catalogue["erythroblast"].display_name == "Erythroblast" and not catalogue["erythroblast"].white_cell
    assert catalogue["IG"].display_name == "Ig"  # another spelling is the file's own choice
    assert catalogue.add("lymph", display_name="Lymph").display_name == "Lymph"
