"""A cell imported with overlapping parts is one outline: its area counted once.

Regression: a COCO annotation with the polygons ``[10,10,40,10,40,50,10,50]`` and
``[20,10,60,10,60,50,20,50]`` (one cell drawn in two overlapping strokes) read as a two-part cell of
area 2800 (``Instance.area`` sums the parts) and was exported with ``area`` 2800, where pycocotools
counts 2000 pixels; its size in µm was too large. The same came in through LabelMe shapes sharing a
``group_id``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from bloodview.io.detect import load_annotations, save_annotations

LEFT = [10, 10, 40, 10, 40, 50, 10, 50]
RIGHT = [20, 10, 60, 10, 60, 50, 20, 50]
FAR = [70, 10, 90, 10, 90, 30, 70, 30]
BOW_TIE = [5, 60, 25, 80, 25, 60, 5, 80]  # crosses itself: kept as read


def _coco(path: Path, segmentation, bbox=(10, 10, 50, 40)) -> Path:
    Image.new("RGB", (100, 100), "white").save(path.parent / "a.png")
    path.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.png", "width": 100, "height": 100}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 0, "bbox": list(bbox),
                         "segmentation": segmentation}],
        "categories": [{"id": 1, "name": "neutrophil"}]}), encoding="utf-8")
    return path


def _pixels(segmentation) -> int:
    """What pycocotools counts for a polygon segmentation (the parts' union)."""
    return int(mask_utils.area(mask_utils.merge(mask_utils.frPyObjects(segmentation, 100, 100))))


def test_overlapping_coco_parts_are_one_outline_with_the_area_pycocotools_counts(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="bloodview"):
        dataset = load_annotations(_coco(tmp_path / "in.json", [LEFT, RIGHT]))
    (cell,) = dataset.images[0].instances
    assert len(cell.polygons) == 1 and cell.area == pytest.approx(2000)
    assert _pixels([LEFT, RIGHT]) == 2000
    assert "parts of one cell overlap; joined into one outline" in caplog.text  # said, not done silently

    out = save_annotations(dataset, tmp_path / "out.json", "coco")
    (written,) = json.loads(out.read_text())["annotations"]
    assert written["area"] == pytest.approx(2000)
    assert _pixels(written["segmentation"]) == pytest.approx(2000, abs=60)  # pixel edges, not polygon area


def test_disjoint_parts_stay_as_they_are(tmp_path):
    dataset = load_annotations(_coco(tmp_path / "in.json", [LEFT, FAR], bbox=(10, 10, 80, 40)))
    (cell,) = dataset.images[0].instances
    expected = [np.reshape(LEFT, (-1, 2)).tolist(), np.reshape(FAR, (-1, 2)).tolist()]
    assert [p.tolist() for p in cell.polygons] == expected


def test_a_self_crossing_part_is_kept_as_read_beside_joined_ones(tmp_path):
    dataset = load_annotations(_coco(tmp_path / "in.json", [LEFT, RIGHT, BOW_TIE], bbox=(5, 10, 55, 70)))
    (cell,) = dataset.images[0].instances
    assert len(cell.polygons) == 2
    assert cell.polygons[1].tolist() == np.reshape(BOW_TIE, (-1, 2)).tolist()


def test_labelme_shapes_grouped_into_one_cell_are_joined_where_they_overlap(tmp_path):
    Image.new("RGB", (100, 100), "white").save(tmp_path / "a.png")
    shapes = [{"label": "neutrophil", "points": np.reshape(points, (-1, 2)).tolist(), "group_id": 1,
               "shape_type": "polygon", "flags": {}} for points in (LEFT, RIGHT, FAR)]
    (tmp_path / "a.json").write_text(json.dumps({
        "version": "5.4.1", "flags": {}, "imagePath": "a.png", "imageData": None, "imageWidth": 100,
        "imageHeight": 100, "shapes": shapes}))
    dataset = load_annotations(tmp_path / "a.json")
    (cell,) = dataset.images[0].instances
    assert len(cell.polygons) == 2 and cell.area == pytest.approx(2000 + 400)


def test_a_project_keeps_the_parts_the_editor_saved(tmp_path):
    """The editor keeps a project's parts apart (it joins overlapping strokes itself); reading a project
    through ``load_annotations`` must not change what the window shows for it."""
    from bloodview.core.annotation import Dataset, ImageAnnotation
    from bloodview.core.instance import Instance
    from bloodview.io.project import save_project

    Image.new("RGB", (100, 100), "white").save(tmp_path / "a.png")
    parts = [np.reshape(LEFT, (-1, 2)).astype(float), np.reshape(RIGHT, (-1, 2)).astype(float)]
    save_project(Dataset([ImageAnnotation("a.png", 100, 100, [Instance(parts, "neutrophil")])], root=tmp_path),
                 tmp_path / "project")
    (cell,) = load_annotations(tmp_path / "project").images[0].instances
    assert len(cell.polygons) == 2
