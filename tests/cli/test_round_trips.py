"""Whatever bloodview writes, bloodview reads back, with no flags; reader warnings come summarised."""

from __future__ import annotations

import json
import logging
import shutil

import pytest
from PIL import Image

from bloodview.cli.cmd_convert import TO_FORMATS
from bloodview.cli.main import main
from bloodview.core.classes import PBC_CLASSES


@pytest.fixture
def yolo_set(tmp_path):
    """A BCCD-like YOLO set: WBC, RBC, Platelets boxes on two 100 x 80 images."""
    root = tmp_path / "yolo"
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "classes.txt").write_text("WBC\nRBC\nPlatelets\n", encoding="utf-8")
    for name in ("a", "b"):
        Image.new("RGB", (100, 80), (220, 180, 190)).save(root / "images" / f"{name}.jpg")
        (root / "labels" / f"{name}.txt").write_text(
            "0 0.3 0.4 0.2 0.25\n1 0.7 0.5 0.1 0.125\n1 0.5 0.2 0.1 0.1\n2 0.1 0.8 0.05 0.05\n", encoding="utf-8")
    return root


def _convert(*args) -> int:
    return main(["convert", *map(str, args)])


def test_via_written_from_yolo_converts_back_to_coco_without_add_classes(yolo_set, tmp_path, capsys):
    """The issue's case: 'unknown cell class rbc' on bloodview's own VIA file."""
    images = yolo_set / "images"
    assert _convert(yolo_set, tmp_path / "v.json", "--to", "via") == 0
    assert _convert(tmp_path / "v.json", tmp_path / "c.json", "--to", "coco", "--images", images) == 0
    assert "2 images, 8 cells" in capsys.readouterr().out
    categories = {c["name"]: c["bloodview"] for c in json.loads((tmp_path / "c.json").read_text())["categories"]}
    assert categories["wbc"]["white_cell"] and not categories["rbc"]["white_cell"]
    pbc_colours = {"#%02x%02x%02x" % c.color for c in PBC_CLASSES}
    added = [categories[n]["color"] for n in ("wbc", "rbc")]
    assert len(set(added)) == 2 and not set(added) & pbc_colours
    assert [categories[n]["key"] for n in ("wbc", "rbc")] == ["9", "0"]


@pytest.mark.parametrize("fmt", [f for f in TO_FORMATS if f != "mask-png"])
def test_every_written_format_reads_back_with_its_classes(yolo_set, tmp_path, fmt):
    out = tmp_path / ("out.json" if fmt in ("coco", "via", "makesense-coco") else "out")
    assert _convert(yolo_set, out, "--to", fmt) == 0
    assert _convert(out, tmp_path / "back.json", "--to", "coco", "--images", yolo_set / "images") == 0
    data = json.loads((tmp_path / "back.json").read_text())
    names = {c["id"]: c["name"] for c in data["categories"]}
    counts = {}
    for annotation in data["annotations"]:
        counts[names[annotation["category_id"]]] = counts.get(names[annotation["category_id"]], 0) + 1
    assert counts == {"wbc": 2, "rbc": 4, "platelet": 2}


def test_mask_pngs_written_read_back(yolo_set, tmp_path):
    """A mask carries no class and these fields mix classes (no labels.csv row): every cell comes back, as the
    default class."""
    assert _convert(yolo_set, tmp_path / "masks", "--to", "mask-png") == 0
    assert _convert(tmp_path / "masks", tmp_path / "back.json", "--to", "coco",
                    "--images", yolo_set / "images") == 0
    assert len(json.loads((tmp_path / "back.json").read_text())["annotations"]) >= 6


def test_clipped_boxes_give_one_summary_line(yolo_set, tmp_path, caplog):
    lines = "".join(f"1 0.02 {0.1 + 0.025 * i:.3f} 0.1 0.05\n" for i in range(30))  # 30 boxes over the left edge
    (yolo_set / "labels" / "a.txt").write_text(lines, encoding="utf-8")
    with caplog.at_level(logging.INFO):
        assert _convert(yolo_set, tmp_path / "c.json", "--to", "coco") == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("outline crosses the image border; clipped to the image (")
    assert "(30 times, e.g. a.txt line 1; a.txt line 2; a.txt line 3, ...)" in warnings[0]


def test_a_project_with_its_images_beside_it_exports_coco_that_reads_back(yolo_set, tmp_path):
    """Regression: a project keeps its images beside it (``../images/a.jpg``); its COCO export wrote
    that name, which bloodview then refused ("points outside the data folder")."""
    lab = tmp_path / "lab"
    shutil.copytree(yolo_set / "images", lab / "images")
    shutil.rmtree(yolo_set / "images")  # the images are now only those beside the project
    assert _convert(yolo_set, lab / "project", "--to", "project", "--images", lab / "images") == 0
    assert {e["path"] for e in json.loads((lab / "project" / "project.json").read_text())["images"]} == {
        "../images/a.jpg", "../images/b.jpg"}
    assert _convert(lab / "project", lab / "cells.json", "--to", "coco") == 0
    names = sorted(i["file_name"] for i in json.loads((lab / "cells.json").read_text())["images"])
    assert names == ["images/a.jpg", "images/b.jpg"]  # relative to the file's folder, found without --images
    assert _convert(lab / "cells.json", tmp_path / "back.json", "--to", "via") == 0  # VIA needs the images
    elsewhere = tmp_path / "exports"
    elsewhere.mkdir()
    assert _convert(lab / "project", elsewhere / "cells.json", "--to", "coco") == 0
    assert sorted(i["file_name"] for i in json.loads((elsewhere / "cells.json").read_text())["images"]) == [
        "a.jpg", "b.jpg"]
    assert _convert(elsewhere / "cells.json", tmp_path / "again.json", "--to", "via", "--images", lab / "images") == 0
