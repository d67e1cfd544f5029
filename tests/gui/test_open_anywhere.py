"""Annotation files open from anywhere: File → Open asks where the images are when they are not
beside the file and remembers the answer; file dialogs start in the last folder; status-bar
messages do not outlive the edit they describe."""

from __future__ import annotations

import shutil

import pytest
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtTest import QTest

from tests.gui.conftest import new_window

pytestmark = pytest.mark.gui


def classes(image):
    return sorted(i.class_name for i in image.instances)


@pytest.fixture
def asked(window, monkeypatch):
    """Records every images-folder question (file name, question) the window asks."""
    questions = []
    real = window.prompts.folder

    def folder(parent, key, title, start):
        if key == "images_folder":
            questions.append(title)
        return real(parent, key, title, start)

    monkeypatch.setattr(window.prompts, "folder", folder)
    return questions


def _export_elsewhere(window, detect_current, tmp_path, action, name):
    detect_current(window)
    expected = classes(window.session.current_image)
    mail = tmp_path / "mail"
    mail.mkdir(exist_ok=True)
    written = window.files.export(action, mail / name)
    assert written is not None, window.prompts.messages
    window.session.mark_saved()
    return written, expected


def test_via_file_away_from_its_images_asks_for_them_and_remembers(window, detect_current, asked,
                                                                   tmp_path, qtbot):
    smears = window.session.sources[0]
    via, expected = _export_elsewhere(window, detect_current, tmp_path, "export_makesense_vgg", "vgg.json")
    window.prompts.answers["images_folder"] = str(smears)
    window.prompts.answers["recover"] = False
    assert window.files.open([via])
    assert len(asked) == 1 and "vgg.json" in asked[0] and "Where are the images" in asked[0]
    assert classes(window.session.dataset.images[0]) == expected
    assert not window.session.broken and window.qimage is not None

    # next start: the same file opens without a question (the folder was remembered)
    again = new_window(qtbot, tmp_path)
    again.prompts.answers["recover"] = False
    assert again.files.open([via]), again.prompts.messages
    assert again.files.remembered_images_folder(via) == smears
    assert classes(again.session.dataset.images[0]) == expected and again.qimage is not None


def test_via_file_without_its_images_and_no_folder_given_says_why_and_keeps_what_is_open(
        window, detect_current, asked, tmp_path):
    via, _ = _export_elsewhere(window, detect_current, tmp_path, "export_makesense_vgg", "vgg.json")
    before = window.session.dataset
    window.prompts.answers["images_folder"] = ""  # the user cancels the folder dialog
    assert not window.files.open([via])
    title, text = window.prompts.messages[-1]
    assert title == "Cannot open" and "needs its images" in text
    assert window.session.dataset is before and len(asked) == 1


def test_coco_file_away_from_its_images_opens_with_the_folder_given(window, detect_current, asked,
                                                                    tmp_path):
    smears = window.session.sources[0]
    coco, expected = _export_elsewhere(window, detect_current, tmp_path, "export_coco", "coco.json")
    window.prompts.answers["images_folder"] = str(smears)
    assert window.files.open([coco])
    assert len(asked) == 1 and not window.session.broken
    assert classes(window.session.dataset.images[0]) == expected


def test_labelme_file_mailed_away_from_its_images_finds_them_in_the_folder_given(window, detect_current,
                                                                                 asked, tmp_path):
    smears = window.session.sources[0]
    detect_current(window)
    expected = classes(window.session.current_image)
    out = window.files.export("export_labelme", tmp_path / "labelme")
    first = sorted(out.rglob("*.json"))[0]
    mailed = tmp_path / "mail" / "from-the-lab" / first.name  # its ../smears/… path leads nowhere
    mailed.parent.mkdir(parents=True)
    shutil.copy(first, mailed)
    window.session.mark_saved()
    window.prompts.answers["images_folder"] = str(smears)
    assert window.files.open([mailed])
    assert len(asked) == 1 and not window.session.broken and window.qimage is not None
    assert classes(window.session.dataset.images[0]) == expected


def test_images_beside_the_file_are_not_asked_for(window, detect_current, asked):
    smears = window.session.sources[0]
    detect_current(window)
    via = window.files.export("export_makesense_vgg", smears / "vgg.json")
    window.session.mark_saved()
    assert window.files.open([via])
    assert asked == [] and not window.session.broken


def test_located_images_are_remembered_for_the_annotation_file(window, detect_current, tmp_path):
    smears = window.session.sources[0]
    coco, _ = _export_elsewhere(window, detect_current, tmp_path, "export_coco", "coco.json")
    assert window.files.open([coco])  # not asked in this window: opens with the images missing
    assert len(window.session.broken) == 3
    assert window.files.locate_images(smears) == 3
    window.session.mark_saved()
    assert window.files.open([coco])
    assert not window.session.broken  # the located folder was remembered for coco.json


def test_export_and_import_dialogs_start_in_the_folder_used_last(window, detect_current, tmp_path,
                                                                 monkeypatch, qtbot):
    from PyQt6.QtWidgets import QFileDialog

    detect_current(window)
    starts = []
    target = tmp_path / "exports" / "mine.json"
    target.parent.mkdir()

    def save_name(parent, title, start, filters):
        starts.append(start)
        return str(target), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_name))
    window.prompts.non_interactive = False
    assert window.files.export("export_coco") == target
    assert window.files.export("export_coco") == target
    assert starts[0].endswith("annotations-coco.json") and not starts[0].startswith(str(target.parent))
    assert starts[1] == str(target.parent / "annotations-coco.json")

    # and after a restart (the folder is kept in the settings)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert settings.value("last_folder/export_coco") == str(target.parent)

    opened = []
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        staticmethod(lambda parent, title, start, filters: (opened.append(start) or
                                                                            ([str(target)], filters))))
    window.prompts.answers["images_folder"] = ""
    window.files.import_annotations()
    window.files.import_annotations()
    assert opened[0] == "" and opened[1] == str(target.parent)
    window.prompts.non_interactive = True


def test_status_message_about_a_cell_clears_after_delete_and_undo(window, detect_current):
    detect_current(window)
    image = window.session.current_image
    window.canvas.setFocus()
    window.select_cells([image.instances[0].id], center=False)
    described = window.status_label.text()
    assert "Neutrophil" in described  # the selected cell is described
    QTest.keyClick(window.canvas, Qt.Key.Key_Delete)
    assert len(image.instances) == 2
    assert window.status_label.text() != described  # not about a cell that is gone
    window.acts["undo"].trigger()
    assert len(image.instances) == 3
    assert window.status_label.text().startswith("Undone: ")
    window.acts["redo"].trigger()
    assert window.status_label.text().startswith("Redone: ")


def test_an_autosave_failure_shown_on_changing_image_is_not_cleared_by_the_switch(window, detect_current, qtbot):
    import shutil as _shutil

    detect_current(window)  # an unsaved change: the switch autosaves
    recovery = window.session.recovery_dir
    _shutil.rmtree(recovery, ignore_errors=True)
    recovery.write_text("a file where the recovery folder should be")
    try:
        window.session.set_current(1)
        qtbot.waitUntil(lambda: window.status_label.text().startswith("Autosave failed"), timeout=5000)
    finally:
        recovery.unlink()
        recovery.mkdir()
