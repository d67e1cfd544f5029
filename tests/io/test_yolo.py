"""YOLO text labels with classes.txt or data.yaml names."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bloodview.errors import FormatError
from bloodview.io.yolo import load_yolo, read_class_names, save_yolo


@pytest.fixture
def yolo_set(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    Image.new("RGB", (200, 100)).save(tmp_path / "images" / "f1.jpg")
    Image.new("RGB", (200, 100)).save(tmp_path / "images" / "f2.jpg")
    (tmp_path / "labels" / "f1.txt").write_text("0 0.5 0.5 0.1 0.2\n1 0.1 0.1 0.3 0.1 0.3 0.3\n\n")
    (tmp_path / "data.yaml").write_text("path: .\nnames:\n  0: WBC\n  1: Platelets\nnc: 2\n")
    return tmp_path


def test_boxes_and_polygons_in_pixels(yolo_set):
    dataset = load_yolo(yolo_set)
    assert [i.image_path.name for i in dataset] == ["f1.jpg", "f2.jpg"]
    box, polygon = dataset.images[0].instances
    assert box.class_name == "wbc" and box.box_only and box.bbox == pytest.approx((90, 40, 110, 60))
    assert polygon.class_name == "platelet" and not polygon.box_only
    assert polygon.bbox == pytest.approx((20, 10, 60, 30))
    assert dataset.images[1].instances == []


def test_save_and_reload(yolo_set, tmp_path):
    dataset = load_yolo(yolo_set)
    save_yolo(dataset, tmp_path / "out")
    names = (tmp_path / "out" / "classes.txt").read_text().splitlines()
    assert names[:8] == dataset.classes.names[:8] and names[8] == "wbc"
    assert (tmp_path / "out" / "labels" / "f1.txt").read_text().splitlines()[0] == "8 0.500000 0.500000 0.100000 0.200000"
    back = load_yolo(tmp_path / "out", images_root=yolo_set / "images")
    np.testing.assert_allclose([x.bbox for x in back.images[0]], [x.bbox for x in dataset.images[0]], atol=1e-4)
    assert [x.class_name for x in back.images[0]] == ["wbc", "platelet"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("names: ['a', \"b\"]\n", ["a", "b"]),
        ("train: x\nnames:\n  - a\n  - b # comment\nnc: 2\n", ["a", "b"]),
        ("names:\n  0: a\n  1: b\n", ["a", "b"]),
    ],
)
def test_data_yaml_forms(tmp_path, text, names):
    (tmp_path / "data.yaml").write_text(text)
    assert read_class_names(tmp_path / "data.yaml") == names


def test_bad_lines(yolo_set):
    (yolo_set / "labels" / "f1.txt").write_text("7 0.5 0.5 0.1 0.2\n")
    with pytest.raises(FormatError, match=r"f1.txt: line 1: class number 7 is not in the 2 class names"):
        load_yolo(yolo_set)
    (yolo_set / "labels" / "f1.txt").write_text("0 0.5 0.5\n")
    with pytest.raises(FormatError, match="line 1: expected 4 box values"):
        load_yolo(yolo_set)
    (yolo_set / "data.yaml").unlink()
    with pytest.raises(FormatError, match="no classes.txt or data.yaml"):
        load_yolo(yolo_set)


def test_labels_whose_images_are_elsewhere_are_an_error_not_an_empty_data_set(yolo_set, tmp_path, capsys):
    """Regression: a YOLO export copied without its images converted to '0 images, 0 cells', exit 0."""
    from bloodview.cli.main import main

    labels_only = tmp_path / "export"
    (labels_only / "labels").mkdir(parents=True)
    (labels_only / "labels" / "f1.txt").write_text((yolo_set / "labels" / "f1.txt").read_text())
    (labels_only / "classes.txt").write_text("WBC\nPlatelets\n")
    out = tmp_path / "cells.json"
    assert main(["convert", str(labels_only), str(out), "--to", "coco"]) == 1
    assert capsys.readouterr().err == (
        f"bloodview: error: {labels_only / 'labels'}: holds 1 YOLO label file(s) but none of their images is in "
        f"{labels_only / 'labels'} (YOLO boxes are fractions of the image size): give the images folder\n")
    assert not out.exists()
    assert main(["convert", str(labels_only), str(out), "--to", "coco", "--images", str(yolo_set / "images")]) == 0
    assert "2 images, 2 cells" in capsys.readouterr().out


def test_a_label_file_without_its_image_is_named_in_a_warning(yolo_set, caplog):
    (yolo_set / "labels" / "f3.txt").write_text("0 0.5 0.5 0.1 0.2\n")
    dataset = load_yolo(yolo_set)
    assert [i.image_path.name for i in dataset] == ["f1.jpg", "f2.jpg"] and dataset.instance_count == 2
    assert "1 label file(s) have no image in" in caplog.text and "(first: f3.txt)" in caplog.text


def test_the_data_set_folder_given_as_images_folder_pairs_images_with_their_labels(yolo_set):
    """Regression: the app opens a YOLO folder with itself as images folder; images/f1.jpg was
    looked up as labels/images/f1.txt, so every image opened without its boxes."""
    dataset = load_yolo(yolo_set, images_root=yolo_set)
    assert [(i.image_path.as_posix(), len(i.instances)) for i in dataset] == [("images/f1.jpg", 2), ("images/f2.jpg", 0)]
