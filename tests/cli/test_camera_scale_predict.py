"""``bloodview predict`` on a folder from one camera: a field without usable red cells takes the camera's scale."""

from __future__ import annotations

import json
import shutil

import pytest

from bloodview.cli.main import main
from tests.conftest import REPO

DEFAULT_MODEL = REPO / "resources" / "models" / "default"
MEASURED = ("BloodImage_00068", "BloodImage_00135", "BloodImage_00167")  # good red-cell estimates: 0.0805-0.0813 µm/px
CROWDED = "BloodImage_00016"  # overlapping red cells, none whole: no estimate of its own


@pytest.mark.slow
@pytest.mark.skipif(not (DEFAULT_MODEL / "model.json").is_file(), reason="no default model in resources/models")
def test_a_field_without_whole_red_cells_is_read_at_the_scale_of_the_other_fields_of_its_camera(
        bccd_dir, tmp_path, capsys):
    folder = tmp_path / "fields"
    folder.mkdir()
    for name in (*MEASURED, CROWDED):
        shutil.copy(bccd_dir / "JPEGImages" / f"{name}.jpg", folder / f"{name}.jpg")
    out = tmp_path / "cells.json"
    assert main(["predict", str(folder), "--out", str(out), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "1 image(s) without usable red cells read again at their camera's scale" in err
    images = {i["file_name"]: i for i in json.loads(out.read_text())["images"]}
    scales = {name: images[f"{name}.jpg"]["bloodview"]["pixel_size"] for name in (*MEASURED, CROWDED)}
    assert all(scales[name]["source"] == "red cells" for name in MEASURED)
    measured = sorted(scales[name]["um_per_pixel"] for name in MEASURED)
    crowded = scales[CROWDED]
    assert crowded["source"] == "same camera" and crowded["um_per_pixel"] == pytest.approx(measured[1], rel=1e-4)
    # its cells are there, found at that scale, and sized in µm like the measured fields' cells
    cells = [a for a in json.loads(out.read_text())["annotations"] if a["image_id"] == images[f"{CROWDED}.jpg"]["id"]]
    assert cells and all("diameter_um" in a["bloodview"] for a in cells)

    # a pixel size the user gives wins over every estimate: nothing is read again
    given = tmp_path / "given.json"
    assert main(["predict", str(folder), "--out", str(given), "--device", "cpu", "--pixel-size", "0.09"]) == 0
    assert "read again" not in capsys.readouterr().err
    assert {i["bloodview"]["pixel_size"]["source"] for i in json.loads(given.read_text())["images"]} == {"given"}
