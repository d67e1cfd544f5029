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
    with open(path, newline="") as handle:
        return {row["image"]: row for row in csv.DictReader(handle)}


def test_count_prints_and_writes_the_differential_by_the_apps_rules(smears, capsys):
    folder, dataset = smears
    save_coco(dataset, folder / "cells.json")
    assert main(["count", str(folder / "cells.json"), "--out", str(folder / "counts.csv")]) == 0
    printed = capsys.readouterr().out
    # white cells: 3 neutrophils + the confirmed eosinophil + b's lymphocyte; the 0.5 lymphocyte left out
    assert "white cells: 5 (2 checked)" in printed
    assert "1 unidentified cell(s) left out" in printed and "DRAFT: 1 image(s) not signed off" in printed
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
