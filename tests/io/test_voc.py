"""Pascal VOC boxes, on hand-made files and the real BCCD set."""

from __future__ import annotations

import logging
from collections import Counter

import pytest
from PIL import Image

from bloodview.core.classes import ClassCatalogue
from bloodview.errors import FormatError, ImageError, UnknownClassError
from bloodview.io.coco import load_coco, save_coco
from bloodview.io.via import load_via, save_via
from bloodview.io.voc import load_voc, save_voc

XML = """<annotation><filename>{name}</filename>
<size><width>{w}</width><height>{h}</height><depth>3</depth></size>
{objects}</annotation>"""
OBJ = "<object><name>{name}</name><difficult>{d}</difficult><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>" \
      "<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>"


def _xml(tmp_path, objects, name="a.jpg", w=100, h=80, file="a.xml"):
    body = "".join(OBJ.format(name=n, b=b, d=d) for n, b, d in objects)
    (tmp_path / file).write_text(XML.format(name=name, w=w, h=h, objects=body))
    return tmp_path / file


def test_boxes_become_box_only_rectangles_with_project_classes(tmp_path, caplog):
    _xml(tmp_path, [("WBC", (10, 20, 50, 60), 0), ("Platelets", (1, 1, 5, 5), 1),
                    ("RBC", (30, 30, 30, 30), 0), ("RBC", (90, 70, 120, 90), 0),
                    ("RBC", (150, 10, 180, 40), 0)])
    with caplog.at_level(logging.WARNING):
        (image,) = load_voc(tmp_path)
    wbc, platelet, rbc = image.instances
    assert (wbc.class_name, platelet.class_name, rbc.class_name) == ("wbc", "platelet", "rbc")
    assert all(i.box_only for i in image.instances)
    assert wbc.bbox == (10, 20, 50, 60)
    assert platelet.extra == {"difficult": True}
    assert rbc.bbox == (90, 70, 100, 80)  # clipped to the 100x80 image
    assert "empty box (30, 30, 30, 30) skipped" in caplog.text
    assert "object 4: outline lies outside the 100x80 image; skipped" in caplog.text


def test_unknown_names_can_be_refused(tmp_path):
    _xml(tmp_path, [("RBC", (10, 20, 50, 60), 0)])
    with pytest.raises(UnknownClassError, match="a.xml: unknown cell class 'RBC'"):
        load_voc(tmp_path, add_unknown_classes=False)


def test_bad_xml_and_bad_numbers(tmp_path):
    (tmp_path / "a.xml").write_text("<annotation><filename>a.jpg</filename")
    with pytest.raises(FormatError, match="a.xml: is not valid XML"):
        load_voc(tmp_path / "a.xml")
    _xml(tmp_path, [("WBC", ("ten", 1, 5, 5), 0)])
    with pytest.raises(FormatError, match=r"object 0: <bndbox> needs numbers"):
        load_voc(tmp_path / "a.xml")
    _xml(tmp_path, [], name="../../x.jpg")
    with pytest.raises(FormatError, match="points outside the data folder"):
        load_voc(tmp_path / "a.xml")


def test_size_taken_from_image_when_missing_and_checked_when_given(tmp_path):
    Image.new("RGB", (64, 48)).save(tmp_path / "a.jpg")
    _xml(tmp_path, [("WBC", (1, 1, 9, 9), 0)], w=0, h=0)
    assert (load_voc(tmp_path).images[0].width, load_voc(tmp_path).images[0].height) == (64, 48)
    _xml(tmp_path, [("WBC", (1, 1, 9, 9), 0)], w=100, h=80)
    with pytest.raises(FormatError, match="says a.jpg is 100x80 but the image file is 64x48"):
        load_voc(tmp_path)


def test_an_xml_without_size_whose_image_is_missing_names_both(tmp_path):
    """Regression: the message was 'b: image file not found', naming neither the XML nor the way out."""
    _xml(tmp_path, [("WBC", (1, 1, 9, 9), 0)], name="b.jpg", w=0, h=0, file="b.xml")
    with pytest.raises(ImageError) as missing:
        load_voc(tmp_path)
    assert str(missing.value) == (f"{tmp_path / 'b.jpg'}: image file not found; b.xml gives no <size>, so it needs "
                                  "its image (give the images folder)")


def test_save_and_reload(tmp_path):
    _xml(tmp_path, [("WBC", (10, 20, 50, 60), 0), ("Platelets", (1, 1, 5, 5), 1)])
    dataset = load_voc(tmp_path)
    save_voc(dataset, tmp_path / "out")
    back = load_voc(tmp_path / "out", images_root=tmp_path)
    assert [(i.class_name, i.bbox, i.extra) for i in back.images[0]] == \
           [(i.class_name, i.bbox, i.extra) for i in dataset.images[0]]


def test_bccd_counts_and_splits(bccd_dir, caplog):
    with caplog.at_level(logging.WARNING):
        dataset = load_voc(bccd_dir)
    assert len(dataset) == 364
    # README: RBC 4,155 (2 of them zero-size), WBC 372, Platelets 361
    assert dataset.class_counts() == Counter({"rbc": 4153, "wbc": 372, "platelet": 361})
    assert caplog.text.count("empty box") == 2
    assert {s: len(dataset.split(s)) for s in ("train", "val", "test")} == {"train": 205, "val": 87, "test": 72}
    assert dataset.resolve_image(dataset.images[0]) == bccd_dir / "JPEGImages" / "BloodImage_00000.jpg"


def _boxes(dataset):
    return {i.image_path.name: sorted((x.class_name, x.bbox) for x in i.instances) for i in dataset.images}


def test_bccd_voc_to_coco_to_via_to_coco_keeps_every_box(bccd_dir, tmp_path):
    """Done-when check: every valid BCCD box survives VOC -> COCO -> VIA -> COCO."""
    voc = load_voc(bccd_dir)
    save_coco(voc, tmp_path / "a.json")
    coco = load_coco(tmp_path / "a.json", images_root=bccd_dir / "JPEGImages")
    save_via(coco, tmp_path / "v.json")
    via = load_via(tmp_path / "v.json", images_root=bccd_dir / "JPEGImages", classes=ClassCatalogue.pbc(),
                   add_unknown_classes=True)
    save_coco(via, tmp_path / "b.json")
    final = load_coco(tmp_path / "b.json", images_root=bccd_dir / "JPEGImages")
    assert final.instance_count == voc.instance_count == 4886
    assert _boxes(final) == _boxes(voc)
