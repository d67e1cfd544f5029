"""An image listed twice in a COCO file keeps all its cells in every format bloodview writes.

Regression: two COCO exports merged into one list ``a.png`` under ids 1 and 2, each with
its own cell. ``bloodview convert merged.json out.json --to via`` printed "2 images, 2
cells" and wrote one image with one cell; LabelMe, VOC and YOLO lost the other cell too.
"""

from __future__ import annotations

import json

import pytest
from PIL import Image

from bloodview.cli.main import main
from bloodview.io.detect import load_annotations

WRITTEN_BY_NAME = {"via": "out.json", "makesense-coco": "out.json", "labelme": "out", "voc": "out", "yolo": "out"}


def _merged_coco(folder, second_size=(100, 80)):
    Image.new("RGB", (100, 80), (220, 190, 200)).save(folder / "a.png")

    def cell(number, image_id, x):
        return {"id": number, "image_id": image_id, "category_id": 1, "iscrowd": 0, "area": 400,
                "bbox": [x, 10, 20, 20], "segmentation": [[x, 10, x + 20, 10, x + 20, 30, x, 30]]}

    data = {"images": [{"id": 1, "file_name": "a.png", "width": 100, "height": 80},
                       {"id": 2, "file_name": "a.png", "width": second_size[0], "height": second_size[1]}],
            "annotations": [cell(1, 1, 10), cell(2, 2, 60)],
            "categories": [{"id": 1, "name": "neutrophil"}]}
    path = folder / "merged.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", sorted(WRITTEN_BY_NAME))
def test_both_cells_of_an_image_listed_twice_are_written(tmp_path, caplog, fmt):
    merged = _merged_coco(tmp_path)
    out = tmp_path / WRITTEN_BY_NAME[fmt]
    assert main(["convert", str(merged), str(out), "--to", fmt]) == 0
    assert "image a.png is listed 2 times; its 2 cells are written as one image's" in caplog.text
    back = load_annotations(out, images=tmp_path)
    assert [str(image.image_path) for image in back.images] == ["a.png"]
    lefts = sorted(int(cell.polygons[0][:, 0].min()) for cell in back.images[0].instances)
    assert lefts == [10, 60]


def test_coco_and_project_keep_both_entries(tmp_path):
    merged = _merged_coco(tmp_path)
    assert main(["convert", str(merged), str(tmp_path / "out.json"), "--to", "coco"]) == 0
    assert len(json.loads((tmp_path / "out.json").read_text())["images"]) == 2


def test_an_image_listed_twice_with_different_sizes_is_refused_and_nothing_written(tmp_path, capsys):
    merged = _merged_coco(tmp_path, second_size=(50, 40))
    (tmp_path / "a.png").unlink()  # else the reader already refuses the wrong size
    out = tmp_path / "out.json"
    assert main(["convert", str(merged), str(out), "--to", "via"]) == 1
    err = capsys.readouterr().err
    assert err == ("bloodview: error: image a.png is listed 2 times with different sizes (50x40 and 100x80); "
                   "remove the wrong entries before converting\n")
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["labelme", "voc", "yolo", "mask-png"])
def test_two_images_that_would_share_one_file_are_refused_before_writing(tmp_path, capsys, fmt):
    """Regression: a.jpg and a.png both became a.json (a.xml, a.txt): the second overwrote the first."""
    merged = _merged_coco(tmp_path)
    data = json.loads(merged.read_text())
    Image.new("RGB", (100, 80), (220, 190, 200)).save(tmp_path / "a.jpg")
    data["images"][1]["file_name"] = "a.jpg"
    merged.write_text(json.dumps(data))
    out = tmp_path / "out"
    assert main(["convert", str(merged), str(out), "--to", fmt]) == 1
    target = {"labelme": "a.json", "voc": "a.xml", "yolo": "a.txt", "mask-png": "a.png"}[fmt]
    assert capsys.readouterr().err == (f"bloodview: error: images a.png and a.jpg would both be written to {target} "
                                       f"({fmt} names each file after its image without the extension): rename one, "
                                       "or write coco or project\n")
    assert not out.exists()
    assert main(["convert", str(merged), str(tmp_path / "both.json"), "--to", "via"]) == 0
