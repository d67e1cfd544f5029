"""Files a Mac or a Windows PC leaves beside annotations: macOS ``._name`` files (AppleDouble
metadata written to USB sticks and SMB shares) and a byte-order mark at the start of a list."""

from __future__ import annotations

import json

from PIL import Image

from bloodview.io.detect import load_annotations
from bloodview.io.labelme import load_labelme
from bloodview.io.voc import load_voc


def _labelme(tmp_path):
    Image.new("RGB", (80, 60), "white").save(tmp_path / "a.jpg")
    shape = {"label": "neutrophil", "points": [[10, 10], [30, 10], [30, 30]], "group_id": None,
             "shape_type": "polygon", "flags": {}}
    (tmp_path / "a.json").write_text(json.dumps({
        "version": "5.4.1", "flags": {}, "shapes": [shape], "imagePath": "a.jpg", "imageData": None,
        "imageHeight": 60, "imageWidth": 80}))
    (tmp_path / "._a.json").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")  # AppleDouble
    (tmp_path / "._a.jpg").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")


def test_a_labelme_folder_copied_from_a_mac_opens_without_its_dot_underscore_files(tmp_path):
    _labelme(tmp_path)
    for dataset in (load_labelme(tmp_path), load_annotations(tmp_path)):
        (image,) = dataset.images
        assert [c.class_name for c in image.instances] == ["neutrophil"]


def test_a_voc_image_list_saved_with_a_byte_order_mark_keeps_its_first_image_in_its_split(tmp_path):
    Image.new("RGB", (100, 80), "white").save(tmp_path / "a.jpg")
    (tmp_path / "a.xml").write_text(
        "<annotation><filename>a.jpg</filename><size><width>100</width><height>80</height><depth>3</depth>"
        "</size><object><name>neutrophil</name><bndbox><xmin>10</xmin><ymin>10</ymin><xmax>40</xmax>"
        "<ymax>40</ymax></bndbox></object></annotation>")
    (tmp_path / "._a.xml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    (tmp_path / "ImageSets" / "Main").mkdir(parents=True)
    (tmp_path / "ImageSets" / "Main" / "train.txt").write_bytes("\ufeffa\r\n".encode("utf-8"))  # Notepad, BOM, CRLF
    (image,) = load_voc(tmp_path).images
    assert image.split == "train"
