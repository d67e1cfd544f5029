"""Who made each cell and who signed each image off survives every format that has room for it.

Where a format has no room (MakeSense's own files, MakeSense COCO, VOC, YOLO,
mask PNGs), cells come back as *unreviewed imports*, never as checked by a
person (issue 19, bug 4: a MakeSense VIA round trip turned model guesses into
"human, checked" cells and unreviewed images said "Ready to sign off").
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from bloodview.cli.main import main
from bloodview.core.annotation import Dataset, ImageAnnotation, SignOffEvent
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.io.coco import load_coco, save_coco
from bloodview.io.detect import load_annotations, save_annotations
from bloodview.io.labelme import load_labelme, save_labelme
from bloodview.io.makesense import load_makesense_coco, load_via, save_makesense_coco, save_via
from bloodview.io.project import load_project, save_project


def ellipse(cx, cy, rx, ry, n=40):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


SIGNED = [SignOffEvent(True, "ana", "2026-11-30T09:00:00+00:00"),
          SignOffEvent(False, "ben", "2026-11-30T10:00:00+00:00"),
          SignOffEvent(True, "ana", "2026-11-30T11:00:00+00:00")]


@pytest.fixture
def reviewed(tmp_path):
    """Three smears on disk: one half-reviewed, one signed off (with who/when), one signed off as empty."""
    folder = tmp_path / "smears"
    folder.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        Image.new("RGB", (200, 160), "white").save(folder / name)
    a = ImageAnnotation("a.png", 200, 160, [
        Instance([ellipse(40, 40, 20, 15)], "neutrophil", score=0.62, source=Source.MODEL, origin="default@2026"),
        Instance([ellipse(100, 40, 18, 18)], "lymphocyte", score=0.97, source=Source.MODEL, reviewed=True,
                 origin="default@2026", extra={"reviewed_by": "ana", "reviewed_at": "2026-11-30T08:59:00+00:00"}),
        Instance([ellipse(160, 40, 15, 12)], "basophil", score=0.55, source=Source.MODEL, corrected=True,
                 extra={"model_class": "monocyte"}),
        Instance([ellipse(40, 110, 10, 10), ellipse(70, 110, 8, 8)], "eosinophil", score=0.8,
                 source=Source.MODEL),  # a cell cut in two by its neighbour
        Instance([ellipse(140, 110, 25, 20)], "monocyte", source=Source.BOOTSTRAP, quality=0.7,
                 origin="bootstrap@1"),
    ], split="train")
    b = ImageAnnotation("b.png", 200, 160, [Instance([ellipse(100, 80, 30, 25)], "platelet")],
                        signed_off=True, sign_off_history=list(SIGNED), image_label="platelet")
    c = ImageAnnotation("c.png", 200, 160, signed_off=True, sign_off_history=SIGNED[:1])
    return Dataset([a, b, c], ClassCatalogue.pbc(), folder)


def cell_provenance(instance: Instance):
    return (instance.class_name, instance.source, instance.reviewed, instance.corrected,
            None if instance.score is None else round(instance.score, 6), instance.quality, instance.origin,
            instance.box_only, instance.extra, len(instance.polygons), tuple(round(v) for v in instance.bbox))


def provenance_of(dataset: Dataset):
    return [
        (image.image_path.name, image.signed_off, [e.to_dict() for e in image.sign_off_history],
         sorted((i.id, cell_provenance(i)) for i in image.instances))
        for image in sorted(dataset.images, key=lambda i: i.image_path.name)
    ]


def test_coco_keeps_every_cell_and_sign_off_record(reviewed, tmp_path):
    save_coco(reviewed, tmp_path / "smears" / "out.json")
    back = load_coco(tmp_path / "smears" / "out.json")
    assert provenance_of(back) == provenance_of(reviewed)
    assert back.images[1].image_label == "platelet" and back.images[0].split == "train"


def test_via_keeps_every_record_in_a_namespaced_region_attribute(reviewed, tmp_path):
    target = tmp_path / "out.json"
    save_via(reviewed, target)
    back = load_via(target, images_root=tmp_path / "smears")
    assert provenance_of(back) == provenance_of(reviewed)
    data = json.loads(target.read_text())
    by_name = {entry["filename"]: entry for entry in data.values()}  # keyed as VIA 2: name + size
    region = by_name["a.png"]["regions"]["0"]
    # MakeSense's layout, plus one string attribute (VIA attributes are text) other tools leave alone
    assert set(region["region_attributes"]) == {"label", "bloodview"}
    assert region["region_attributes"]["label"] == "neutrophil"
    assert json.loads(region["region_attributes"]["bloodview"])["source"] == "model"
    assert json.loads(by_name["b.png"]["file_attributes"]["bloodview"])["sign_off_history"][1]["by"] == "ben"
    assert by_name["c.png"]["regions"] == {}  # signed off as empty: kept so the sign-off survives
    assert len(by_name["a.png"]["regions"]) == 6  # the two-part cell is two regions, joined again on reading


def test_labelme_keeps_records_and_shows_the_sign_off_as_a_flag(reviewed, tmp_path):
    save_labelme(reviewed, tmp_path / "labelme")
    back = load_labelme(tmp_path / "labelme", images_root=tmp_path / "smears")
    assert provenance_of(back) == provenance_of(reviewed)
    data = json.loads((tmp_path / "labelme" / "b.json").read_text())
    assert data["flags"] == {"bloodview_signed_off": True}
    assert data["bloodview"]["sign_off_history"][0] == {"signed_off": True, "by": "ana",
                                                         "at": "2026-11-30T09:00:00+00:00"}


def test_unticking_the_labelme_flag_withdraws_the_sign_off(reviewed, tmp_path):
    save_labelme(reviewed, tmp_path / "labelme")
    file = tmp_path / "labelme" / "b.json"
    data = json.loads(file.read_text())
    data["flags"]["bloodview_signed_off"] = False  # what LabelMe writes when the box is unticked
    file.write_text(json.dumps(data))
    back = load_labelme(file, images_root=tmp_path / "smears")
    assert not back.images[0].signed_off
    assert back.images[0].instances[0].source == Source.HUMAN  # the cells keep their own record


def test_project_keeps_the_sign_off_history(reviewed, tmp_path):
    save_project(reviewed, tmp_path / "project")
    back = load_project(tmp_path / "project").dataset
    assert provenance_of(back) == provenance_of(reviewed)


MAKESENSE_VGG = (
    '{"a.png":{"fileref":"","size":1234,"filename":"a.png","base64_img_data":"","file_attributes":{},'
    '"regions":{"0":{"shape_attributes":{"name":"polygon","all_points_x":[20,60,60,20,20],'
    '"all_points_y":[25,25,55,55,25]},"region_attributes":{"label":"neutrophil"}},'
    '"1":{"shape_attributes":{"name":"polygon","all_points_x":[80,120,100,80],'
    '"all_points_y":[20,20,60,20]},"region_attributes":{"label":"lymphocyte"}}}}}'
)


MAKESENSE_COCO = (
    '{"info":{"description":"my-project"},"images":[{"id":1,"width":200,"height":160,"file_name":"a.png"}],'
    '"annotations":[{"id":0,"iscrowd":0,"image_id":1,"category_id":2,"segmentation":[[20,25,60,25,60,55,20,55]],'
    '"bbox":[20,25,40,30],"area":1200}],"categories":[{"id":1,"name":"basophil"},{"id":2,"name":"neutrophil"}]}'
)


@pytest.mark.parametrize("made, expected", [
    (MAKESENSE_VGG, ["neutrophil", "lymphocyte"]),
    (MAKESENSE_COCO, ["neutrophil"]),
])
def test_a_file_written_by_makesense_comes_back_as_unreviewed_imports(reviewed, tmp_path, made, expected):
    """Bug 4: MakeSense's own exports (literal bytes) must never read as person-checked."""
    file = tmp_path / "smears" / "labels_my-project_2026-11-30.json"
    file.write_text(made)
    (image,) = load_annotations(file).images
    assert [(i.class_name, i.source, i.reviewed, i.corrected) for i in image.instances] == [
        (name, Source.IMPORT, False, False) for name in expected]
    assert not image.signed_off


@pytest.mark.parametrize("fmt", ["makesense-coco", "voc", "yolo", "mask-png"])
def test_formats_without_room_give_unreviewed_imports_with_outlines_and_classes(reviewed, tmp_path, fmt):
    out = tmp_path / fmt
    out.mkdir()
    written = save_annotations(reviewed, out, fmt)
    back = load_annotations(written, images=tmp_path / "smears", fmt=fmt, classes=ClassCatalogue.pbc())
    cells = [i for image in back.images for i in image.instances]
    assert cells and all(i.source == Source.IMPORT and not i.reviewed and not i.corrected for i in cells)
    assert not any(image.signed_off for image in back.images)
    if fmt != "mask-png":  # instance masks carry no class
        assert {i.class_name for i in cells} <= set(reviewed.classes.names)


def test_makesense_coco_round_trip_is_outlines_and_classes_only(reviewed, tmp_path):
    save_makesense_coco(reviewed, tmp_path / "smears" / "ms.json")
    back = load_makesense_coco(tmp_path / "smears" / "ms.json")
    original = sorted(i.class_name for i in reviewed.images[0].instances for _ in i.polygons)
    assert sorted(i.class_name for i in back.images[0].instances) == original
    assert all(i.source == Source.IMPORT and not i.reviewed for i in back.images[0].instances)


def test_another_tools_coco_and_labelme_give_unreviewed_imports(tmp_path):
    Image.new("RGB", (80, 60)).save(tmp_path / "a.jpg")
    coco = {"images": [{"id": 7, "file_name": "a.jpg", "width": 80, "height": 60}],
            "annotations": [{"id": 1, "image_id": 7, "category_id": 3, "segmentation": [[5, 5, 30, 5, 30, 30]],
                             "bbox": [5, 5, 25, 25], "area": 312.5, "iscrowd": 0, "score": 0.9}],
            "categories": [{"id": 3, "name": "monocyte", "supercategory": "cell"}]}
    (tmp_path / "other.json").write_text(json.dumps(coco))
    (cell,) = load_coco(tmp_path / "other.json").images[0].instances
    assert (cell.source, cell.reviewed, cell.score) == (Source.IMPORT, False, 0.9)
    labelme = {"version": "5.4.1", "flags": {}, "imagePath": "a.jpg", "imageData": None,
               "imageHeight": 60, "imageWidth": 80,
               "shapes": [{"label": "platelet", "points": [[1, 1], [9, 1], [9, 9]], "group_id": None,
                           "shape_type": "polygon", "flags": {}}]}
    (tmp_path / "a.json").write_text(json.dumps(labelme))
    (cell,) = load_labelme(tmp_path / "a.json").images[0].instances
    assert (cell.source, cell.reviewed) == (Source.IMPORT, False)


def test_a_cell_added_in_another_tool_withdraws_the_sign_off(reviewed, tmp_path):
    target = tmp_path / "out.json"
    save_via(reviewed, target)
    data = json.loads(target.read_text())
    by_name = {entry["filename"]: entry for entry in data.values()}  # keyed as VIA 2: name + size
    by_name["b.png"]["regions"]["1"] = {  # drawn in VIA after bloodview's sign-off
        "shape_attributes": {"name": "polygon", "all_points_x": [1, 20, 20, 1], "all_points_y": [1, 1, 20, 1]},
        "region_attributes": {"label": "lymphocyte"}}
    target.write_text(json.dumps(data))
    back = load_via(target, images_root=tmp_path / "smears")
    image = back.find("b.png")
    assert len(image.instances) == 2 and not image.signed_off
    assert [e.by for e in image.sign_off_history] == ["ana", "ben", "ana"]  # the record of who did what stays


def test_a_damaged_via_record_keeps_the_cell_as_an_unreviewed_import(reviewed, tmp_path, caplog):
    target = tmp_path / "out.json"
    save_via(reviewed, target)
    data = json.loads(target.read_text())
    by_name = {entry["filename"]: entry for entry in data.values()}  # keyed as VIA 2: name + size
    by_name["b.png"]["regions"]["0"]["region_attributes"]["bloodview"] = "{not json"
    target.write_text(json.dumps(data))
    back = load_via(target, images_root=tmp_path / "smears")
    (cell,) = back.find("b.png").instances
    assert cell.class_name == "platelet" and cell.source == Source.IMPORT and not cell.reviewed
    assert "unreadable 'bloodview' record" in caplog.text
    assert not back.find("b.png").signed_off


def test_reviewed_import_is_explicit(tmp_path):
    (tmp_path / "smears").mkdir()
    Image.new("RGB", (200, 160), "white").save(tmp_path / "smears" / "a.png")
    (tmp_path / "smears" / "ms.json").write_text(MAKESENSE_VGG)
    plain = load_annotations(tmp_path / "smears" / "ms.json")
    assert not any(i.reviewed for i in plain.images[0].instances)
    vouched = load_annotations(tmp_path / "smears" / "ms.json", reviewed=True)
    assert all(i.reviewed and i.source == Source.IMPORT for i in vouched.images[0].instances)


def test_convert_reviewed_flag_marks_only_cells_without_provenance(reviewed, tmp_path, capsys):
    source = tmp_path / "smears" / "ours.json"
    save_coco(reviewed, source)
    data = json.loads(source.read_text())
    added = dict(data["annotations"][0], id=999)
    del added["bloodview"]  # a cell from another tool
    data["annotations"].append(added)
    source.write_text(json.dumps(data))
    out = tmp_path / "smears" / "vouched.json"
    assert main(["convert", str(source), str(out), "--to", "coco", "--reviewed"]) == 0
    assert "1 imported cells marked reviewed" in capsys.readouterr().out
    back = load_coco(out)
    image = back.find("a.png")
    imported = [i for i in image.instances if i.source == Source.IMPORT]
    assert len(imported) == 1 and imported[0].reviewed
    model_guess = next(i for i in image.instances if i.source == Source.MODEL and i.class_name == "neutrophil")
    assert not model_guess.reviewed  # a recorded model guess stays a guess


@pytest.mark.parametrize("save, load", [(save_coco, load_coco), (save_via, load_via)])
def test_a_signed_off_image_of_vouched_imports_stays_signed_off(reviewed, tmp_path, save, load):
    """Cells imported with --reviewed, signed off in the app, saved and read again: the sign-off stood
    only until the next reading ("holds cells added without bloodview's record since"), so an
    evaluation's ground truth or a retrain's lost the image's sign-off."""
    vouched = reviewed.find("b.png")
    vouched.instances[0].source, vouched.instances[0].reviewed = Source.IMPORT, True
    target = tmp_path / "out.json"
    save(reviewed, target)
    back = load(target, images_root=tmp_path / "smears")
    assert back.find("b.png").signed_off
