"""VIA / MakeSense VGG files: their images found as the window finds them, keyed as VIA 2 keys them.

Regressions:

* a VGG file whose tool recorded Windows paths (``C:\\Users\\tech\\day1\\IMG_0001.JPG``) or another
  letter case was refused "image file not found" (VIA stores no image sizes, so the reader opens
  each image) although the images were in the folder given (``bloodview info FILE --images DIR``);
* our VIA export keyed images by bare file name (as MakeSense does); VIA 2 keys them by file name
  followed by file size, and a VIA user who opened our export and added the images got each image
  again, without its cells (``project_file_add_local`` looks for ``name + size`` or ``name + "-1"``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bloodview.cli.main import main
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.instance import Instance
from bloodview.errors import ImageError
from bloodview.io.detect import load_annotations
from bloodview.io.via import load_via, save_via

SQUARE = {"name": "polygon", "all_points_x": [10, 40, 40, 10], "all_points_y": [10, 10, 50, 50]}


def _picture(path: Path, size=(64, 48)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, "white").save(path)
    return path


def _vgg(path: Path, names) -> Path:
    """A VGG file as VIA 2 writes it (keys ``name + size``, size unknown), one square per image."""
    entries = {f"{name}-1": {"fileref": "", "size": -1, "filename": name, "base64_img_data": "", "file_attributes": {},
                             "regions": [{"shape_attributes": SQUARE, "region_attributes": {"label": "basophil"}}]}
               for name in names}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def test_a_vgg_file_with_windows_paths_reads_its_images_from_the_folder_given(tmp_path, capsys):
    images = tmp_path / "smears"
    _picture(images / "Day1" / "img_0001.jpg", (80, 60))
    _picture(images / "day2" / "IMG_0002.png", (70, 60))
    vgg = _vgg(tmp_path / "mail" / "vgg.json", ["C:\\Users\\tech\\day1\\IMG_0001.JPG", "D:\\lab\\day2\\IMG_0002.png"])
    dataset = load_annotations(vgg, images=images)
    assert [(i.image_path.as_posix(), i.width, i.height) for i in dataset.images] == [
        ("Day1/img_0001.jpg", 80, 60), ("day2/IMG_0002.png", 70, 60)]
    assert [len(i.instances) for i in dataset.images] == [1, 1]
    assert main(["info", str(vgg), "--images", str(images), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["instances"] == 2


def test_a_vgg_file_whose_image_is_nowhere_still_says_so(tmp_path):
    vgg = _vgg(tmp_path / "vgg.json", ["C:\\smears\\gone.jpg"])
    with pytest.raises(ImageError, match="VIA files do not store image sizes"):
        load_via(vgg)


def test_two_files_differing_only_in_case_are_never_guessed_between(tmp_path):
    _picture(tmp_path / "a.jpg")
    _picture(tmp_path / "A.jpg")
    with pytest.raises(ImageError, match="image file not found"):
        load_via(_vgg(tmp_path / "vgg.json", ["a.JPG"]))


@pytest.fixture
def exported(tmp_path):
    """A two-image dataset written with bloodview's VIA export; the image files' sizes."""
    _picture(tmp_path / "a.png")
    _picture(tmp_path / "b.png", (40, 30))
    square = np.array([[5, 5], [20, 5], [20, 20], [5, 20]], float)
    dataset = Dataset([ImageAnnotation("a.png", 64, 48, [Instance([square], "neutrophil")]),
                       ImageAnnotation("b.png", 40, 30, [Instance([square], "platelet")]),
                       ImageAnnotation("gone.png", 40, 30, [Instance([square], "platelet")])], root=tmp_path)
    save_via(dataset, tmp_path / "via.json")
    return tmp_path / "via.json", {n: (tmp_path / n).stat().st_size for n in ("a.png", "b.png")}


def test_the_via_export_is_keyed_as_via_2_keys_images(exported):
    path, sizes = exported
    data = json.loads(path.read_text())
    assert list(data) == [f"a.png{sizes['a.png']}", f"b.png{sizes['b.png']}", "gone.png-1"]
    # what VIA 2 looks for when the user adds the image files (project_file_add_local)
    for key, entry in data.items():
        assert key in (entry["filename"] + str(entry["size"]), entry["filename"] + "-1")


def test_both_keyings_read_back(exported, tmp_path):
    path, _ = exported
    data = json.loads(path.read_text())
    bare = {entry["filename"]: entry for entry in data.values()}  # as MakeSense and older bloodview wrote it
    (tmp_path / "bare.json").write_text(json.dumps(bare))
    _picture(tmp_path / "gone.png", (40, 30))  # VIA files need their images
    for file in (path, tmp_path / "bare.json"):
        dataset = load_via(file)
        assert [(i.image_path.as_posix(), len(i.instances)) for i in dataset.images] == [
            ("a.png", 1), ("b.png", 1), ("gone.png", 1)]
