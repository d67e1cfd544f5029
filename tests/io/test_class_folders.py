"""Class-per-folder image sets (PBC layout)."""

from __future__ import annotations

import logging

import pytest
from PIL import Image

from bloodview.errors import FormatError, UnknownClassError
from bloodview.io.class_folders import load_class_folders


def _folders(tmp_path, names):
    for name in names:
        (tmp_path / name).mkdir()
        Image.new("RGB", (36, 30)).save(tmp_path / name / "x1.jpg")
        Image.new("RGB", (36, 30)).save(tmp_path / name / "x2.jpg")
    return tmp_path


def test_folder_names_become_image_labels_with_manifest_splits(tmp_path):
    _folders(tmp_path, ["Platelets", "neutrophil", ".thumbs"])
    (tmp_path / "manifest.csv").write_text("file,class,split\nx1.jpg,Platelets,train\nx2.jpg,neutrophil,val\n")
    dataset = load_class_folders(tmp_path)
    rows = [(i.image_path.as_posix(), i.image_label, i.split, i.width) for i in dataset]
    assert rows == [
        ("Platelets/x1.jpg", "platelet", "train", 36),
        ("Platelets/x2.jpg", "platelet", None, 36),
        ("neutrophil/x1.jpg", "neutrophil", None, 36),
        ("neutrophil/x2.jpg", "neutrophil", "val", 36),
    ]
    assert dataset.instance_count == 0


def test_unknown_folder_lists_known_classes_or_is_added(tmp_path):
    _folders(tmp_path, ["lymphocyte", "smudge cells"])
    with pytest.raises(UnknownClassError, match=r"unknown cell class 'smudge cells'; known classes: basophil"):
        load_class_folders(tmp_path)
    dataset = load_class_folders(tmp_path, add_unknown_classes=True)
    assert dataset.image_label_counts() == {"lymphocyte": 2, "smudge cells": 2}


def test_a_damaged_image_is_skipped_with_a_warning_and_the_rest_kept(tmp_path, caplog):
    _folders(tmp_path, ["eosinophil"])
    (tmp_path / "eosinophil" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with caplog.at_level(logging.WARNING):
        dataset = load_class_folders(tmp_path)
    assert sorted(i.image_path.name for i in dataset) == ["x1.jpg", "x2.jpg"]
    assert "broken.jpg" in caplog.text and "skipped" in caplog.text


def test_not_a_class_folder(tmp_path):
    with pytest.raises(FormatError, match="has no class sub-folders with images"):
        load_class_folders(tmp_path)
    (tmp_path / "manifest.csv").write_text("name;label\n")
    _folders(tmp_path, ["ig"])
    with pytest.raises(FormatError, match=r"manifest.csv: needs the columns file,class,split"):
        load_class_folders(tmp_path)


def test_pbc_subset(pbc_dir):
    dataset = load_class_folders(pbc_dir)
    assert len(dataset) == 2720
    assert set(dataset.image_label_counts().values()) == {340}
    assert (len(dataset.split("train")), len(dataset.split("val"))) == (2240, 480)
    assert {(i.width, i.height) for i in dataset} == {(360, 363), (366, 369), (360, 360)}
