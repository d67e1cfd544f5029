"""COCO crowd regions (iscrowd=1, RLE) converted to VIA, MakeSense COCO and LabelMe.

Before, VIA and LabelMe exports dropped them without a word. Now VIA/MakeSense say how many of
which images were left out and why; LabelMe keeps them, flagged, and reads them back as crowd.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_api

from bloodview.cli.main import main
from bloodview.io.coco import load_coco
from bloodview.io.labelme import load_labelme


def _blob(height: int, width: int, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    mask[y0:y1, x0:x1] = 1
    mask[y0 + 3:y1 - 3, x1:x1 + 6] = 1  # a second cell touching the first: a clump
    return mask


@pytest.fixture
def crowd_coco(tmp_path):
    """a.png (80 x 60): one cell and two crowd regions, one compressed RLE and one uncompressed;
    b.png (50 x 40): one crowd region. Real image files, RLE made by pycocotools."""
    Image.new("RGB", (80, 60), "white").save(tmp_path / "a.png")
    Image.new("RGB", (50, 40), "white").save(tmp_path / "b.png")
    clump_a1, clump_a2 = _blob(60, 80, 30, 5, 45, 20), _blob(60, 80, 10, 35, 25, 50)
    clump_b = _blob(40, 50, 5, 5, 20, 25)
    compressed = mask_api.encode(np.asfortranarray(clump_a1))
    compressed["counts"] = compressed["counts"].decode("ascii")
    flat = clump_a2.flatten(order="F")
    runs = np.diff(np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])).tolist()
    uncompressed = {"size": [60, 80], "counts": ([0] if flat[0] else []) + runs}
    rle_b = mask_api.encode(np.asfortranarray(clump_b))
    rle_b["counts"] = rle_b["counts"].decode("ascii")
    data = {
        "images": [{"id": 1, "file_name": "a.png", "width": 80, "height": 60},
                   {"id": 2, "file_name": "b.png", "width": 50, "height": 40}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "segmentation": [[2, 2, 20, 2, 20, 20, 2, 20]]},
            {"id": 2, "image_id": 1, "category_id": 2, "iscrowd": 1, "segmentation": compressed},
            {"id": 3, "image_id": 1, "category_id": 2, "iscrowd": 1, "segmentation": uncompressed},
            {"id": 4, "image_id": 2, "category_id": 2, "iscrowd": 1, "segmentation": rle_b},
        ],
        "categories": [{"id": 1, "name": "neutrophil"}, {"id": 2, "name": "rbc"}],
    }
    (tmp_path / "gt.json").write_text(json.dumps(data), encoding="utf-8")
    return tmp_path, {"a.png": [clump_a1, clump_a2], "b.png": [clump_b]}


@pytest.mark.parametrize("fmt, name", [("via", "out.json"), ("makesense-coco", "ms.json")])
def test_formats_without_crowd_say_how_many_regions_of_which_images_they_leave_out(
        crowd_coco, fmt, name, capsys, caplog):
    folder, _ = crowd_coco
    with caplog.at_level(logging.WARNING):
        assert main(["convert", str(folder / "gt.json"), str(folder / name), "--to", fmt, "--add-classes"]) == 0
    printed = capsys.readouterr().out
    assert "1 cells, 3 crowd regions left out" in printed
    warned = [r.getMessage() for r in caplog.records if "crowd region" in r.getMessage()]
    assert len(warned) == 1
    assert "3 crowd region(s) (iscrowd=1) in 2 image(s) left out" in warned[0]
    assert "(a.png: 2, b.png: 1)" in warned[0] and "MakeSense" in warned[0]
    text = (folder / name).read_text(encoding="utf-8")
    assert text.count("neutrophil") >= 1 and '"iscrowd":1' not in text


def test_labelme_keeps_crowd_regions_flagged_and_reads_them_back_as_crowd(crowd_coco, capsys):
    folder, clumps = crowd_coco
    assert main(["convert", str(folder / "gt.json"), str(folder / "lm"), "--to", "labelme", "--add-classes"]) == 0
    assert "crowd regions left out" not in capsys.readouterr().out
    shapes = json.loads((folder / "lm" / "a.json").read_text(encoding="utf-8"))["shapes"]
    crowd = [s for s in shapes if s["flags"].get("iscrowd")]
    assert len(crowd) >= 2 and all("several cells" in s["description"] for s in crowd)
    assert [s["flags"] for s in shapes if s["label"] == "neutrophil"] == [{}]
    back = load_labelme(folder / "lm", images_root=folder, add_unknown_classes=True)
    for image in back.images:
        regions = [i for i in image.instances if i.extra.get("iscrowd")]
        assert len(regions) == len(clumps[image.image_path.name])
        for region, clump in zip(regions, clumps[image.image_path.name]):
            traced = region.to_mask(image.height, image.width)
            iou = (traced & clump.astype(bool)).sum() / (traced | clump.astype(bool)).sum()
            assert iou > 0.8, iou  # outlines traced from the RLE, not a box
    # and on to COCO: crowd regions again, as RLE
    again_json = str(folder / "again.json")
    assert main(["convert", str(folder / "lm"), again_json, "--to", "coco", "--images", str(folder)]) == 0
    again = json.loads((folder / "again.json").read_text(encoding="utf-8"))
    assert sorted(a["iscrowd"] for a in again["annotations"]) == [0, 1, 1, 1]
    assert all(isinstance(a["segmentation"], dict) for a in again["annotations"] if a["iscrowd"])


def test_a_labelme_crowd_flag_alone_marks_a_crowd_region(crowd_coco, capsys):
    """A file saved by a tool that dropped bloodview's record keeps the shape flags (LabelMe does)."""
    folder, _ = crowd_coco
    assert main(["convert", str(folder / "gt.json"), str(folder / "lm"), "--to", "labelme", "--add-classes"]) == 0
    path = folder / "lm" / "b.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for shape in data["shapes"]:
        shape.pop("bloodview")
    path.write_text(json.dumps(data), encoding="utf-8")
    (image,) = load_labelme(path, images_root=folder, add_unknown_classes=True).images
    assert [i.extra.get("iscrowd") for i in image.instances] == [True]


def test_the_coco_reader_traces_crowd_rle_into_outlines(crowd_coco):
    folder, clumps = crowd_coco
    dataset = load_coco(folder / "gt.json", add_unknown_classes=True)
    assert [sum(bool(i.extra.get("iscrowd")) for i in image.instances) for image in dataset.images] == [2, 1]
