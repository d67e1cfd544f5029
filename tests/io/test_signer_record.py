"""The sign-off record keeps the name the person gave *and* the computer's login, in the project
file and in every format with a ``bloodview`` image record; records written before the login was
kept still open, and are written back as they were."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation, SignOffEvent
from bloodview.core.classes import ClassCatalogue
from bloodview.io.coco import load_coco, save_coco
from bloodview.io.labelme import load_labelme, save_labelme
from bloodview.io.makesense import load_via, save_via
from bloodview.io.project import load_project, save_project

SHIFT = [SignOffEvent(True, "A. Smith", "2026-12-07T08:00:00+00:00", "labuser"),
         SignOffEvent(False, "Ayşe Çelik", "2026-12-07T14:00:00+00:00", "labuser"),
         SignOffEvent(True, "ana", "2026-11-30T09:00:00+00:00")]  # written before the login was kept


@pytest.fixture
def signed(tmp_path) -> Dataset:
    folder = tmp_path / "smears"
    folder.mkdir()
    Image.new("RGB", (120, 90), "white").save(folder / "a.png")
    image = ImageAnnotation("a.png", 120, 90, signed_off=True, sign_off_history=list(SHIFT))
    return Dataset([image], ClassCatalogue.pbc(), folder)


def test_the_project_file_keeps_name_and_login(signed, tmp_path):
    save_project(signed, tmp_path / "project")
    record = json.loads(next((tmp_path / "project" / "annotations").glob("*.json")).read_text())
    assert record["sign_off_history"][0] == {"signed_off": True, "by": "A. Smith",
                                             "at": "2026-12-07T08:00:00+00:00", "login": "labuser"}
    assert "login" not in record["sign_off_history"][2]  # an old record is written back as it was
    back = load_project(tmp_path / "project").dataset.images[0]
    assert back.sign_off_history == SHIFT
    assert [e.who for e in back.sign_off_history] == ["A. Smith (login labuser)", "Ayşe Çelik (login labuser)", "ana"]


def test_an_old_project_without_logins_opens_unchanged(signed, tmp_path):
    signed.images[0].sign_off_history = SHIFT[2:]
    save_project(signed, tmp_path / "project")
    file = next((tmp_path / "project" / "annotations").glob("*.json"))
    before = file.read_bytes()
    back = load_project(tmp_path / "project").dataset.images[0]
    assert back.signed_off and back.last_sign_off == SignOffEvent(True, "ana", "2026-11-30T09:00:00+00:00", "")
    save_project(load_project(tmp_path / "project").dataset, tmp_path / "project")
    assert next((tmp_path / "project" / "annotations").glob("*.json")).read_bytes() == before


@pytest.mark.parametrize("fmt", ["coco", "via", "labelme"])
def test_exports_with_a_bloodview_record_keep_name_and_login(signed, tmp_path, fmt):
    """COCO is also the autosave/recovery file: a recovered sign-off keeps its login."""
    if fmt == "coco":
        save_coco(signed, tmp_path / "smears" / "out.json")
        back = load_coco(tmp_path / "smears" / "out.json")
    elif fmt == "via":
        save_via(signed, tmp_path / "out.json")
        back = load_via(tmp_path / "out.json", images_root=tmp_path / "smears")
    else:
        save_labelme(signed, tmp_path / "labelme")
        back = load_labelme(tmp_path / "labelme", images_root=tmp_path / "smears")
    assert back.images[0].sign_off_history == SHIFT


def test_a_login_that_is_not_text_is_read_as_text_and_a_missing_one_as_empty():
    assert SignOffEvent.from_dict({"signed_off": True, "by": "x", "at": "t", "login": 1001}).login == "1001"
    assert SignOffEvent.from_dict({"signed_off": True, "by": "x", "at": "t", "login": None}).login == ""
    assert SignOffEvent(True, "labuser", "t", "labuser").who == "labuser"
