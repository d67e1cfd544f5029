"""A project folder written on a Windows PC opens on Linux with its images and cells.

Regression: ``project.json`` written or edited on a PC (``..\\smears\\a.png``) named, on Linux, one
file called ``..\\smears\\a.png`` beside the project: every image "not found", and an image listed
without an annotation file made the whole project refuse to open ("image file not found"). A
project that reached its images by a UNC name the PC did not see as its own drive stored them
absolute (``//labserver/lab/smears/b.png``), never found on the workstation that mounts the share.
"""

from __future__ import annotations

import json

import pytest
from PIL import Image

pytestmark = pytest.mark.gui


def test_a_project_written_on_windows_opens_with_its_images_and_cells(make_window, tmp_path):
    share = tmp_path / "share"
    (share / "smears").mkdir(parents=True)
    for name in ("a.png", "b.png", "c.png"):
        Image.new("RGB", (64, 48), "white").save(share / "smears" / name)
    project = share / "proj"
    (project / "annotations").mkdir(parents=True)
    square = [[[5, 5], [20, 5], [20, 20], [5, 20]]]
    for stem, image in (("a", "../smears/a.png"), ("b", "//labserver/lab/smears/b.png")):
        (project / "annotations" / f"{stem}.json").write_text(json.dumps({
            "schema_version": 1, "image": image, "width": 64, "height": 48,
            "instances": [{"class": "neutrophil", "polygons": square, "source": "human", "reviewed": True}]}))
    (project / "project.json").write_text(json.dumps({
        "schema_version": 1, "classes": [], "settings": {},
        "images": [{"path": "..\\smears\\a.png", "annotation": "annotations\\a.json"},
                   {"path": "//labserver/lab/smears/b.png", "annotation": "annotations/b.json"},
                   {"path": "..\\smears\\C.PNG"}]}), encoding="utf-8")
    window = make_window()
    assert window.files.open([project]), window.prompts.messages
    images = window.session.dataset.images
    assert [i.image_path.as_posix() for i in images] == ["../smears/a.png", "../smears/b.png", "../smears/c.png"]
    assert [len(i.instances) for i in images] == [1, 1, 0]
    assert images[2].width == 64, "its size is read once it is found, so it exports"
    assert not window.session.broken and window.qimage is not None


def test_a_project_whose_unannotated_image_is_gone_still_opens(make_window, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    Image.new("RGB", (64, 48), "white").save(tmp_path / "a.png")
    (project / "project.json").write_text(json.dumps({
        "schema_version": 1, "classes": [], "settings": {},
        "images": [{"path": "../a.png"}, {"path": "../gone.png"}]}))
    window = make_window()
    assert window.files.open([project]), window.prompts.messages
    assert sorted(window.session.broken) == [1] and window.qimage is not None


def test_cells_from_a_pc_import_into_the_open_project_whatever_case_it_recorded(make_window, tmp_path):
    """Regression: File → Import annotations matched the file's images to the open ones by exact name:
    a COCO file from a PC naming ``C:\\Users\\tech\\Smears\\A.PNG`` or ``B.PNG`` for the open
    ``a.png`` and ``b.png`` imported no cells (the first was refused whole, as an absolute path)."""
    from bloodview.core.annotation import Dataset, ImageAnnotation
    from bloodview.io.project import save_project

    (tmp_path / "smears").mkdir()
    for name in ("a.png", "b.png"):
        Image.new("RGB", (64, 48), "white").save(tmp_path / "smears" / name)
    save_project(Dataset([ImageAnnotation(tmp_path / "smears" / n, 64, 48) for n in ("a.png", "b.png")]),
                 tmp_path / "proj")
    names = ["C:\\Users\\tech\\Smears\\A.PNG", "B.PNG"]
    cells = [{"id": k + 1, "image_id": k + 1, "category_id": 1, "iscrowd": 0, "area": 225, "bbox": [5, 5, 15, 15],
              "segmentation": [[5, 5, 20, 5, 20, 20, 5, 20]]} for k in range(2)]
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "from_pc.json").write_text(json.dumps({
        "images": [{"id": k + 1, "file_name": n, "width": 64, "height": 48} for k, n in enumerate(names)],
        "annotations": cells, "categories": [{"id": 1, "name": "neutrophil"}]}))
    window = make_window()
    assert window.files.open([tmp_path / "proj"])
    window.prompts.answers["open_paths"] = [str(tmp_path / "mail" / "from_pc.json")]
    window.files.import_annotations()
    assert [len(i.instances) for i in window.session.dataset.images] == [1, 1], window.prompts.messages
