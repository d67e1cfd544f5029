"""Format detection for files and folders, and the load/save entry points."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance
from bloodview.errors import FormatError
from bloodview.io.detect import SAVE_FORMATS, detect_format, load_annotations, save_annotations


@pytest.fixture
def smear(tmp_path):
    (tmp_path / "imgs").mkdir()
    Image.new("RGB", (40, 30)).save(tmp_path / "imgs" / "a.png")
    cell = Instance(rectangle(2, 3, 12, 13), "lymphocyte")
    return Dataset([ImageAnnotation("a.png", 40, 30, [cell])], root=tmp_path / "imgs")


@pytest.mark.parametrize("fmt", SAVE_FORMATS)
def test_every_written_format_is_detected_and_read_back(tmp_path, smear, fmt):
    out = tmp_path / "out"
    out.mkdir()
    written = save_annotations(smear, out, fmt)
    if fmt == "mask-png":  # a folder of masks alone is not told from a folder of images
        dataset = load_annotations(written, images=tmp_path / "imgs", fmt=fmt)
    else:
        assert detect_format(written) == fmt
        images = None if fmt == "project" else tmp_path / "imgs"
        if fmt == "labelme":
            images = tmp_path  # LabelMe points at ../imgs/a.png from out/
        dataset = load_annotations(written, images=images)
    (cell,) = dataset.images[0].instances
    assert cell.bbox == pytest.approx((2, 3, 12, 13), abs=1e-3)  # YOLO keeps 6 decimals of a fraction


def test_makesense_coco_and_plain_coco_told_apart(tmp_path, smear):
    save_annotations(smear, tmp_path / "ms.json", "makesense-coco")
    save_annotations(smear, tmp_path / "c.json", "coco")
    assert detect_format(tmp_path / "ms.json") == "makesense-coco"
    assert detect_format(tmp_path / "c.json") == "coco"


def test_results_file_needs_ground_truth(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps([{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 1}]))
    assert detect_format(tmp_path / "r.json") == "coco-results"
    with pytest.raises(FormatError, match="is a COCO results file"):
        load_annotations(tmp_path / "r.json")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.json", '{"a": 1}', "is JSON but not COCO, MakeSense, VIA or LabelMe"),
        ("x.json", '{"images": [{"id": 1,', "is not valid JSON"),
        ("x.txt", "hello", "expected .json or .xml"),
        ("x.json", "[1, 2", "looks truncated"),
    ],
)
def test_unrecognised_files(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(FormatError, match=message):
        load_annotations(tmp_path / name)


def test_unknown_folder_and_format_name(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(FormatError, match="is not a recognised annotation folder"):
        detect_format(tmp_path)
    with pytest.raises(FormatError, match="unknown annotation format 'labelbox'; known formats: coco"):
        load_annotations(tmp_path, fmt="labelbox")
    with pytest.raises(FormatError, match="not found"):
        detect_format(tmp_path / "missing")


def test_real_folders_detected(bccd_dir, pbc_dir, zheng_dir):
    assert detect_format(bccd_dir) == "voc"
    assert detect_format(bccd_dir / "Annotations") == "voc"
    assert detect_format(pbc_dir) == "class-folders"
    assert detect_format(zheng_dir) == "mask-png"


def test_file_format_into_existing_folder_and_missing_parent(tmp_path, smear):
    assert save_annotations(smear, tmp_path, "via") == tmp_path / "via.json"
    with pytest.raises(FormatError, match="its folder does not exist"):
        save_annotations(smear, tmp_path / "no" / "x.json", "coco")


def test_unreadable_folder_is_one_sentence(tmp_path, monkeypatch):
    # Tests may run as root, where chmod 000 does not stop reading; simulate the refusal.
    import pathlib

    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "iterdir", refuse)
    with pytest.raises(FormatError, match=r"folder cannot be read \(permission denied\)"):
        load_annotations(tmp_path)


def test_a_folder_of_png_pictures_is_not_taken_for_masks_but_a_folder_of_masks_is(tmp_path, smear, zheng_dir):
    """A lab's camera often saves PNG: such a folder opened as masks gave each picture one 'cell'
    the size of the picture. Masks hold a few label values; pictures thousands of colours."""
    import numpy as np

    pictures = tmp_path / "camera"
    pictures.mkdir()
    rng = np.random.default_rng(0)
    for name in ("field1.png", "field2.png"):
        Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(pictures / name)
    grey = tmp_path / "mono"
    grey.mkdir()
    Image.fromarray(np.tile(np.arange(200, dtype=np.uint8), (30, 1))).save(grey / "mono.png")
    blank = tmp_path / "blank"  # plain one-colour frames (a white field, a grey test card): no black background
    blank.mkdir()
    Image.new("RGB", (80, 60), "white").save(blank / "white.png")
    Image.new("L", (80, 60), 128).save(blank / "card.png")
    Image.new("P", (80, 60), 3).save(blank / "palette.png")
    for folder in (pictures, grey, blank):
        with pytest.raises(FormatError, match="not a recognised annotation folder"):
            detect_format(folder)
    masks = tmp_path / "masks"
    masks.mkdir()
    save_annotations(smear, masks, "mask-png")
    label = np.zeros((30, 40), np.uint16)
    label[2:9, 3:9], label[20:25, 30:35] = 1, 300  # a 16-bit instance-label image
    Image.fromarray(label).save(masks / "b.png")
    assert detect_format(masks) == "mask-png"
    real = sorted(zheng_dir.glob("*.png"))[:2]
    apart = tmp_path / "zheng_masks"
    apart.mkdir()
    for path in real:
        (apart / path.name).write_bytes(path.read_bytes())
    assert detect_format(apart) == "mask-png", "Zheng's own masks, kept apart from their images"



def test_the_backup_bloodview_kept_reads_like_the_file(tmp_path, capsys):
    """Convert and save keep the previous file as ``NAME.json.bak``; reading it (to see what it holds
    before restoring it) used to fail with 'expected .json or .xml'."""
    from bloodview.cli.main import main

    coco = {"images": [{"id": 1, "file_name": "a.png", "width": 20, "height": 20}], "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 9, 1, 9, 9]]}],
        "categories": [{"id": 1, "name": "monocyte"}]}
    (tmp_path / "cells.json.bak").write_text(json.dumps(coco))
    (tmp_path / "a.xml.bak").write_text("<annotation><filename>a.png</filename><size><width>20</width>"
                                        "<height>20</height></size></annotation>")
    assert detect_format(tmp_path / "cells.json.bak") == "coco" and detect_format(tmp_path / "a.xml.bak") == "voc"
    assert main(["info", str(tmp_path / "cells.json.bak"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["instances"] == 1
    (tmp_path / "notes.bak").write_text("{}")
    with pytest.raises(FormatError, match="expected .json or .xml"):
        detect_format(tmp_path / "notes.bak")
