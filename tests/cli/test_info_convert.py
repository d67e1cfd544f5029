"""``bloodview info`` and ``bloodview convert`` on real data and on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from bloodview.cli.main import main
from bloodview.errors import FormatError


def test_info_on_bccd_boxes(bccd_dir, capsys):
    assert main(["info", str(bccd_dir)]) == 0
    out = capsys.readouterr().out
    assert ": voc" in out
    assert "cells:     4886 (0 reviewed, 4886 boxes only)" in out
    assert "rbc" in out and "4153" in out and "(val 87, train 205, test 72)" in out


def test_info_json_on_pbc_class_folders(pbc_dir, capsys):
    assert main(["info", str(pbc_dir), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "class-folders" and info["images"] == 2720 and info["instances"] == 0
    assert info["image_labels"]["ig"] == 340 and info["splits"] == {"train": 2240, "val": 480}


def test_convert_chain_reads_back_its_own_classes(bccd_dir, tmp_path, capsys):
    """VIA keeps no catalogue: its rbc/wbc classes come back without --add-classes (they used to be refused)."""
    images = str(bccd_dir / "JPEGImages")
    assert main(["convert", str(bccd_dir), str(tmp_path / "a.json"), "--to", "coco"]) == 0
    assert main(["convert", str(tmp_path / "a.json"), str(tmp_path / "v.json"), "--to", "via", "--images", images]) == 0
    capsys.readouterr()
    assert main(["convert", str(tmp_path / "v.json"), str(tmp_path / "b.json"), "--to", "coco", "--images", images]) == 0
    assert "364 images, 4886 cells" in capsys.readouterr().out
    data = json.loads((tmp_path / "b.json").read_text())
    assert len(data["annotations"]) == 4886
    assert {c["name"] for c in data["categories"]} >= {"rbc", "wbc", "platelet"}


def test_convert_zheng_masks_to_makesense_and_labelme(zheng_dir, tmp_path, capsys):
    assert main(["convert", str(zheng_dir), str(tmp_path / "ms.json"), "--to", "makesense-coco"]) == 0
    data = json.loads((tmp_path / "ms.json").read_text())
    assert len(data["images"]) == 300 and data["annotations"][0]["id"] == 0
    assert main(["convert", str(tmp_path / "ms.json"), str(tmp_path / "lm"), "--to", "labelme",
                 "--images", str(zheng_dir)]) == 0
    assert len(list((tmp_path / "lm").glob("*.json"))) == 300


@pytest.fixture
def broken(tmp_path):
    (tmp_path / "ann.json").write_text('{"images": [{"id": 1, "file_name": "a.png"')
    return tmp_path / "ann.json"


def test_bad_input_is_one_sentence_without_traceback(broken, capsys):
    assert main(["info", str(broken)]) == 1
    err = capsys.readouterr().err
    assert err == f"bloodview: error: {broken}: is not valid JSON: Expecting ',' delimiter at line 1, " \
                  "column 43 (the file looks truncated)\n"
    with pytest.raises(FormatError):
        main(["--debug", "info", str(broken)])


def test_convert_refuses_to_overwrite_its_input_and_keeps_old_output(tmp_path, capsys):
    Image.new("RGB", (20, 20)).save(tmp_path / "a.png")
    coco = {"images": [{"id": 1, "file_name": "a.png", "width": 20, "height": 20}], "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 9, 1, 9, 9]]}],
        "categories": [{"id": 1, "name": "monocyte"}]}
    (tmp_path / "in.json").write_text(json.dumps(coco))
    assert main(["convert", str(tmp_path / "in.json"), str(tmp_path / "in.json"), "--to", "via"]) == 1
    assert "is the input" in capsys.readouterr().err
    (tmp_path / "out.json").write_text("precious")
    coco["annotations"][0]["segmentation"] = [[1, 1]]
    (tmp_path / "bad.json").write_text(json.dumps(coco))
    assert main(["convert", str(tmp_path / "bad.json"), str(tmp_path / "out.json"), "--to", "via"]) == 1
    assert "outline has 1 point(s)" in capsys.readouterr().err
    assert (tmp_path / "out.json").read_text() == "precious"


def test_convert_into_the_input_files_own_folder_keeps_the_input(tmp_path, capsys):
    """Regression: ``convert data/coco.json data --to coco`` wrote data/coco.json over the input."""
    Image.new("RGB", (20, 20)).save(tmp_path / "a.png")
    coco = {"images": [{"id": 1, "file_name": "a.png", "width": 20, "height": 20}], "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 9, 1, 9, 9]]}],
        "categories": [{"id": 1, "name": "monocyte"}]}
    original = json.dumps(coco)
    (tmp_path / "coco.json").write_text(original)
    assert main(["convert", str(tmp_path / "coco.json"), str(tmp_path), "--to", "coco"]) == 1
    assert capsys.readouterr().err == (f"bloodview: error: {tmp_path / 'coco.json'}: is the input; choose another "
                                       "output so the original is not overwritten\n")
    assert (tmp_path / "coco.json").read_text() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "coco.json"]
    assert main(["convert", str(tmp_path / "coco.json"), str(tmp_path), "--to", "via"]) == 0
    assert (tmp_path / "via.json").is_file()


def test_real_command_line(tmp_path):
    Image.new("RGB", (30, 20)).save(tmp_path / "a.png")
    made = ('{"a.png":{"fileref":"","size":1,"filename":"a.png","base64_img_data":"","file_attributes":{},'
            '"regions":{"0":{"shape_attributes":{"name":"polygon","all_points_x":[1,9,5,1],'
            '"all_points_y":[1,1,8,1]},"region_attributes":{"label":"basophil"}}}}}')
    (tmp_path / "v.json").write_text(made)
    result = subprocess.run([sys.executable, "-m", "bloodview", "convert", str(tmp_path / "v.json"),
                             str(tmp_path / "c.json"), "--to", "coco"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "(via) ->" in result.stdout
    assert json.loads((tmp_path / "c.json").read_text())["annotations"][0]["category_id"] == 1


@pytest.mark.parametrize("to", ["via", "coco", "makesense-coco"])
def test_convert_to_a_file_format_named_without_json_writes_a_file_that_reads_back(bccd_dir, tmp_path, capsys, to):
    """Regression: ``convert ... --to via out`` wrote ``out``, which info then refused to read."""
    xml = bccd_dir / "Annotations" / "BloodImage_00001.xml"
    assert main(["convert", str(xml), str(tmp_path / "out"), "--to", to]) == 0
    assert f"-> {tmp_path / 'out.json'} ({to})" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    assert main(["info", str(tmp_path / "out.json"), "--images", str(bccd_dir / "JPEGImages")]) == 0
    assert "19 (" in capsys.readouterr().out


def test_info_on_the_zheng_root_points_at_its_annotated_folder(zheng_dir, capsys):
    """Regression: the root read as class folders with a class "dataset 1" of 600 images (masks counted)."""
    assert main(["info", str(zheng_dir.parent)]) == 1
    err = capsys.readouterr().err
    assert "is not a set of class folders" in err and "'Dataset 1' is annotated itself (mask-png)" in err
    assert str(zheng_dir) in err
    assert main(["info", str(zheng_dir)]) == 0
    assert "images:    300" in capsys.readouterr().out


def test_a_class_folder_set_still_reads_beside_plain_image_folders(tmp_path, capsys):
    for name in ("basophil", "platelet"):
        (tmp_path / name).mkdir()
        Image.new("RGB", (20, 20)).save(tmp_path / name / "a.jpg")
    assert main(["info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert ": class-folders" in out and "basophil" in out and "platelet" in out


def test_the_from_option_lists_every_format_the_readers_take(capsys):
    from bloodview.cli.main import main
    from bloodview.io.detect import LOAD_FORMATS

    with pytest.raises(SystemExit):
        main(["info", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(name in text for name in LOAD_FORMATS if name != "coco-results")  # cvat was missing
