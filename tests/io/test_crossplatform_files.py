"""Files that travel between Windows PCs, Macs, Linux and a lab's share: read, found and written.

Regressions named per test: a COCO file written on a PC with absolute image paths was refused
whole; a JSON file saved by Notepad ("Unicode") or Windows PowerShell (UTF-16) was "not a UTF-8
text file"; a project saved from ``smear 12:30.png`` could not be copied to a PC; an export of
``A.png`` and ``a.png`` wrote ``A.json`` and ``a.json``, one file on the PC it was copied to.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.instance import Instance, Source
from bloodview.errors import FormatError
from bloodview.io.detect import load_annotations, save_annotations
from bloodview.io.image_lookup import find_image, find_moved_images
from bloodview.io.paths import member_path
from bloodview.io.project import load_project, save_project

SQUARE = np.array([[5, 5], [20, 5], [20, 20], [5, 20]], float)


def _picture(path: Path, size=(64, 48)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, "white").save(path)
    return path


def _coco_text(names, size=(64, 48)) -> str:
    images = [{"id": k + 1, "file_name": n, "width": size[0], "height": size[1]} for k, n in enumerate(names)]
    cells = [{"id": k + 1, "image_id": k + 1, "category_id": 1, "iscrowd": 0, "area": 225, "bbox": [5, 5, 15, 15],
              "segmentation": [[5, 5, 20, 5, 20, 20, 5, 20]]} for k in range(len(names))]
    return json.dumps({"images": images, "annotations": cells, "categories": [{"id": 1, "name": "neutrophil"}]},
                      indent=1)


@pytest.mark.parametrize(("name", "inside"), [
    ("C:\\Users\\tech\\smears\\day1\\a.jpg", "Users/tech/smears/day1/a.jpg"),
    ("\\\\labserver\\lab\\day1\\a.jpg", "day1/a.jpg"),
    ("C:/Users\\tech/mixed\\a.jpg", "Users/tech/mixed/a.jpg"),
    ("/etc/passwd", "etc/passwd"),
    ("a:b.jpg", "a:b.jpg"),  # a Linux name, not a drive
])
def test_absolute_names_are_read_inside_the_data_folder(name, inside):
    assert member_path(name, "ann.json").as_posix() == inside


def test_a_crafted_absolute_name_never_reads_outside_the_data_folder(tmp_path):
    (tmp_path / "ann.json").write_text(_coco_text(["/etc/passwd", "C:\\Windows\\win.ini"]))
    dataset = load_annotations(tmp_path / "ann.json")
    for image in dataset.images:
        assert dataset.resolve_image(image).resolve().is_relative_to(tmp_path.resolve())


def test_a_utf16_json_from_notepad_or_powershell_with_crlf_reads(tmp_path):
    _picture(tmp_path / "a.png")
    text = "\ufeff" + _coco_text(["a.png"]).replace("\n", "\r\n")
    for encoding in ("utf-16-le", "utf-16-be", "utf-8"):
        (tmp_path / "ann.json").write_bytes(text.encode(encoding))
        dataset = load_annotations(tmp_path / "ann.json")
        assert [len(i.instances) for i in dataset.images] == [1], encoding


def test_a_broken_utf16_file_is_one_clear_sentence(tmp_path):
    (tmp_path / "ann.json").write_bytes(b"\xff\xfe{\x00\x00\xd8")  # a lone surrogate half
    with pytest.raises(FormatError, match=r"ann.json: is not a readable UTF-16 text file"):
        load_annotations(tmp_path / "ann.json", fmt="coco")


def test_names_match_ignoring_case_and_nfd_but_never_between_two_look_alikes(tmp_path):
    nfd = unicodedata.normalize("NFD", "Müller")
    _picture(tmp_path / "Day1" / f"{nfd}.PNG")
    assert find_image(tmp_path, Path("day1") / "müller.png") == Path("Day1") / f"{nfd}.PNG"
    _picture(tmp_path / "x.png")
    _picture(tmp_path / "X.png")
    assert find_image(tmp_path, Path("x.PNG")) is None


def test_two_images_of_one_name_in_two_folders_never_share_one_file(tmp_path):
    _picture(tmp_path / "IMG_0001.jpg")  # the images were flattened into one folder
    dataset = Dataset([ImageAnnotation(Path("Users/tech/day1/IMG_0001.jpg"), 64, 48),
                       ImageAnnotation(Path("Users/tech/day2/IMG_0001.jpg"), 64, 48),
                       ImageAnnotation(Path("Users/tech/day2/img_0001.JPG"), 64, 48)], root=tmp_path)
    moved = find_moved_images(dataset)
    assert [i.image_path.as_posix() for i in dataset.images] == [
        "IMG_0001.jpg", "Users/tech/day2/IMG_0001.jpg", "Users/tech/day2/img_0001.JPG"]
    assert len(moved.found) == 1 and moved.missing == 2


def test_portable_names_store_on_windows():
    from bloodview.io.paths import portable_name

    assert portable_name('smear 12:30 "a"<b>|c?*.') == "smear 12_30 _a__b__c__"
    assert portable_name("CON") == "_CON" and portable_name("x" * 300) == "x" * 60 and portable_name("") == "_"


def test_a_project_saved_from_names_windows_refuses_can_be_copied_to_a_pc_and_back(tmp_path):
    odd = "smear 12:30 ? tech|ana " + "long" * 40 + ".png"
    _picture(tmp_path / "smears" / odd)
    cell = Instance([SQUARE], "neutrophil", source=Source.HUMAN)
    save_project(Dataset([ImageAnnotation(tmp_path / "smears" / odd, 64, 48, [cell])]), tmp_path / "proj")
    names = [p.name for p in (tmp_path / "proj" / "annotations").iterdir()]
    assert len(names) == 1 and not re.search(r'[<>:"\\|?*]', names[0]) and len(names[0]) < 100
    project = load_project(tmp_path / "proj")
    assert project.dataset.images[0].image_path.name == odd and len(project.dataset.images[0].instances) == 1
    save_project(project.dataset, tmp_path / "proj")  # the next save keeps (and cleans up) the same file
    assert [p.name for p in (tmp_path / "proj" / "annotations").iterdir()] == names


@pytest.mark.parametrize("fmt", ["labelme", "voc", "yolo", "mask-png"])
def test_an_export_of_two_names_one_on_windows_is_refused_before_writing(tmp_path, fmt):
    for name in ("A.png", "a.png"):
        _picture(tmp_path / name)
    dataset = Dataset([ImageAnnotation(Path("A.png"), 64, 48, [Instance([SQUARE], "neutrophil")]),
                       ImageAnnotation(Path("a.png"), 64, 48, [Instance([SQUARE], "neutrophil")])], root=tmp_path)
    with pytest.raises(FormatError, match="images A.png and a.png would both be written to A.* and a.*one file on "
                                          "Windows and macOS"):
        save_annotations(dataset, tmp_path / "out", fmt)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.*"))


def test_an_image_with_a_long_name_is_exported_beside_it(tmp_path):
    """Regression: a 245-character image name gave a LabelMe file name that fits (250 bytes), but the
    temporary file it is written through did not: "File name too long", nothing exported."""
    name = "smear " + "x" * 234 + ".png"
    _picture(tmp_path / name)
    dataset = Dataset([ImageAnnotation(Path(name), 64, 48, [Instance([SQUARE], "neutrophil")])], root=tmp_path)
    save_annotations(dataset, tmp_path / "out", "labelme")
    assert [p.name for p in (tmp_path / "out").iterdir()] == [name[:-4] + ".json"]
    assert len(load_annotations(tmp_path / "out", images=tmp_path).images[0].instances) == 1


def test_portable_names_fit_in_the_bytes_a_file_name_may_have():
    from bloodview.io.paths import portable_name

    assert portable_name("😀" * 60) == "😀" * 30 and portable_name("é" * 60) == "é" * 60


def test_a_sub_folder_that_vanishes_while_the_folder_is_read_is_left_out(tmp_path, monkeypatch, caplog):
    """Regression: a sub-folder removed from the share between listing its parent and reading it
    (a colleague tidying up) made opening the whole folder fail: "No such file or directory"."""
    import os
    import shutil

    from bloodview.io.images import list_images

    _picture(tmp_path / "smears" / "a.png")
    _picture(tmp_path / "smears" / "day2" / "b.png")
    real_scandir = os.scandir

    def vanishing(path="."):
        if isinstance(path, (str, os.PathLike)) and Path(path) == tmp_path / "smears" / "day2":
            shutil.rmtree(path)  # really gone, just before it is read
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", vanishing)
    assert list_images(tmp_path / "smears") == [tmp_path / "smears" / "a.png"]
    assert "day2: left out" in caplog.text


def test_another_picture_that_shares_the_name_is_not_taken_for_a_missing_image(tmp_path):
    _picture(tmp_path / "a.jpg", size=(100, 80))  # another field, not the one the file describes
    _picture(tmp_path / "b.jpg", size=(64, 48))
    dataset = Dataset([ImageAnnotation(Path("Users/tech/day1/a.jpg"), 64, 48),
                       ImageAnnotation(Path("Users/tech/day1/b.jpg"), 64, 48)], root=tmp_path)
    moved = find_moved_images(dataset)
    assert [i.image_path.as_posix() for i in dataset.images] == ["Users/tech/day1/a.jpg", "b.jpg"]
    assert moved.missing == 1
