"""An image's pixel size travels through project files and COCO; cell sizes in µm are exported."""

from __future__ import annotations

import json
import logging

import pytest
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance
from bloodview.core.measure import PixelSize
from bloodview.io.coco import load_coco, save_coco
from bloodview.io.project import load_project, project_pixel_size, save_project


@pytest.fixture
def dataset(tmp_path):
    for name in ("a.png", "b.png"):
        Image.new("RGB", (80, 60)).save(tmp_path / name)
    measured = ImageAnnotation("a.png", 80, 60, [Instance(rectangle(10, 10, 50, 50), "neutrophil")],
                               pixel_size=PixelSize(0.1, "red cells", 17))
    unknown = ImageAnnotation("b.png", 80, 60, [Instance(rectangle(0, 0, 20, 20), "lymphocyte")])
    return Dataset([measured, unknown], ClassCatalogue.pbc(), tmp_path)


def test_project_keeps_each_images_pixel_size_and_the_project_setting(tmp_path, dataset):
    save_project(dataset, tmp_path / "proj", settings={"pixel_size_um": 0.125})
    project = load_project(tmp_path / "proj")
    a, b = project.dataset.images
    assert a.pixel_size == PixelSize(0.1, "red cells", 17)
    assert b.pixel_size is None
    assert project_pixel_size(project.settings) == 0.125


def test_project_without_pixel_size_still_opens(tmp_path, dataset):
    """A project written before pixel sizes were kept: no field at all, no setting."""
    dataset.images[0].pixel_size = None
    save_project(dataset, tmp_path / "proj")
    annotation = next((tmp_path / "proj" / "annotations").glob("a-*.json"))
    assert "pixel_size" not in json.loads(annotation.read_text())
    project = load_project(tmp_path / "proj")
    assert [i.pixel_size for i in project.dataset.images] == [None, None]
    assert project_pixel_size(project.settings) is None
    assert len(project.dataset.images[0].instances) == 1


def test_a_damaged_pixel_size_loses_only_the_scale(tmp_path, dataset, caplog):
    save_project(dataset, tmp_path / "proj", settings={"pixel_size_um": "big"})
    annotation = next((tmp_path / "proj" / "annotations").glob("a-*.json"))
    record = json.loads(annotation.read_text())
    record["pixel_size"] = {"um_per_pixel": -3, "source": "red cells"}
    annotation.write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING):
        project = load_project(tmp_path / "proj")
        assert project_pixel_size(project.settings) is None
    image = project.dataset.images[0]
    assert image.pixel_size is None and len(image.instances) == 1
    assert "unreadable pixel size" in caplog.text and "pixel_size_um ignored" in caplog.text


def test_coco_export_gives_cell_sizes_in_micrometres_and_keeps_the_scale(tmp_path, dataset):
    out = save_coco(dataset, tmp_path / "out.json")
    data = json.loads(out.read_text())
    assert data["images"][0]["bloodview"]["pixel_size"] == {"um_per_pixel": 0.1, "source": "red cells",
                                                             "cells_measured": 17}
    assert "bloodview" not in data["images"][1] or "pixel_size" not in data["images"][1]["bloodview"]
    measured, unknown = data["annotations"]
    assert measured["bloodview"]["area_um2"] == pytest.approx(16.0)  # 40 x 40 px at 0.1 µm
    assert measured["bloodview"]["diameter_um"] == pytest.approx(4.51, abs=0.01)
    assert "area_um2" not in unknown["bloodview"]
    loaded = load_coco(out)
    assert loaded.images[0].pixel_size == PixelSize(0.1, "red cells", 17)
    assert loaded.images[1].pixel_size is None
    assert "area_um2" not in loaded.images[0].instances[0].extra  # derived, not stored on the cell


def test_coco_from_another_tool_has_no_scale(tmp_path, dataset):
    plain = {"images": [{"id": 1, "file_name": "a.png", "width": 80, "height": 60}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10, 10]}],
             "categories": [{"id": 1, "name": "neutrophil"}]}
    (tmp_path / "plain.json").write_text(json.dumps(plain))
    image = load_coco(tmp_path / "plain.json").images[0]
    assert image.pixel_size is None and image.cell_size(image.instances[0]) is None


def test_via_and_labelme_keep_the_scale_in_their_image_records(tmp_path, dataset):
    from bloodview.io.labelme import load_labelme, save_labelme
    from bloodview.io.via import load_via, save_via

    via = load_via(save_via(dataset, tmp_path / "via.json"), images_root=tmp_path)
    assert [i.pixel_size for i in via.images] == [PixelSize(0.1, "red cells", 17), None]
    save_labelme(dataset, tmp_path / "labelme")
    labelme = load_labelme(tmp_path / "labelme")
    by_name = {i.image_path.name: i.pixel_size for i in labelme.images}
    assert by_name == {"a.png": PixelSize(0.1, "red cells", 17), "b.png": None}
