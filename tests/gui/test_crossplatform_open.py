"""Annotation files and projects written on a Windows PC or a Mac open on Linux with their images.

Regression: a COCO file whose tool recorded where the images were on the PC that wrote it
(``C:\\Users\\tech\\smears\\day1\\IMG_0001.jpg``, ``\\\\labserver\\share\\...``) was refused
whole ("is an absolute path"): nothing opened. A name recorded in another letter case
(``IMG_0001.JPG`` for ``img_0001.jpg``: Windows and macOS do not care) or with ``é`` spelled
as macOS spells it (NFD) opened every image as "not found", and File → Locate images… did
not find them either.
"""

from __future__ import annotations

import json
import unicodedata

import pytest
from PIL import Image

pytestmark = pytest.mark.gui


def _picture(path, size=(64, 48)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, "white").save(path)


def _coco(path, names, size=(64, 48)):
    """A COCO file with one cell per image: image ``k`` has its cell at x = 4 + 10 k."""
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [{"id": k + 1, "file_name": name, "width": size[0], "height": size[1]} for k, name in enumerate(names)]
    cells = [{"id": k + 1, "image_id": k + 1, "category_id": 1, "iscrowd": 0, "area": 36,
              "bbox": [4 + 10 * k, 4, 6, 6],
              "segmentation": [[4 + 10 * k, 4, 10 + 10 * k, 4, 10 + 10 * k, 10, 4 + 10 * k, 10]]}
             for k in range(len(names))]
    path.write_text(json.dumps({"images": images, "annotations": cells,
                                "categories": [{"id": 1, "name": "neutrophil"}]}), encoding="utf-8")
    return path


def _cell_x(image):
    return [round(float(i.polygons[0][:, 0].min())) for i in image.instances]


def test_a_coco_file_with_windows_absolute_paths_opens_with_each_image_in_its_own_folder(make_window, tmp_path):
    share = tmp_path / "share"
    _picture(share / "day1" / "IMG_0001.jpg")
    _picture(share / "day2" / "IMG_0001.jpg")
    coco = _coco(share / "coco.json", ["C:\\Users\\tech\\smears\\day1\\IMG_0001.jpg",
                                       "\\\\labserver\\lab\\smears\\day2\\IMG_0001.jpg"])
    window = make_window()
    assert window.files.open([coco]), window.prompts.messages
    images = window.session.dataset.images
    assert [i.image_path.as_posix() for i in images] == ["day1/IMG_0001.jpg", "day2/IMG_0001.jpg"]
    assert [_cell_x(i) for i in images] == [[4], [14]]  # each image keeps its own cell
    assert not window.session.broken and window.qimage is not None
    said = dict(window.prompts.messages).get("Opened with warnings", "")
    assert "found under another letter case, spelling or folder" in said


def test_names_recorded_in_another_letter_case_or_unicode_spelling_find_their_images(make_window, tmp_path):
    cafe_nfd = unicodedata.normalize("NFD", "Café")  # written by a Mac
    _picture(tmp_path / "smears" / "img_0001.jpg")
    _picture(tmp_path / "smears" / f"{cafe_nfd}_2.png")
    coco = _coco(tmp_path / "smears" / "coco.json", ["IMG_0001.JPG", unicodedata.normalize("NFC", "Café_2.png")])
    window = make_window()
    assert window.files.open([coco]), window.prompts.messages
    images = window.session.dataset.images
    assert [i.image_path.name for i in images] == ["img_0001.jpg", f"{cafe_nfd}_2.png"]
    assert not window.session.broken and [_cell_x(i) for i in images] == [[4], [14]]


def test_two_files_differing_only_in_case_are_never_guessed_between(make_window, tmp_path):
    _picture(tmp_path / "smears" / "a.jpg")
    _picture(tmp_path / "smears" / "A.jpg")
    coco = _coco(tmp_path / "smears" / "coco.json", ["a.JPG"])
    window = make_window()
    assert window.files.open([coco])
    assert sorted(window.session.broken) == [0], "one of two look-alike files was picked at random"
    assert _cell_x(window.session.dataset.images[0]) == [4]  # the cells are kept all the same


def test_locate_images_finds_a_folder_whose_names_changed_case(make_window, tmp_path):
    _picture(tmp_path / "smears" / "Day1" / "IMG_0001.JPG")
    coco = _coco(tmp_path / "mail" / "coco.json", ["day1/img_0001.jpg"])
    window = make_window()
    assert window.files.open([coco])
    assert sorted(window.session.broken) == [0]
    assert window.files.locate_images(tmp_path / "smears") == 1
    assert window.session.dataset.images[0].image_path.as_posix() == "Day1/IMG_0001.JPG"
    assert not window.session.broken and window.qimage is not None


def test_a_labelme_folder_annotated_on_a_pc_opens_each_image_once_with_its_cells(make_window, tmp_path):
    """LabelMe on a PC records ``imagePath`` absolute when the image is on another drive; the folder,
    copied to Linux with its images, was refused whole ("is an absolute path"). Each image must open
    once, with its cells (not once missing with its cells and once found without them)."""
    folder = tmp_path / "labelme"
    for name in ("a.png", "b.png"):
        _picture(folder / name)
        (folder / name.replace(".png", ".json")).write_text(json.dumps({
            "version": "5.4.1", "flags": {}, "imagePath": f"D:\\Smears\\{name.upper()}", "imageData": None,
            "imageWidth": 64, "imageHeight": 48,
            "shapes": [{"label": "neutrophil", "points": [[4, 4], [10, 4], [10, 10], [4, 10]],
                        "shape_type": "polygon", "group_id": None, "flags": {}}]}))
    window = make_window()
    assert window.files.open([folder]), window.prompts.messages
    images = window.session.dataset.images
    assert [(i.image_path.as_posix(), len(i.instances)) for i in images] == [("a.png", 1), ("b.png", 1)]
    assert not window.session.broken
