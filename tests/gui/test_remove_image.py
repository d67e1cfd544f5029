"""Remove image from project (bloodview.gui.image_removal).

Bug: a folder holding one unreadable file (or a blank or duplicate picture) kept the
whole-project report a DRAFT for ever: no image could be taken out of the open set.
"""

from __future__ import annotations

import json

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QMenu

from tests.gui.conftest import new_window


def names(window) -> list[str]:
    return [i.image_path.name for i in window.session.dataset.images]


def report(window, path) -> str:
    window.differential.scope.setCurrentIndex(1)  # the whole project
    return window.files.export_report(path).read_text(encoding="utf-8")


def press_del_in_image_list(window, qtbot, row: int) -> None:
    image_list = window.image_list.list
    image_list.setFocus()
    image_list.setCurrentRow(row)
    qtbot.keyClick(image_list, Qt.Key.Key_Delete)


@pytest.fixture
def signed_off_smears(window, review_current, monkeypatch):
    """Every readable field reviewed and signed off; broken.jpg cannot be."""
    monkeypatch.setenv("BLOODVIEW_USER", "tech-a")
    for index, name in enumerate(names(window)):
        if name != "broken.jpg":
            window.session.set_current(index)
            review_current(window)
            assert window.review.sign_off()
    window.canvas.toast.hide()
    return window


def test_removing_the_unreadable_image_lets_the_report_be_final_and_undo_brings_it_back(
        signed_off_smears, qtbot, smears, tmp_path):
    window = signed_off_smears
    assert "<h1>DRAFT" in report(window, tmp_path / "before.html")
    broken = names(window).index("broken.jpg")
    window.session.set_current(broken)

    press_del_in_image_list(window, qtbot, broken)
    qtbot.wait(5)
    assert "broken.jpg" not in names(window) and len(names(window)) == 3
    assert (smears / "broken.jpg").read_bytes() == b"this is not a jpeg at all"  # the file is never touched
    assert window.image_list.list.count() == 3 and "3 images · 3 signed off" == window.image_list.summary.text()
    assert "broken.jpg" not in window.windowTitle()
    assert "Removed broken.jpg from the project" in window.status_label.text()
    assert window.session.is_dirty()
    text = report(window, tmp_path / "after.html")
    assert "DRAFT" not in text and "Final: all 3 image(s) signed off" in text

    window.acts["undo"].trigger()  # Ctrl+Z on the image shown in its place
    qtbot.wait(5)
    assert names(window)[broken] == "broken.jpg" and window.image_list.list.count() == 4
    assert window.image_list.is_marked_broken(broken)  # still known to be unreadable
    assert "<h1>DRAFT" in report(window, tmp_path / "undone.html")
    window.acts["redo"].trigger()
    assert "broken.jpg" not in names(window)


def test_a_signed_off_image_and_the_last_image_are_refused(signed_off_smears, qtbot):
    window = signed_off_smears
    signed = names(window).index(next(n for n in names(window) if n != "broken.jpg"))
    window.session.set_current(signed)
    press_del_in_image_list(window, qtbot, signed)
    assert len(names(window)) == 4
    text = window.status_label.text()
    assert "is signed off by tech-a" in text and "withdraw the sign-off" in text  # "(login NAME)" too

    assert not window.removal.remove(list(range(4)))
    assert len(names(window)) == 4 and "at least one image" in window.status_label.text()


def test_edits_of_the_other_images_survive_removal_and_its_undo(window, detect_current, qtbot):
    """Undo stacks follow their image to its new index: Ctrl+Z after removal and its undo still
    undoes that image's own edits."""
    detect_current(window)
    first = window.session.current_image
    cells = list(first.instances)
    window.session.set_current(1)
    window.image_list.list.setCurrentRow(1)
    assert window.removal.remove_selected()
    window.acts["undo"].trigger()  # the removal (on the stack of the image shown next)
    window.session.set_current(0)
    assert window.session.current_image is first and first.instances == cells
    window.acts["undo"].trigger()  # the detection
    assert first.instances == []


def test_the_image_list_context_menu_and_edit_menu_offer_it(window):
    action = window.acts["remove_image"]
    window.removal.show_context_menu(window.image_list.list.rect().center())
    menus = window.image_list.list.findChildren(QMenu)
    assert any(action in menu.actions() for menu in menus)
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert action in edit.actions() and action.isEnabled()
    for menu in menus:
        menu.close()


def test_save_and_autosave_leave_the_removed_image_out_and_a_restart_restores_the_removal(
        window, qtbot, tmp_path, smears):
    removed = names(window)[1]
    window.session.set_current(1)
    window.image_list.list.setCurrentRow(1)
    assert window.removal.remove_selected()
    meta_file = window.session.recovery_file.with_name(
        window.session.recovery_file.name.replace(".coco.json", ".meta.json"))
    qtbot.waitUntil(meta_file.is_file)  # the removal autosaves at once
    window.session._writer.wait()
    meta = json.loads(meta_file.read_text())
    assert [p.endswith(removed) for p in meta["removed"]] == [True]

    # the program dies here; a new one opens the same folder and restores the autosave
    again = new_window(qtbot, tmp_path)
    again.prompts.answers["recover"] = True
    assert again.files.open([smears])
    assert removed not in names(again) and len(names(again)) == 3
    again.acts["undo"].trigger()  # the restored removal is itself undoable
    assert removed in names(again)
    again.acts["redo"].trigger()

    window.prompts.answers["project_folder"] = str(tmp_path / "project")
    assert window.files.save()
    saved = json.loads((tmp_path / "project" / "project.json").read_text())
    assert [e["path"].endswith(removed) for e in saved["images"]].count(True) == 0
    assert len(saved["images"]) == 3 and (smears / removed).is_file()


def test_a_detection_running_while_an_image_is_removed_puts_each_result_on_its_own_image(window, qtbot):
    """Detection results come by the index an image had when the run started."""
    first, second = window.session.dataset.images[:2]
    with qtbot.waitSignal(window.detectionFinished, timeout=10000):
        assert window.models.detect("all")
        assert window.removal.remove([0])  # before any result reached the window
    assert all(image is not first for image in window.session.dataset.images) and first.instances == []
    assert len(second.instances) == 3 and window.session.dataset.images[0] is second
    window.acts["undo"].trigger()  # the detection, on top of the removal on the image shown now
    window.acts["undo"].trigger()  # the removal
    assert window.session.dataset.images[0] is first and first.instances == []
