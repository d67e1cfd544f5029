"""`bloodview bootstrap` end to end on small real data sets built in tmp_path."""

import json
import logging
import shutil

import numpy as np
import pytest
from PIL import Image

from bloodview.cli.main import main
from bloodview.core.instance import Source
from bloodview.io.coco import load_coco


@pytest.fixture
def small_pbc(tmp_path, pbc_dir, syn):
    """2 real images of 2 classes, a blank slide, a corrupt JPEG, a text file, a manifest."""
    root = tmp_path / "pbc"
    rows = ["file,class,split"]
    for name in ("neutrophil", "platelet"):
        (root / name).mkdir(parents=True)
        for path in sorted((pbc_dir / name).glob("*.jpg"))[:2]:
            shutil.copy(path, root / name / path.name)
            rows.append(f"{path.name},{name},val")
    Image.fromarray(syn.finish(syn.smear())).save(root / "neutrophil" / "blank.png")
    (root / "platelet" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (root / "platelet" / "notes.txt").write_text("not an image")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root


def test_bootstrap_writes_a_coco_file_that_loads_back(small_pbc, tmp_path, capsys):
    out = tmp_path / "out" / "masks.json"
    out.parent.mkdir()
    assert main(["bootstrap", str(small_pbc), "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    dataset = load_coco(out, images_root=small_pbc)
    assert dataset.instance_count == 4
    assert dataset.class_counts() == {"neutrophil": 2, "platelet": 2}
    for image in dataset.images:
        for instance in image.instances:
            assert instance.source is Source.BOOTSTRAP and not instance.reviewed
            assert 0.0 <= instance.quality <= 1.0
            assert instance.origin.startswith("bootstrap@")
            assert instance.class_name == image.image_label
    assert {i.split for i in dataset.images} == {"val"}
    assert "skipped 1 file(s): not an image" in printed
    assert "blank.png" in printed and "broken.jpg" in printed
    summary = {line.split()[0]: line.split()[1:] for line in printed.splitlines() if line[:1].isalpha()}
    assert summary["neutrophil"][:3] == ["2", summary["neutrophil"][1], "1"]
    assert summary["total"][0] == "4"


def test_two_workers_give_the_same_masks_as_one(small_pbc, tmp_path):
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    assert main(["bootstrap", str(small_pbc), "--out", str(one), "--workers", "1"]) == 0
    assert main(["bootstrap", str(small_pbc), "--out", str(two), "--workers", "2"]) == 0
    first, second = json.loads(one.read_text()), json.loads(two.read_text())
    assert [a["segmentation"] for a in first["annotations"]] == [a["segmentation"] for a in second["annotations"]]


def test_nothing_found_leaves_an_existing_file_untouched(tmp_path, syn, capsys):
    root = tmp_path / "blank"
    (root / "lymphocyte").mkdir(parents=True)
    Image.fromarray(syn.finish(syn.smear())).save(root / "lymphocyte" / "a.png")
    out = tmp_path / "keep.json"
    out.write_text("precious")
    assert main(["bootstrap", str(root), "--out", str(out), "--workers", "1"]) == 1
    assert "no cell could be segmented" in capsys.readouterr().err
    assert out.read_text() == "precious"


def test_unknown_class_folder_stops_before_any_work(tmp_path, capsys):
    (tmp_path / "data" / "smudge").mkdir(parents=True)
    (tmp_path / "data" / "smudge" / "a.jpg").write_bytes(b"x")
    assert main(["bootstrap", str(tmp_path / "data"), "--out", str(tmp_path / "o.json")]) == 1
    err = capsys.readouterr().err
    assert "unknown cell class 'smudge'" in err and "basophil" in err
    assert not (tmp_path / "o.json").exists()


def _voc_copy(tmp_path, bccd_dir, extra_object=""):
    images, notes = tmp_path / "JPEGImages", tmp_path / "Annotations"
    images.mkdir()
    notes.mkdir()
    shutil.copy(bccd_dir / "JPEGImages" / "BloodImage_00001.jpg", images)
    xml = (bccd_dir / "Annotations" / "BloodImage_00001.xml").read_text()
    (notes / "BloodImage_00001.xml").write_text(xml.replace("</annotation>", extra_object + "</annotation>"))
    return images, notes


def _box(name, x1, y1, x2, y2):
    return (f"<object><name>{name}</name><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
            f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>")


def test_boxes_mode_segments_voc_boxes_and_clips_boxes_crossing_the_border(tmp_path, bccd_dir):
    images, notes = _voc_copy(tmp_path, bccd_dir, _box("RBC", 600, 440, 700, 520))
    out = tmp_path / "boxes.json"
    assert main(["bootstrap", str(images), "--boxes", str(notes), "--out", str(out), "--workers", "1"]) == 0
    image = load_coco(out, images_root=images).images[0]
    assert "wbc" in image.class_counts()
    wbc = next(i for i in image.instances if i.class_name == "wbc")
    x1, y1, x2, y2 = wbc.bbox
    assert 50 <= x1 and x2 <= 310 and 300 <= y1  # inside its box 68,315-286,480 + 8 % margin
    assert not wbc.box_only and wbc.quality is not None
    for instance in image.instances:
        bx1, by1, bx2, by2 = instance.bbox
        assert 0 <= bx1 and 0 <= by1 and bx2 <= image.width and by2 <= image.height


def test_box_entirely_outside_the_image_is_skipped_with_the_file_named(tmp_path, bccd_dir, caplog):
    images, notes = _voc_copy(tmp_path, bccd_dir, _box("RBC", 700, 500, 760, 560))
    out = tmp_path / "boxes.json"
    with caplog.at_level(logging.WARNING):
        assert main(["bootstrap", str(images), "--boxes", str(notes), "--out", str(out)]) == 0
    assert "BloodImage_00001.xml: object 19: outline lies outside the 640x480 image; skipped" in caplog.text
    (image,) = load_coco(out, images_root=images).images
    assert len(image.instances) == 19  # the 19 real BCCD boxes of that image, each segmented
    assert all(x2 <= 640 and y2 <= 480 for _, _, x2, y2 in (i.bbox for i in image.instances))


def test_limit_takes_images_from_every_class(small_pbc, tmp_path):
    out = tmp_path / "two.json"
    assert main(["bootstrap", str(small_pbc), "--out", str(out), "--workers", "1", "--limit", "2"]) == 0
    dataset = load_coco(out, images_root=small_pbc)
    assert sorted(i.image_label for i in dataset.images) == ["neutrophil", "platelet"]


def test_coco_boxes_with_an_unknown_class_need_classes(tmp_path, syn, capsys):
    rgb, cell, _ = syn.white_cell_with_red_cells()
    Image.fromarray(rgb).save(tmp_path / "field.png")
    ys, xs = np.nonzero(cell)
    box = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
    coco = {
        "images": [{"id": 1, "file_name": "field.png", "width": 360, "height": 360}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": box, "iscrowd": 0}],
        "categories": [{"id": 1, "name": "smudge"}],
    }
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps(coco))
    out = tmp_path / "out.json"
    args = ["bootstrap", str(tmp_path), "--boxes", str(boxes), "--out", str(out), "--workers", "1"]
    assert main(args) == 1
    assert "smudge" in capsys.readouterr().err and not out.exists()
    assert main([*args, "--classes", "smudge"]) == 0
    image = load_coco(out, images_root=tmp_path).images[0]
    assert [i.class_name for i in image.instances] == ["smudge"]
    assert image.instances[0].to_mask(360, 360)[cell].mean() > 0.85


def test_an_empty_class_folder_is_skipped_with_a_note(tmp_path, pbc_dir, capsys):
    # regression: "unknown cell class 'empty'" stopped the run; info ignores such a folder
    root = tmp_path / "pbc"
    (root / "neutrophil").mkdir(parents=True)
    shutil.copy(sorted((pbc_dir / "neutrophil").glob("*.jpg"))[0], root / "neutrophil")
    (root / "empty").mkdir()
    assert main(["info", str(root)]) == 0
    assert main(["bootstrap", str(root), "--out", str(tmp_path / "o.json"), "--workers", "1"]) == 0
    assert "skipped 1 folder(s) with no images: empty/" in capsys.readouterr().out
    assert load_coco(tmp_path / "o.json", images_root=root).class_counts() == {"neutrophil": 1}
