"""Other tools' export folders, read by bloodview as they unpack.

Layouts as Datumaro 1.13.12 exported our detections of BCCD fields:
``coco_instances`` writes ``annotations/instances_default.json`` with the images in
``images/default/``; ``yolo`` (Darknet, as CVAT's "YOLO 1.1" too) writes ``obj.data``,
``obj.names``, the image list ``train.txt`` and ``obj_train_data/`` with images and
labels. Before, the COCO file's images were looked for beside the JSON (not found:
sizes went unchecked and the app could not show them), and the Darknet image list
was reported as a label file without an image.
"""

from __future__ import annotations

import json
import logging

import pytest
from PIL import Image

from bloodview.errors import FormatError
from bloodview.io.detect import load_annotations

# the first entries of Datumaro 1.13.12's instances_default.json, trimmed
DATUMARO_COCO = {
    "licenses": [{"name": "", "id": 0, "url": ""}],
    "info": {"contributor": "", "date_created": "", "description": "", "url": "", "version": "", "year": ""},
    "categories": [{"id": 1, "name": "neutrophil", "supercategory": "cell"},
                   {"id": 2, "name": "rbc", "supercategory": "cell"}],
    "images": [{"id": 5, "width": 40, "height": 30, "file_name": "field.jpg", "license": 0, "flickr_url": "",
                "coco_url": "", "date_captured": 0}],
    "annotations": [{"id": 109, "image_id": 5, "category_id": 1,
                     "segmentation": [[5.199999809265137, 5.0, 20.0, 5.0, 20.0, 18.0]],
                     "area": 97.5, "bbox": [5.2, 5.0, 14.8, 13.0], "iscrowd": 0, "attributes": {"occluded": False}}],
}


def _coco_export(tmp_path, images_dir, json_path, size=(40, 30)):
    (tmp_path / images_dir).mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, "white").save(tmp_path / images_dir / "field.jpg")
    (tmp_path / json_path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / json_path).write_text(json.dumps(DATUMARO_COCO))
    return tmp_path / json_path


@pytest.mark.parametrize(("images_dir", "json_path"), [
    ("images/default", "annotations/instances_default.json"),  # Datumaro coco_instances, CVAT "COCO 1.0"
    ("images", "annotations/instances_default.json"),
    ("val2017", "annotations/instances_val2017.json"),  # COCO 2017's own layout
    ("data", "labels.json"),  # FiftyOne COCODetectionDataset
    (".", "_annotations.coco.json"),  # Roboflow: images beside the JSON, as before
])
def test_coco_exports_find_their_images(tmp_path, images_dir, json_path):
    path = _coco_export(tmp_path, images_dir, json_path)
    dataset = load_annotations(path)
    (image,) = dataset.images
    assert dataset.resolve_image(image).resolve() == (tmp_path / images_dir / "field.jpg").resolve()
    assert image.instances[0].bbox == pytest.approx((5.2, 5.0, 20.0, 18.0))


def test_the_images_found_there_are_checked(tmp_path):
    path = _coco_export(tmp_path, "images/default", "annotations/instances_default.json", size=(30, 40))
    with pytest.raises(FormatError, match="says field.jpg is 40x30 but the image file is 30x40"):
        load_annotations(path)


def test_given_images_folder_still_wins(tmp_path):
    path = _coco_export(tmp_path, "images/default", "annotations/instances_default.json")
    (tmp_path / "elsewhere").mkdir()
    dataset = load_annotations(path, images=tmp_path / "elsewhere")
    assert dataset.root == tmp_path / "elsewhere"


def test_darknet_yolo_export_reads_without_false_warnings(tmp_path, caplog):
    (tmp_path / "obj_train_data").mkdir()
    Image.new("RGB", (40, 30), "white").save(tmp_path / "obj_train_data" / "field.jpg")
    (tmp_path / "obj_train_data" / "field.txt").write_text("1 0.206417 0.5 0.151778 0.066226\n")
    (tmp_path / "obj.names").write_text("neutrophil\nrbc\n")
    (tmp_path / "obj.data").write_text("classes = 2\ntrain = data/train.txt\nnames = data/obj.names\nbackup = backup/\n")
    (tmp_path / "train.txt").write_text("data/obj_train_data/field.jpg\n")
    with caplog.at_level(logging.WARNING):
        dataset = load_annotations(tmp_path)
    (image,) = dataset.images
    assert image.split == "train"
    assert [i.class_name for i in image.instances] == ["rbc"]
    assert "no image" not in caplog.text


def test_ultralytics_folders_give_the_split(tmp_path):
    for split in ("train", "val"):
        (tmp_path / "images" / split).mkdir(parents=True)
        (tmp_path / "labels" / split).mkdir(parents=True)
        Image.new("RGB", (40, 30), "white").save(tmp_path / "images" / split / f"{split}.jpg")
        (tmp_path / "labels" / split / f"{split}.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames:\n  0: rbc\n")
    dataset = load_annotations(tmp_path)
    assert {i.image_path.as_posix(): i.split for i in dataset.images} == {"train/train.jpg": "train",
                                                                          "val/val.jpg": "val"}


def test_crowd_masks_from_cvat_or_datumaro_are_pointed_out(tmp_path, caplog):
    """Datumaro 1.13.12 (and CVAT, through it) wrote a mask drawn as one cell as an ``iscrowd: 1`` RLE."""
    data = dict(DATUMARO_COCO, annotations=[{
        "id": 1, "image_id": 5, "category_id": 1, "segmentation": {"counts": [103, 5, 15, 5, 1072], "size": [30, 40]},
        "area": 10.0, "bbox": [3.0, 13.0, 2.0, 5.0], "iscrowd": 1, "attributes": {"occluded": True}}])
    (tmp_path / "instances_default.json").write_text(json.dumps(data))
    with caplog.at_level(logging.WARNING):
        dataset = load_annotations(tmp_path / "instances_default.json")
    assert dataset.images[0].instances[0].extra == {"iscrowd": True}  # still COCO's crowd region ...
    assert "1 mask(s) marked iscrowd=1, as CVAT and Datumaro write every mask" in caplog.text  # ... but said
    assert '"CVAT for images 1.1"' in caplog.text


def test_roboflow_yolo_export_reads_with_its_splits(tmp_path):
    """Roboflow's YOLO download (read as such by Datumaro 1.13.12's ``roboflow_yolo``): ``data.yaml``
    at the top, ``<split>/images/`` beside ``<split>/labels/``. It used to be "not a recognised
    annotation folder", and ``--from yolo`` found no label for any image."""
    for split, name in (("train", "a"), ("valid", "b")):
        (tmp_path / split / "images").mkdir(parents=True)
        (tmp_path / split / "labels").mkdir()
        Image.new("RGB", (40, 30), "white").save(tmp_path / split / "images" / f"{name}.jpg")
        (tmp_path / split / "labels" / f"{name}.txt").write_text("2 0.5 0.5 0.25 0.2\n0 0.1 0.1 0.1 0.1\n")
    (tmp_path / "data.yaml").write_text("train: ../train/images\nval: ../valid/images\n\nnc: 3\n"
                                        "names: ['Platelets', 'RBC', 'WBC']\n")
    dataset = load_annotations(tmp_path)
    assert {i.image_path.as_posix(): i.split for i in dataset.images} == {"train/images/a.jpg": "train",
                                                                          "valid/images/b.jpg": "val"}
    for image in dataset.images:
        assert [i.class_name for i in image.instances] == ["wbc", "platelet"]
        assert image.instances[0].bbox == pytest.approx((15, 12, 25, 18))
    train = load_annotations(tmp_path / "train")  # one split alone: data.yaml two folders up
    assert [i.image_path.as_posix() for i in train.images] == ["a.jpg"] and train.instance_count == 2


def test_makesense_yolo_labels_without_names_say_what_to_write(tmp_path):
    """MakeSense's YOLO export (RectLabelsExporter.exportAsYOLO) zips one ``<image>.txt`` per
    image and no class names."""
    Image.new("RGB", (40, 30), "white").save(tmp_path / "a.jpg")
    (tmp_path / "a.txt").write_text("0 0.500000 0.500000 0.250000 0.200000")
    with pytest.raises(FormatError, match="no classes.txt or data.yaml naming the classes \\(MakeSense exports "
                                          "none\\): write the class names, one per line"):
        load_annotations(tmp_path, fmt="yolo")
    (tmp_path / "classes.txt").write_text("rbc\n")
    assert load_annotations(tmp_path).instance_count == 1


def test_yolo_polygon_labels_keep_boxes_readable_by_ultralytics(tmp_path):
    """Ultralytics' ``verify_image_label`` reads a label file as polygons once any line has more than
    6 fields, so a ``c cx cy w h`` box line beside a polygon became the segment (cx, cy)-(w, h)."""
    import numpy as np

    from bloodview.core.annotation import Dataset, ImageAnnotation
    from bloodview.core.classes import ClassCatalogue
    from bloodview.core.geometry import rectangle
    from bloodview.core.instance import Instance
    from bloodview.io.yolo import save_yolo

    Image.new("RGB", (40, 30), "white").save(tmp_path / "a.jpg")
    image = ImageAnnotation("a.jpg", 40, 30, [
        Instance(np.array([[4, 4], [12, 4], [10, 14]], float), "neutrophil"),
        Instance(rectangle(20, 10, 30, 16), "platelet", box_only=True)])
    save_yolo(Dataset([image], ClassCatalogue.pbc(), tmp_path), tmp_path / "out", polygons=True)
    lines = [line.split() for line in (tmp_path / "out" / "labels" / "a.txt").read_text().splitlines()]
    assert any(len(x) > 6 for x in lines)  # so Ultralytics takes every line as a segment:
    boxes = []
    for fields in lines:
        xy = np.array(fields[1:], float).reshape(-1, 2) * [40, 30]
        boxes.append((*xy.min(0), *xy.max(0)))  # ultralytics.utils.ops.segments2boxes
    assert np.allclose(boxes[1], (20, 10, 30, 16))
    (tmp_path / "out" / "images").mkdir()
    (tmp_path / "a.jpg").rename(tmp_path / "out" / "images" / "a.jpg")
    back = load_annotations(tmp_path / "out").images[0].instances
    assert [i.box_only for i in back] == [False, True] and back[1].bbox == pytest.approx((20, 10, 30, 16))


def test_label_studio_json_is_not_taken_for_detections(tmp_path):
    """Label Studio's "JSON" export is a list of tasks (shape as in its docs: ``id``, ``data.image``,
    ``annotations[].result[]`` with percentages); it was read as a COCO results file and refused
    with "it needs the ground truth", which sent people the wrong way."""
    task = {"id": 1, "data": {"image": "/data/upload/1/a.jpg"}, "annotations": [{"id": 1, "result": [
        {"type": "rectanglelabels", "original_width": 40, "original_height": 30, "value": {
            "x": 10, "y": 20, "width": 25, "height": 30, "rotation": 0, "rectanglelabels": ["WBC"]}}]}]}
    (tmp_path / "label-studio.json").write_text(json.dumps([task]))
    with pytest.raises(FormatError, match="is a Label Studio JSON export .* export the project from Label Studio "
                                          "as COCO instead"):
        load_annotations(tmp_path / "label-studio.json")
    (tmp_path / "other.json").write_text(json.dumps([1, 2]))
    with pytest.raises(FormatError, match="is a JSON list but not a COCO results file"):
        load_annotations(tmp_path / "other.json")
    (tmp_path / "nothing.json").write_text("[]")  # a detector that found nothing: still a results file
    with pytest.raises(FormatError, match="is a COCO results file"):
        load_annotations(tmp_path / "nothing.json")


def test_voc_segmentation_masks_get_a_sentence_that_says_what_to_export(tmp_path):
    """Datumaro 1.13.12's ``voc_instance_segmentation`` (CVAT's "Segmentation mask 1.1") writes
    ``SegmentationObject/``, ``SegmentationClass/``, ``labelmap.txt`` and an empty ``Annotations/``."""
    for folder in ("Annotations", "SegmentationObject", "SegmentationClass", "JPEGImages"):
        (tmp_path / folder).mkdir()
    Image.new("P", (40, 30)).save(tmp_path / "SegmentationObject" / "a.png")
    (tmp_path / "labelmap.txt").write_text("# label:color_rgb:parts:actions\nbackground:0,0,0::\nrbc:128,0,0::\n")
    with pytest.raises(FormatError, match=r"holds VOC segmentation masks .* export \"CVAT for images 1.1\" or COCO"):
        load_annotations(tmp_path)
    (tmp_path / "Annotations").rmdir()  # CVAT's export has none: it was read as class folders
    with pytest.raises(FormatError, match=r"holds VOC segmentation masks"):
        load_annotations(tmp_path)
