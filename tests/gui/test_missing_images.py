"""Images that moved behind the app's back: File → Locate images… must find them again.

Regression: a project stores its images relative to the project folder, usually climbing out
of it (``../smears/a.jpg``); once the smear folder was moved or renamed, Locate images only
re-rooted those paths (``moved/../smears/a.jpg``) and found none, so a project whose images
went missing could not be repaired from the window. The same for image files opened one by
one (absolute paths). And a located project must be saved again, or the next open misses
the images once more: locating is an unsaved change.

Regression: an image that could not be read once (a network share that dropped for a moment,
a file renamed and renamed back) stayed "cannot be read" for the whole session: blank canvas,
Detect refused, until the technician reopened everything.

Regression: an image that cannot be read was offered for sign-off "as empty" (it has no cells):
a sign-off says a person looked at every cell, and no one can have looked at that image.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.gui.conftest import new_window

pytestmark = pytest.mark.gui


def cells(image):
    return sorted((i.id, i.class_name, i.reviewed) for i in image.instances)


def test_a_project_whose_images_folder_moved_is_repaired_by_locate_images_and_saved(
        window, review_current, qtbot, tmp_path, smears):
    review_current(window)
    before = {i.image_path.name: cells(i) for i in window.session.dataset.images}
    window.prompts.answers["project_folder"] = str(tmp_path / "project")
    assert window.files.save()
    window.close()
    moved = tmp_path / "archive" / "smears-2026-12"
    moved.parent.mkdir()
    shutil.move(smears, moved)  # the lab tidied its share

    again = new_window(qtbot, tmp_path)
    assert again.files.open([tmp_path / "project"])
    assert len(again.session.broken) == 4 and again.qimage is None
    assert again.files.locate_images(moved) == 3  # the corrupt broken.jpg stays unreadable
    assert sorted(again.session.broken) == [3]
    assert again.qimage is not None and not again.image_list.is_marked_broken(0)
    assert again.session.is_dirty() and again.windowTitle().endswith("[*]")
    assert again.files.save()
    again.close()

    third = new_window(qtbot, tmp_path)
    assert third.files.open([tmp_path / "project"])
    assert sorted(third.session.broken) == [3], "the project still points at the old folder"
    assert {i.image_path.name: cells(i) for i in third.session.dataset.images} == before
    assert third.qimage is not None


def test_image_files_opened_one_by_one_are_found_in_the_folder_they_moved_to(make_window, smears, tmp_path,
                                                                             detect_current):
    window = make_window()
    files = sorted(smears.glob("BloodImage_*.jpg"))[:2]
    assert window.files.open(files)
    detect_current(window)
    moved = tmp_path / "elsewhere"
    shutil.move(smears, moved)
    window.pictures.clear()
    window.session.set_current(1)
    assert 1 in window.session.broken
    assert window.files.locate_images(moved) == 2
    assert window.session.broken == {} and window.qimage is not None
    assert len(window.session.dataset.images[0].instances) == 3


def test_an_image_whose_file_comes_back_is_shown_and_detected_again(window, qtbot, smears, detect_current):
    path = smears / "BloodImage_00001.jpg"
    away = path.rename(smears / "renamed-by-someone.jpg")
    window.review.step_image(1)  # N
    assert 1 in window.session.broken and window.qimage is None
    assert window.image_list.is_marked_broken(1)
    away.rename(path)  # renamed back (or the share reconnected)
    window.review.step_image(-1)
    window.review.step_image(1)
    assert 1 not in window.session.broken and window.qimage is not None
    assert not window.image_list.is_marked_broken(1)
    detect_current(window)
    assert len(window.session.current_image.instances) == 3


def test_an_image_missing_when_the_project_opened_is_detected_and_exported_once_it_is_back(
        window, smears, tmp_path, qtbot):
    window.prompts.answers["project_folder"] = str(tmp_path / "project")
    assert window.files.save()
    window.close()
    late = smears / "BloodImage_00002.jpg"
    kept = late.rename(tmp_path / "on-a-share-that-dropped.jpg")
    again = new_window(qtbot, tmp_path)
    assert again.files.open([tmp_path / "project"])
    assert sorted(again.session.broken) == [2, 3]
    kept.rename(late)  # the share is back
    again.session.set_current(2)
    assert again.qimage is not None and sorted(again.session.broken) == [3]
    with qtbot.waitSignal(again.detectionFinished, timeout=10000):
        assert again.models.detect("all")
    assert len(again.session.dataset.images[2].instances) == 3
    exported = again.files.export("export_coco", tmp_path / "out.json")
    coco = json.loads(exported.read_text(encoding="utf-8"))
    names = {i["id"]: i["file_name"] for i in coco["images"]}
    assert sum(names[a["image_id"]].endswith("BloodImage_00002.jpg") for a in coco["annotations"]) == 3


def test_an_unreadable_image_cannot_be_signed_off_as_empty(window):
    window.prompts.answers["sign_off_empty"] = True  # the question must not even come
    window.session.set_current(3)  # broken.jpg
    assert not window.review.sign_off()
    assert not window.session.dataset.images[3].signed_off
    assert "cannot be read" in window.status_label.text()


def test_a_project_opened_without_an_images_annotation_file_says_so(make_window, tmp_path):
    """An image whose annotation file was deleted opens without its cells: the window must say so
    (it used to open silently, the cells gone without a word)."""
    import numpy as np
    from PIL import Image

    from bloodview.core.annotation import Dataset, ImageAnnotation
    from bloodview.core.instance import Instance, Source
    from bloodview.io.project import save_project

    smears = tmp_path / "smears"
    smears.mkdir()
    images = []
    for name in ("a.png", "b.png"):
        Image.new("RGB", (64, 48), "white").save(smears / name)
        square = np.array([[5, 5], [20, 5], [20, 20], [5, 20]], float)
        images.append(ImageAnnotation(smears / name, 64, 48, [Instance([square], "neutrophil", source=Source.HUMAN)]))
    save_project(Dataset(images), tmp_path / "proj")
    for file in (tmp_path / "proj" / "annotations").glob("a-*.json"):
        file.unlink()
    window = make_window()
    assert window.files.open([tmp_path / "proj"])
    assert [len(i) for i in window.session.dataset.images] == [0, 1]
    titles = [title for title, _ in window.prompts.messages]
    assert "Opened with warnings" in titles
    text = dict(window.prompts.messages)["Opened with warnings"]
    assert "a.png" in text and "missing" in text
