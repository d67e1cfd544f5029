"""MakeSense VGG and COCO exports, byte for byte as MakeSense writes them.

The expected strings follow MakeSense's exporters (src/logic/export/polygon/
VGGExporter.ts and COCOExporter.ts: JSON.stringify, key order, first vertex
repeated for VGG, annotation ids from 0 and category id = label position + 1
for COCO).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance
from bloodview.errors import FormatError, ImageError, UnknownClassError
from bloodview.io.makesense import load_makesense_coco, load_via, save_makesense_coco, save_via

PBC_CATEGORIES = (
    '[{"id":1,"name":"basophil"},{"id":2,"name":"eosinophil"},{"id":3,"name":"erythroblast"},'
    '{"id":4,"name":"ig"},{"id":5,"name":"lymphocyte"},{"id":6,"name":"monocyte"},'
    '{"id":7,"name":"neutrophil"},{"id":8,"name":"platelet"}]'
)


@pytest.fixture
def smear(tmp_path):
    """Two images on disk (one without cells) and their dataset."""
    Image.new("RGB", (64, 48), "white").save(tmp_path / "a.png")
    Image.new("RGB", (32, 32), "white").save(tmp_path / "empty.png")
    Image.new("RGB", (20, 30), "white").save(tmp_path / "b.png")
    a = ImageAnnotation("a.png", 64, 48, [
        Instance(np.array([[1, 1], [5, 1], [6, 10], [0, 10]], float), "neutrophil"),
        Instance(np.array([[10.5, 20], [30, 20.25], [20, 40]]), "platelet"),
    ])
    b = ImageAnnotation("b.png", 20, 30, [Instance(rectangle(2, 3, 12, 13), "lymphocyte", box_only=True)])
    return Dataset([a, ImageAnnotation("empty.png", 32, 32), b], ClassCatalogue.pbc(), tmp_path)


def test_vgg_export_is_laid_out_as_makesense(tmp_path, smear):
    save_via(smear, tmp_path / "out.json", provenance=False)
    size_a = (tmp_path / "a.png").stat().st_size
    size_b = (tmp_path / "b.png").stat().st_size
    expected = (
        '{"a.png":{"fileref":"","size":%d,"filename":"a.png","base64_img_data":"","file_attributes":{},'
        '"regions":{"0":{"shape_attributes":{"name":"polygon","all_points_x":[1,5,6,0,1],'
        '"all_points_y":[1,1,10,10,1]},"region_attributes":{"label":"neutrophil"}},'
        '"1":{"shape_attributes":{"name":"polygon","all_points_x":[10.5,30,20,10.5],'
        '"all_points_y":[20,20.25,40,20]},"region_attributes":{"label":"platelet"}}}},'
        '"b.png":{"fileref":"","size":%d,"filename":"b.png","base64_img_data":"","file_attributes":{},'
        '"regions":{"0":{"shape_attributes":{"name":"polygon","all_points_x":[2,12,12,2,2],'
        '"all_points_y":[3,3,13,13,3]},"region_attributes":{"label":"lymphocyte"}}}}}'
    ) % (size_a, size_b)
    assert (tmp_path / "out.json").read_text(encoding="utf-8") == expected


def test_makesense_coco_export_is_laid_out_as_makesense(tmp_path, smear):
    save_makesense_coco(smear, tmp_path / "coco.json", description="smears")
    expected = (
        '{"info":{"description":"smears"},'
        '"images":[{"id":1,"width":64,"height":48,"file_name":"a.png"},'
        '{"id":2,"width":20,"height":30,"file_name":"b.png"}],'
        '"annotations":['
        '{"id":0,"iscrowd":0,"image_id":1,"category_id":7,"segmentation":[[1,1,5,1,6,10,0,10]],'
        '"bbox":[0,1,6,9],"area":45},'
        '{"id":1,"iscrowd":0,"image_id":1,"category_id":8,"segmentation":[[10.5,20,30,20.25,20,40]],'
        '"bbox":[10.5,20,19.5,20],"area":193.8125},'
        '{"id":2,"iscrowd":0,"image_id":2,"category_id":5,"segmentation":[[2,3,12,3,12,13,2,13]],'
        '"bbox":[2,3,10,10],"area":100}],'
        '"categories":' + PBC_CATEGORIES + "}"
    )
    assert (tmp_path / "coco.json").read_text(encoding="utf-8") == expected


@pytest.mark.parametrize("saver, loader", [(save_via, load_via), (save_makesense_coco, load_makesense_coco)])
def test_round_trip_keeps_outlines_and_classes(tmp_path, smear, saver, loader):
    saver(smear, tmp_path / "x.json")
    back = loader(tmp_path / "x.json")
    assert [i.image_path.name for i in back] == ["a.png", "b.png"]  # images without cells left out
    for before, after in zip([smear.images[0], smear.images[2]], back):
        assert (after.width, after.height) == (before.width, before.height)
        assert [i.class_name for i in after] == [i.class_name for i in before]
        for x, y in zip(before, after):
            np.testing.assert_allclose(x.polygons[0], y.polygons[0])


def test_import_file_made_by_makesense_vgg(tmp_path):
    Image.new("RGB", (100, 80)).save(tmp_path / "smear 1.jpg")
    made = (
        '{"smear 1.jpg":{"fileref":"","size":1234,"filename":"smear 1.jpg","base64_img_data":"",'
        '"file_attributes":{},"regions":{"0":{"shape_attributes":{"name":"polygon",'
        '"all_points_x":[10.4,50.2,30.7,10.4],"all_points_y":[5.5,6,40.25,5.5]},'
        '"region_attributes":{"label":"Neutrophil"}}}}}'
    )
    (tmp_path / "labels_my-project_2024.json").write_text(made)
    (image,) = load_via(tmp_path / "labels_my-project_2024.json")
    (cell,) = image.instances
    assert cell.class_name == "neutrophil" and (image.width, image.height) == (100, 80)
    np.testing.assert_allclose(cell.polygons[0], [[10.4, 5.5], [50.2, 6], [30.7, 40.25]])


def test_import_via2_project_with_list_regions_and_size_keys(tmp_path):
    Image.new("RGB", (60, 60)).save(tmp_path / "f.png")
    project = {
        "_via_settings": {},
        "_via_attributes": {"region": {"type": {}}},
        "_via_img_metadata": {
            "f.png3456": {
                "filename": "f.png", "size": 3456, "file_attributes": {},
                "regions": [
                    {"shape_attributes": {"name": "rect", "x": 5, "y": 6, "width": 10, "height": 12},
                     "region_attributes": {"type": "monocyte"}},
                    {"shape_attributes": {"name": "circle", "cx": 30, "cy": 30, "r": 8},
                     "region_attributes": {"type": "basophil"}},
                    {"shape_attributes": {"name": "point", "cx": 3, "cy": 3},
                     "region_attributes": {"type": "basophil"}},
                    {"shape_attributes": {"name": "ellipse", "cx": 40, "cy": 10, "rx": 6, "ry": 3, "theta": 0.5},
                     "region_attributes": {"type": {"ig": True, "monocyte": False}}},
                ],
            }
        },
    }
    (tmp_path / "via.json").write_text(json.dumps(project))
    (image,) = load_via(tmp_path / "via.json")
    box, circle, ellipse = image.instances
    assert box.box_only and box.bbox == (5, 6, 15, 18) and box.class_name == "monocyte"
    assert circle.class_name == "basophil" and circle.area == pytest.approx(np.pi * 64, rel=0.02)
    assert ellipse.class_name == "ig" and ellipse.area == pytest.approx(np.pi * 18, rel=0.02)


def test_via_needs_images_and_known_labels(tmp_path):
    made = ('{"gone.jpg":{"filename":"gone.jpg","regions":{"0":{"shape_attributes":{"name":"polygon",'
            '"all_points_x":[1,5,3],"all_points_y":[1,1,4]},"region_attributes":{"label":"RBC"}}}}}')
    (tmp_path / "v.json").write_text(made)
    with pytest.raises(ImageError, match=r"gone.jpg: image file not found; VIA files do not store image sizes"):
        load_via(tmp_path / "v.json")
    Image.new("RGB", (10, 10)).save(tmp_path / "gone.jpg")
    with pytest.raises(UnknownClassError, match=r"v.json: unknown cell class 'RBC'; known classes: basophil"):
        load_via(tmp_path / "v.json")
    dataset = load_via(tmp_path / "v.json", add_unknown_classes=True)
    assert dataset.images[0].instances[0].class_name == "rbc" and "rbc" in dataset.classes


def test_via_escaping_file_name_refused(tmp_path):
    made = '{"x":{"filename":"../../etc/hosts","regions":{}}}'
    (tmp_path / "v.json").write_text(made)
    with pytest.raises(FormatError, match="points outside the data folder"):
        load_via(tmp_path / "v.json")


def test_makesense_coco_import_skips_crowd(tmp_path):
    made = (
        '{"info":{"description":"p"},"images":[{"id":1,"width":50,"height":40,"file_name":"a.jpg"}],'
        '"annotations":[{"id":0,"iscrowd":0,"image_id":1,"category_id":1,"segmentation":[[1,1,9,1,9,9]],'
        '"bbox":[1,1,8,8],"area":32},{"id":1,"iscrowd":1,"image_id":1,"category_id":1,'
        '"segmentation":[[1,1,9,1,9,9]],"bbox":[1,1,8,8],"area":32}],'
        '"categories":[{"id":1,"name":"eosinophil"}]}'
    )
    (tmp_path / "m.json").write_text(made)
    (image,) = load_makesense_coco(tmp_path / "m.json")
    assert [i.class_name for i in image] == ["eosinophil"]


def test_collision_of_names_keeps_both_images(tmp_path):
    cell = Instance(rectangle(1, 1, 5, 5), "ig")
    dataset = Dataset([ImageAnnotation("x/a.png", 10, 10, [cell]), ImageAnnotation("y/a.png", 10, 10, [cell.copy()])])
    save_makesense_coco(dataset, tmp_path / "c.json")
    names = [i["file_name"] for i in json.loads((tmp_path / "c.json").read_text())["images"]]
    assert names == ["x/a.png", "y/a.png"]
