"""A lab's own class survives VIA (MakeSense VGG) and LabelMe: name, display name, white cell.

Before, "Zelle ä" (a white cell in the lab's project) came back from both as "zelle ä", not a
white cell, and ``bloodview count`` of the export left it out of the white-cell 100 %.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from bloodview.cli.main import main
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance
from bloodview.errors import UnknownClassError
from bloodview.io.labelme import load_labelme, save_labelme
from bloodview.io.via import load_via, save_via

OWN = "Zelle ä"


def _square(x: float) -> np.ndarray:
    return np.array([[x, 10], [x + 20, 10], [x + 20, 30], [x, 30]], float)


@pytest.fixture
def smear(tmp_path):
    """One field: 1 neutrophil and 1 "Zelle ä" (a white cell, display "Zelle (Labor)")."""
    Image.new("RGB", (120, 60), "white").save(tmp_path / "a b#1.png")
    classes = ClassCatalogue.pbc()
    classes.add(OWN, display_name="Zelle (Labor)", color=(1, 2, 3), white_cell=True)
    image = ImageAnnotation("a b#1.png", 120, 60, [Instance([_square(0)], "neutrophil"),
                                                   Instance([_square(40)], OWN)])
    return Dataset([image], classes, tmp_path)


def _own_class(dataset):
    cell_class = dataset.classes[OWN]
    return cell_class.name, cell_class.display_name, cell_class.color, cell_class.white_cell


def test_via_keeps_a_labs_own_class(smear, tmp_path):
    save_via(smear, tmp_path / "via.json")
    back = load_via(tmp_path / "via.json", add_unknown_classes=True)
    assert _own_class(back) == (OWN, "Zelle (Labor)", (1, 2, 3), True)
    assert sorted(i.class_name for i in back.images[0].instances) == [OWN, "neutrophil"]


def test_labelme_keeps_a_labs_own_class(smear, tmp_path):
    save_labelme(smear, tmp_path)
    back = load_labelme(tmp_path, add_unknown_classes=True)
    assert _own_class(back) == (OWN, "Zelle (Labor)", (1, 2, 3), True)


@pytest.mark.parametrize("fmt", ["via", "labelme"])
def test_count_of_the_export_counts_the_own_class_as_a_white_cell(smear, tmp_path, capsys, fmt):
    (save_via(smear, tmp_path / "out.json") if fmt == "via" else save_labelme(smear, tmp_path))
    assert main(["count", str(tmp_path / "out.json" if fmt == "via" else tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "white cells: 2" in printed and "50.0 %" in printed  # before: 1 white cell, neutrophils 100 %


def test_a_fixed_catalogue_still_refuses_the_class(smear, tmp_path):
    save_via(smear, tmp_path / "via.json")
    with pytest.raises(UnknownClassError):
        load_via(tmp_path / "via.json", classes=ClassCatalogue.pbc())


def test_a_damaged_class_entry_loses_only_the_class_details(smear, tmp_path, caplog):
    save_labelme(smear, tmp_path)
    path = tmp_path / "a b#1.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["bloodview"]["classes"] = [{"name": OWN, "color": "not a colour"}, 7]
    path.write_text(json.dumps(data), encoding="utf-8")
    back = load_labelme(tmp_path, add_unknown_classes=True)
    assert "zelle ä" in back.classes and not back.classes["zelle ä"].white_cell  # added from the label
    assert "unreadable class entry" in caplog.text


def test_pbc_classes_add_nothing_to_the_record(tmp_path):
    Image.new("RGB", (120, 60), "white").save(tmp_path / "a.png")
    dataset = Dataset([ImageAnnotation("a.png", 120, 60, [Instance([_square(0)], "neutrophil")])], root=tmp_path)
    save_labelme(dataset, tmp_path)
    assert "bloodview" not in json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
