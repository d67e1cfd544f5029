"""``bloodview count``: the app's differential, per image and in all, from a file or a project."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from bloodview.cli.main import main
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.instance import Instance, Source
from bloodview.io.coco import save_coco
from bloodview.io.project import save_project


def _cell(name: str, x: int, score: float | None = 0.95, **kw) -> Instance:
    square = np.array([[x, 10], [x + 20, 10], [x + 20, 30], [x, 30]], float)
    return Instance([square], name, score=score, source=kw.pop("source", Source.MODEL), **kw)


@pytest.fixture
def smears(tmp_path):
    """Two fields: a.png 3 neutrophils, 1 doubtful lymphocyte (0.5), 1 confirmed eosinophil, 2 platelets,
    10 red cells; b.png 1 lymphocyte, 1 erythroblast, 2 red cells, signed off."""
    for name in ("a.png", "b.png"):
        Image.new("RGB", (400, 60), "white").save(tmp_path / name)
    a = ImageAnnotation(tmp_path / "a.png", 400, 60, [
        _cell("neutrophil", 0), _cell("neutrophil", 25), _cell("neutrophil", 50),
        _cell("lymphocyte", 75, score=0.5), _cell("eosinophil", 100, score=0.6, reviewed=True),
        _cell("platelet", 125), _cell("platelet", 150),
        *[_cell("rbc", 175 + 20 * k, score=None, source=Source.BOOTSTRAP, quality=0.9) for k in range(10)],
    ])
    b = ImageAnnotation(tmp_path / "b.png", 400, 60, [
        _cell("lymphocyte", 0, source=Source.HUMAN, score=None), _cell("erythroblast", 30),
        _cell("rbc", 60, score=None, source=Source.BOOTSTRAP, quality=0.9),
        _cell("rbc", 90, score=None, source=Source.BOOTSTRAP, quality=0.9),
    ])
    b.signed_off = True
    dataset = Dataset([a, b], root=tmp_path)
    dataset.classes.add("rbc")
    return tmp_path, dataset


def _rows(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return {row["image"]: row for row in csv.DictReader(handle)}


def test_count_prints_and_writes_the_differential_by_the_apps_rules(smears, capsys):
    folder, dataset = smears
    save_coco(dataset, folder / "cells.json")
    assert main(["count", str(folder / "cells.json"), "--out", str(folder / "counts.csv")]) == 0
    printed = capsys.readouterr().out
    # white cells: 3 neutrophils + the confirmed eosinophil + b's lymphocyte; the 0.5 lymphocyte left out
    assert "white cells: 5 (2 checked)" in printed
    assert "1 unidentified cell(s) left out" in printed and "DRAFT: 1 of 2 image(s) not signed off" in printed
    assert "60.0 %" in printed and "20.0 per 100 white cells" in printed
    assert "1.00 platelets per field, 166.7 per 1,000 red cells" in printed
    rows = _rows(folder / "counts.csv")
    assert set(rows) == {"a.png", "b.png", "all images"}
    assert rows["a.png"]["n_neutrophil"] == "3" and rows["a.png"]["n_lymphocyte"] == "0"
    assert rows["a.png"]["unidentified_left_out"] == "1" and rows["a.png"]["pct_neutrophil"] == "75.0"
    assert rows["b.png"]["signed_off"] == "yes" and rows["b.png"]["erythroblast_per_100_white"] == "100.0"
    total = rows["all images"]
    assert total["signed_off"] == "1 of 2" and total["white_cells"] == "5" and total["red_cells"] == "12"
    assert total["platelets_per_1000_red_cells"] == "166.7" and total["pct_lymphocyte"] == "20.0"


def test_count_agrees_with_the_apps_differential(smears):
    from bloodview.cli.cmd_count import _count
    from bloodview.gui.report import differential_for

    _, dataset = smears
    for threshold in (0.4, 0.75, 0.97):
        ours, left_out = _count(dataset.images, dataset, threshold)
        apps, apps_left_out = differential_for(dataset.images, dataset, threshold)
        assert ours == apps and left_out == apps_left_out


def test_a_projects_saved_threshold_is_used_and_an_option_overrides_it(smears, capsys):
    folder, dataset = smears
    save_project(dataset, folder / "project", settings={"unidentified_threshold": 0.4})
    assert main(["count", str(folder / "project")]) == 0
    assert "white cells: 6" in capsys.readouterr().out  # the 0.5 lymphocyte counts at 0.4
    assert main(["count", str(folder / "project"), "--threshold", "0.75"]) == 0
    assert "white cells: 5" in capsys.readouterr().out


def test_a_threshold_outside_0_1_and_an_unwritable_out_are_refused(smears, capsys):
    folder, dataset = smears
    save_coco(dataset, folder / "cells.json")
    assert main(["count", str(folder / "cells.json"), "--threshold", "1.5"]) == 1
    assert main(["count", str(folder / "cells.json"), "--out", str(folder / "no" / "c.csv")]) == 1
    err = capsys.readouterr().err
    assert "between 0 and 1" in err and "does not exist" in err


def test_count_out_gives_the_reports_figures_for_the_same_project(tmp_path, capsys):
    """The lab project of tests/gui/test_report_lab_figures.py, hand counted there."""
    from tests.gui.test_report_lab_figures import FIRST, OWN_CLASS, lab_project

    save_project(lab_project(tmp_path / "smears"), tmp_path / "project")
    assert main(["count", str(tmp_path / "project"), "--out", str(tmp_path / "counts.csv")]) == 0
    printed = capsys.readouterr().out
    assert ("DRAFT: 2 of 3 image(s) not signed off; 11 of 22 cell(s) not checked by a person, "
            "1 of them unidentified") in printed  # word for word the report's DRAFT box
    assert "white cells: 7 (5 checked)" in printed and "1.50 platelets per field, 300.0 per 1,000 red cells" in printed
    # the report's words for the unchecked cells, by origin (11 = 5 model, 5 segmenter, 1 imported)
    assert "22 cells: 11 checked by a person, 11 unchecked (5 model, 5 segmenter, 1 imported)" in printed
    rows = _rows(tmp_path / "counts.csv")
    total = rows["all images"]
    assert (total["white_cells"], total["pct_neutrophil"], total["pct_lymphocyte"], total["pct_monocyte"],
            total[f"pct_{OWN_CLASS}"]) == ("7", "57.1", "14.3", "14.3", "14.3")
    assert total["erythroblast_per_100_white"] == "14.3" and total["unidentified_left_out"] == "1"
    assert (total["unchecked_cells"], total["unchecked_model"], total["unchecked_segmenter"],
            total["unchecked_imported"]) == ("10", "4", "5", "1")  # the unidentified 0.50 one left out
    assert (total["platelets"], total["red_cells"], total["platelets_per_1000_red_cells"]) == ("3", "10", "300.0")
    first = next(r for name, r in rows.items() if name.endswith(FIRST))  # the project's path to it
    assert total["signed_off"] == "1 of 3" and first["n_lymphocyte"] == "1" and first["unidentified_left_out"] == "1"


def test_an_unidentified_cell_on_a_signed_off_image_keeps_the_count_a_draft(smears, capsys):
    """The report calls this a DRAFT; ``count`` said nothing (it looked at counted cells only)."""
    folder, dataset = smears
    for image in dataset.images:
        for cell in image.instances:
            cell.reviewed = True
        image.signed_off = True
    dataset.images[0].instances.append(_cell("monocyte", 380, score=0.3))  # a doubtful call crept in
    save_coco(dataset, folder / "cells.json")
    assert main(["count", str(folder / "cells.json")]) == 0
    assert "DRAFT: 1 of 22 cell(s) not checked by a person, 1 of them unidentified" in capsys.readouterr().out
    dataset.images[0].instances.pop()
    save_coco(dataset, folder / "cells.json")
    assert main(["count", str(folder / "cells.json")]) == 0
    assert "DRAFT" not in capsys.readouterr().out


def test_without_white_cells_no_figure_per_100_white_cells_is_printed(tmp_path, capsys):
    Image.new("RGB", (400, 60), "white").save(tmp_path / "a.png")
    image = ImageAnnotation(tmp_path / "a.png", 400, 60, [_cell("erythroblast", 0), _cell("erythroblast", 30)])
    save_coco(Dataset([image], root=tmp_path), tmp_path / "cells.json")
    assert main(["count", str(tmp_path / "cells.json")]) == 0
    printed = capsys.readouterr().out
    assert "Erythroblast" in printed and "– (no white cells counted)" in printed  # before: 0.0 per 100
    assert "0.0 per 100" not in printed


def test_counts_csv_opens_in_excel_with_non_ascii_names_intact(tmp_path, capsys):
    """Excel on Windows reads a CSV without a byte-order mark in the legacy code page: "Zelle ä"
    became "Zelle Ã¤". The file starts with the mark; read as utf-8-sig its first header is clean."""
    from bloodview.core.classes import ClassCatalogue

    name = "Blut Müller.png"
    Image.new("RGB", (400, 60), "white").save(tmp_path / name)
    classes = ClassCatalogue.pbc()
    classes.add("Zelle ä", white_cell=True)
    image = ImageAnnotation(tmp_path / name, 400, 60, [_cell("Zelle ä", 0), _cell("neutrophil", 30)])
    save_coco(Dataset([image], classes, root=tmp_path), tmp_path / "cells.json")
    assert main(["count", str(tmp_path / "cells.json"), "--out", str(tmp_path / "counts.csv")]) == 0
    raw = (tmp_path / "counts.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "Zelle ä".encode() in raw
    with open(tmp_path / "counts.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "image" and "n_Zelle ä" in rows[0] and "pct_Zelle ä" in rows[0]
    assert rows[1][0].endswith(name) and rows[1][rows[0].index("pct_Zelle ä")] == "50.0"
    assert rows[-1][0] == "all images" and "," in raw.decode("utf-8-sig").splitlines()[0]


def test_a_crowd_region_is_not_counted_as_one_cell(smears, capsys):
    """A COCO crowd region outlines several red cells nobody told apart: counted, it made a clump one red
    cell (and a clump of white cells one of its class)."""
    folder, dataset = smears
    clump = _cell("rbc", 300, score=None, source=Source.IMPORT, extra={"iscrowd": True})
    dataset.images[0].instances.append(clump)
    save_coco(dataset, folder / "cells.json")
    assert main(["count", str(folder / "cells.json"), "--out", str(folder / "counts.csv")]) == 0
    assert "1 crowd region(s) left out" in capsys.readouterr().out
    assert _rows(folder / "counts.csv")["all images"]["red_cells"] == "12"
