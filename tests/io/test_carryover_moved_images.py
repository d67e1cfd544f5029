"""The command line finds images recorded on another computer as the window does.

Regression: ``bloodview convert``, ``count`` and ``info`` read a COCO file written on a Windows PC
(``C:\\Users\\tech\\smears\\day1\\IMG_0001.jpg``) as ``Users/tech/smears/day1/IMG_0001.jpg``: only
the window then found the image at ``day1/IMG_0001.jpg``. ``convert`` wrote
``out/Users/tech/smears/day1/IMG_0001.json``, ``count``'s CSV named ``Users/tech/...``, and a VIA or
LabelMe export named an image that is not there.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

from PIL import Image

from bloodview.cli.main import main
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.io.detect import load_annotations
from bloodview.io.image_lookup import find_moved_images

WINDOWS_NAMES = ["C:\\Users\\tech\\smears\\day1\\IMG_0001.jpg", "\\\\labserver\\lab\\smears\\day2\\IMG_0001.JPG"]


def _picture(path: Path, size=(64, 48)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, "white").save(path)
    return path


def _coco(path: Path, names, size=(64, 48)) -> Path:
    """One cell per image: image ``k`` has its cell at x = 4 + 10 k."""
    images = [{"id": k + 1, "file_name": n, "width": size[0], "height": size[1]} for k, n in enumerate(names)]
    cells = [{"id": k + 1, "image_id": k + 1, "category_id": 1, "iscrowd": 0, "area": 36, "bbox": [4 + 10 * k, 4, 6, 6],
              "segmentation": [[4 + 10 * k, 4, 10 + 10 * k, 4, 10 + 10 * k, 10, 4 + 10 * k, 10]]}
             for k in range(len(names))]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"images": images, "annotations": cells,
                                "categories": [{"id": 1, "name": "neutrophil"}]}), encoding="utf-8")
    return path


def _share(tmp_path: Path) -> Path:
    """The PC's images copied to Linux as ``share/day1/IMG_0001.jpg`` and ``share/day2/img_0001.jpg``."""
    share = tmp_path / "share"
    _picture(share / "day1" / "IMG_0001.jpg")
    _picture(share / "day2" / "img_0001.jpg")
    return _coco(share / "coco.json", WINDOWS_NAMES)


def test_load_annotations_points_windows_paths_at_the_images_found(tmp_path, caplog):
    coco = _share(tmp_path)
    with caplog.at_level(logging.WARNING, logger="bloodview"):
        dataset = load_annotations(coco)
    assert [i.image_path.as_posix() for i in dataset.images] == ["day1/IMG_0001.jpg", "day2/img_0001.jpg"]
    assert all(dataset.resolve_image(i).is_file() for i in dataset.images)
    assert "2 image(s) were not where the file records them" in caplog.text  # said, not done silently


def test_the_window_still_says_what_reading_found(tmp_path):
    """The window looks again after reading (``gui/opening.py``): it must still say what was found."""
    dataset = load_annotations(_share(tmp_path))
    again = find_moved_images(dataset)
    assert len(again.found) == 2 and "found under another letter case" in again.sentence()
    assert find_moved_images(dataset).found == []  # said once, not at every later look (Locate images…)


def test_convert_writes_each_image_where_it_is(tmp_path):
    coco = _share(tmp_path)
    assert main(["convert", str(coco), str(tmp_path / "out"), "--to", "labelme"]) == 0
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.json"))
    assert written == ["day1/IMG_0001.json", "day2/img_0001.json"]
    label = json.loads((tmp_path / "out" / "day1" / "IMG_0001.json").read_text())
    assert label["shapes"][0]["points"][0] == [4, 4]  # day1 kept its own cell


def test_count_and_info_name_the_images_found(tmp_path, capsys):
    coco = _share(tmp_path)
    assert main(["count", str(coco), "--out", str(tmp_path / "counts.csv")]) == 0
    with open(tmp_path / "counts.csv", newline="", encoding="utf-8-sig") as handle:
        names = [row["image"] for row in csv.DictReader(handle)]
    assert names == ["day1/IMG_0001.jpg", "day2/img_0001.jpg", "all images"]
    capsys.readouterr()
    assert main(["info", str(coco), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["images"] == 2


def test_images_given_in_another_folder_are_found_there(tmp_path):
    coco = _coco(tmp_path / "mail" / "coco.json", WINDOWS_NAMES[:1])
    _picture(tmp_path / "smears" / "day1" / "img_0001.JPG")
    dataset = load_annotations(coco, images=tmp_path / "smears")
    assert dataset.root == tmp_path / "smears"
    assert dataset.images[0].image_path.as_posix() == "day1/img_0001.JPG"


def test_an_image_not_found_keeps_its_path_and_cells(tmp_path):
    coco = _coco(tmp_path / "coco.json", ["C:\\smears\\gone.jpg"])
    dataset = load_annotations(coco)
    assert dataset.images[0].image_path.as_posix() == "smears/gone.jpg"
    assert len(dataset.images[0].instances) == 1


def test_a_file_above_the_data_folder_that_is_no_image_is_never_taken(tmp_path):
    """A crafted ``C:\\etc\\secret`` found in a folder above the data folder (the search for a
    project's images beside it) must not point bloodview at a file outside the data folder."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "secret").write_text("not an image")
    _picture(tmp_path / "etc" / "a.png")
    data = tmp_path / "lab" / "files"
    data.mkdir(parents=True)
    dataset = Dataset([ImageAnnotation(Path("etc/secret"), 64, 48), ImageAnnotation(Path("etc/a.png"), 64, 48)],
                      root=data)
    moved = find_moved_images(dataset)
    assert [i.image_path.as_posix() for i in dataset.images] == ["etc/secret", "../../etc/a.png"]
    assert moved.missing == 1


def test_nothing_is_listed_when_every_image_is_where_recorded(tmp_path, monkeypatch):
    """The usual case costs one check per image (a 20,000-image COCO file on a share)."""
    import os

    _picture(tmp_path / "a.png")
    coco = _coco(tmp_path / "coco.json", ["a.png"])
    listed = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path=".": listed.append(path) or real_listdir(path))
    dataset = load_annotations(coco)
    assert dataset.images[0].image_path == Path("a.png") and listed == []
