"""The project folder: project.json + one annotation file per image, atomic with backups."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.errors import ProjectError
from bloodview.io.project import SCHEMA_VERSION, load_project, save_image, save_project


@pytest.fixture
def lab(tmp_path):
    """Images kept beside (not inside) the project folder, as labs do."""
    (tmp_path / "smears").mkdir()
    for name in ("a.jpg", "b.jpg"):
        Image.new("RGB", (64, 48)).save(tmp_path / "smears" / name)
    classes = ClassCatalogue.pbc()
    classes.add("rbc")
    cell = Instance([rectangle(1, 1, 9, 9), np.array([[20, 20], [30, 22.5], [25, 30]])], "rbc", score=0.8,
                    source=Source.MODEL, quality=0.4, origin="resnet50 v2", extra={"note": "x"})
    images = [
        ImageAnnotation("a.jpg", 64, 48, [cell, Instance(rectangle(2, 2, 8, 8), "ig", reviewed=True, corrected=True)],
                        split="train", signed_off=True),
        ImageAnnotation("b.jpg", 64, 48, image_label="neutrophil"),
    ]
    return tmp_path, Dataset(images, classes, tmp_path / "smears")


def test_round_trip_with_images_outside_the_project(lab):
    tmp_path, dataset = lab
    save_project(dataset, tmp_path / "proj", settings={"backbone": "resnet50"})
    data = json.loads((tmp_path / "proj" / "project.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert [e["path"] for e in data["images"]] == ["../smears/a.jpg", "../smears/b.jpg"]
    assert all(e["annotation"].startswith("annotations/a-") or e["annotation"].startswith("annotations/b-")
               for e in data["images"])
    assert not list((tmp_path / "proj").glob("*.jpg"))  # images are never copied
    project = load_project(tmp_path / "proj")
    assert project.settings == {"backbone": "resnet50"}
    assert project.dataset.classes == dataset.classes
    loaded = project.dataset
    assert loaded.resolve_image(loaded.images[0]).resolve() == (tmp_path / "smears" / "a.jpg").resolve()
    for before, after in zip(dataset, loaded):
        assert (after.split, after.image_label, after.signed_off) == (before.split, before.image_label, before.signed_off)
        for x, y in zip(before, after):
            assert x.same_as(y) and (x.id, x.quality, x.origin, x.extra) == (y.id, y.quality, y.origin, y.extra)


def test_saving_one_edited_image_keeps_the_previous_save_and_other_files(lab):
    tmp_path, dataset = lab
    project = save_project(dataset, tmp_path / "proj")
    files = sorted((tmp_path / "proj" / "annotations").glob("*.json"))
    other = files[1].read_text()
    dataset.images[0].instances.pop()
    written = save_image(project, dataset.images[0])
    assert written.parent == files[0].parent and written != files[0]  # a new file; the old one stays
    assert len(json.loads(written.read_text())["instances"]) == 1
    assert len(json.loads(files[0].read_text())["instances"]) == 2  # named by project.json.bak
    assert files[1].read_text() == other
    assert len(load_project(tmp_path / "proj").dataset.images[0]) == 1
    (tmp_path / "proj" / "project.json.bak").replace(tmp_path / "proj" / "project.json")
    assert len(load_project(tmp_path / "proj").dataset.images[0]) == 2  # going back one save works


def test_project_written_with_one_fixed_file_per_image_opens_and_saves(lab):
    """Projects saved before content-named files (``annotations/<stem>-<path hash>.json``, rewritten
    in place) still open; the first save moves them to content names, keeping the old save."""
    from bloodview.io.atomic import atomic_write_json
    from bloodview.io.project import annotation_file_name, image_record

    tmp_path, dataset = lab
    folder = tmp_path / "proj"
    (folder / "annotations").mkdir(parents=True)
    entries = []
    for image in dataset.images:
        relative = Path("..") / "smears" / image.image_path
        atomic_write_json(folder / annotation_file_name(relative), image_record(image, relative))
        entries.append({"path": relative.as_posix(), "annotation": annotation_file_name(relative)})
    old_files = {f"annotations/{p.name}" for p in (folder / "annotations").iterdir()}
    atomic_write_json(folder / "project.json", {"schema_version": 1, "classes": dataset.classes.to_list(),
                                                "images": entries, "settings": {}})
    loaded = load_project(folder).dataset
    assert [len(i) for i in loaded.images] == [2, 0]
    save_project(loaded, folder)
    names = {e["annotation"] for e in json.loads((folder / "project.json").read_text())["images"]}
    assert not names & old_files
    assert old_files <= {f"annotations/{p.name}" for p in (folder / "annotations").iterdir()}
    assert [len(i) for i in load_project(folder).dataset.images] == [2, 0]


def _saved_then_edited(lab, edit):
    """Save the project, change project.json by hand with ``edit(data)``; return the folder."""
    tmp_path, dataset = lab
    save_project(dataset, tmp_path / "proj")
    data = json.loads((tmp_path / "proj" / "project.json").read_text())
    edit(data)
    (tmp_path / "proj" / "project.json").write_text(json.dumps(data))
    return tmp_path / "proj"


def test_newer_schema_is_refused(lab):
    folder = _saved_then_edited(lab, lambda d: d.update(schema_version=SCHEMA_VERSION + 1))
    with pytest.raises(ProjectError, match=r"project.json: was written by a newer bloodview .*update bloodview"):
        load_project(folder)


def test_damaged_files_name_the_backup(lab):
    tmp_path, dataset = lab
    save_project(dataset, tmp_path / "proj")
    dataset.images[0].instances.pop()
    save_project(dataset, tmp_path / "proj")  # the first save is now in project.json.bak
    annotation = json.loads((tmp_path / "proj" / "project.json").read_text())["images"][0]["annotation"]
    annotation = tmp_path / "proj" / annotation
    annotation.write_text(annotation.read_text()[:50])
    with pytest.raises(ProjectError, match=r"a-.*\.json: is not valid JSON.*previous save is project.json.bak"):
        load_project(tmp_path / "proj")
    with pytest.raises(ProjectError, match="not a bloodview project"):
        load_project(tmp_path / "smears")


def test_annotation_path_may_not_escape(lab):
    folder = _saved_then_edited(lab, lambda d: d["images"][0].update(annotation="../../elsewhere.json"))
    with pytest.raises(ProjectError, match="points outside the data folder"):
        load_project(folder)


def test_a_class_missing_from_the_class_list_is_added_not_a_lock_out(lab):
    # regression: "unknown cell class 'rbc'" refused the whole project, so none of its work opened
    folder = _saved_then_edited(lab, lambda d: d.update(classes=[c for c in d["classes"] if c["name"] != "rbc"]))
    project = load_project(folder)
    assert "rbc" in project.dataset.classes
    assert [i.class_name for i in project.dataset.images[0].instances] == ["rbc", "ig"]
    assert len(project.warnings) == 1 and "'rbc' was missing from the project's class list" in project.warnings[0]
    save_project(project.dataset, folder)  # kept from now on
    again = load_project(folder)
    assert "rbc" in [c["name"] for c in json.loads((folder / "project.json").read_text())["classes"]]
    assert again.warnings == []


def test_a_deleted_annotation_file_opens_the_image_empty_with_a_warning(lab, caplog):
    # regression: the image's cells vanished without a word
    tmp_path, dataset = lab
    save_project(dataset, tmp_path / "proj")
    save_project(dataset, tmp_path / "proj")  # a previous save to point at
    for file in (tmp_path / "proj" / "annotations").glob("a-*.json"):
        file.unlink()
    project = load_project(tmp_path / "proj")
    image = project.dataset.images[0]
    assert (image.width, image.height, len(image)) == (64, 48, 0)
    assert len(project.warnings) == 1
    assert "annotations/a-" in project.warnings[0] and "of ../smears/a.jpg is missing" in project.warnings[0]
    assert "project.json.bak" in project.warnings[0]
    assert project.warnings[0] in caplog.text  # logged as well (CLI, log file)


def test_an_entry_naming_no_annotation_file_opens_empty_without_a_warning(lab):
    folder = _saved_then_edited(lab, lambda d: [e.pop("annotation") for e in d["images"]])
    for file in (folder / "annotations").glob("*.json"):
        file.unlink()
    project = load_project(folder)
    assert [len(i) for i in project.dataset.images] == [0, 0] and project.warnings == []


@pytest.mark.parametrize("damage", [
    lambda text: text[:40],  # cut short: not JSON
    lambda text: "[]",  # JSON, but not a project
    lambda text: text.replace('"schema_version": 1', '"schema_version": "one"'),
    lambda text: text.replace('"images": [', '"images": {"x": [').replace('"settings"', '"x": 1}, "settings"', 1),
])
def test_a_malformed_project_json_names_the_backup_and_how_to_use_it(lab, damage):
    tmp_path, dataset = lab
    save_project(dataset, tmp_path / "proj")
    save_project(dataset, tmp_path / "proj")  # the first save is now project.json.bak
    project_file = tmp_path / "proj" / "project.json"
    project_file.write_text(damage(project_file.read_text()))
    with pytest.raises(ProjectError, match=r"project.json: .*rename project.json.bak to project.json"):
        load_project(tmp_path / "proj")
    project_file.unlink()
    (tmp_path / "proj" / "project.json.bak").rename(project_file)  # what the message says to do
    assert [len(i) for i in load_project(tmp_path / "proj").dataset.images] == [2, 0]


def test_a_malformed_project_json_without_a_backup_says_nothing_of_one(lab):
    tmp_path, dataset = lab
    save_project(dataset, tmp_path / "proj")
    (tmp_path / "proj" / "project.json").write_text("{")
    with pytest.raises(ProjectError, match="not valid JSON") as error:
        load_project(tmp_path / "proj")
    assert ".bak" not in str(error.value)


def test_saving_into_a_folder_with_the_labs_own_annotations_folder_deletes_none_of_its_files(lab):
    """Regression: ``bloodview convert slides/annotations slides --to project`` deleted the LabelMe
    files in slides/annotations (the cleanup of older saves took every unnamed .json there)."""
    tmp_path, dataset = lab
    theirs = tmp_path / "proj" / "annotations"
    theirs.mkdir(parents=True)
    labelme = {"version": "5.2.1", "shapes": [], "imagePath": "../smears/a.jpg", "imageHeight": 48, "imageWidth": 64}
    for name in ("a.json", "slide-20260101.json", "notes.json.bak"):
        (theirs / name).write_text(json.dumps(labelme))
    (theirs / "b-12345678.json").write_text("{not json")
    for _ in range(3):  # three saves: the first save's files are older than the .bak and go
        dataset.images[0].instances.pop() if dataset.images[0].instances else None
        save_project(dataset, tmp_path / "proj")
    names = sorted(p.name for p in theirs.iterdir())
    assert {"a.json", "slide-20260101.json", "notes.json.bak", "b-12345678.json"} <= set(names)
    ours = [n for n in names if n.startswith(("a-", "b-")) and n != "b-12345678.json"]
    referenced = json.loads((tmp_path / "proj" / "project.json").read_text())["images"]
    backed_up = json.loads((tmp_path / "proj" / "project.json.bak").read_text())["images"]
    assert sorted(ours) == sorted({e["annotation"].split("/")[1] for e in referenced + backed_up})
