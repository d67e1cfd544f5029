"""Sign-off is a lock (issue 19): a signed-off image refuses every change until the sign-off is
withdrawn, says so over the canvas, and keeps who signed off and who withdrew it, and when."""

from __future__ import annotations

import json

import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtTest import QTest

from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.commands import ReplaceInstanceCommand

pytestmark = pytest.mark.gui

LEFT, NO_MOD = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def press(window, key, modifier=NO_MOD):
    QTest.keyClick(window.canvas, key, modifier)
    QTest.qWait(5)


def at(window, x: float, y: float) -> QPoint:
    return window.canvas.mapFromScene(QPointF(x, y))


def drag_vertex(window, cell) -> None:
    """Select ``cell`` and drag its first vertex 24 px right, 16 px down with the select tool."""
    port, vertex = window.canvas.viewport(), cell.polygons[0][0]
    window.select_cells([cell.id], center=False)
    QTest.mousePress(port, LEFT, NO_MOD, at(window, *vertex))
    for k in range(1, 5):
        QTest.mouseMove(port, at(window, *vertex) + QPoint(6 * k, 4 * k))
    QTest.mouseRelease(port, LEFT, NO_MOD, at(window, *vertex) + QPoint(24, 16))


def state(image):
    return [(i.id, i.class_name, i.reviewed, tuple(map(tuple, i.polygons[0]))) for i in image.instances]


@pytest.fixture
def signed(window, review_current, monkeypatch):
    """The first smear detected, every cell confirmed and signed off by "tech-a"."""
    monkeypatch.setenv("BLOODVIEW_USER", "tech-a")
    image = review_current(window)
    assert window.review.sign_off() and image.signed_off
    window.canvas.toast.hide()
    return window


def test_a_signed_off_image_refuses_class_keys_delete_outline_edits_draw_and_brush(signed):
    """Bug 1: after sign-off a class key changed the class with no warning, and deleting every cell
    left an image "signed off" at 0/0."""
    window, canvas = signed, signed.canvas
    image, stack = window.session.current_image, window.session.stack(0)
    before, steps = state(image), stack.count()
    cell = image.instances[0]

    window.select_cells([cell.id], center=False)
    press(window, Qt.Key.Key_4)  # immature granulocyte
    assert canvas.toast.isVisible() and "signed off by tech-a" in canvas.toast.text()
    assert "Withdraw the sign-off" in window.status_label.text()
    press(window, Qt.Key.Key_Delete)
    window.review.select_all()
    window.review.delete_selected()
    window.review.merge_overlaps()

    drag_vertex(window, cell)
    canvas.push(ReplaceInstanceCommand(image, cell.copy(polygons=[rectangle(0, 0, 9, 9)])))

    # drawing and painting are refused at the first click, before any outline is made
    canvas.toast.hide()
    port = canvas.viewport()
    window.set_tool("draw")
    QTest.mouseClick(port, LEFT, NO_MOD, at(window, 5, 5))
    assert canvas.tool("draw").points == [] and canvas.toast.isVisible()
    window.set_tool("brush")
    QTest.mouseClick(port, LEFT, NO_MOD, at(window, 20, 20))
    window.set_tool("select")

    menu = window.review.context_menu([cell.id])  # right click: the edits are greyed out
    edits = [a for a in menu.actions() if a.text().startswith(("Set &class", "C&onfirm", "&Delete"))]
    assert len(edits) == 3 and not any(a.isEnabled() for a in edits)
    assert menu.actions()[-1].text().startswith("Signed off — withdraw")

    assert state(image) == before and image.signed_off
    assert stack.count() == steps  # nothing was added to the history either
    assert "signed off" in window.queue.status.text() and "withdrawn" in window.queue.status.text()


def test_withdrawing_unlocks_is_recorded_with_who_and_when_and_is_undoable(signed, monkeypatch):
    window = signed
    image = window.session.current_image
    cell = image.instances[0]
    monkeypatch.setenv("BLOODVIEW_USER", "tech-b")
    press(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # withdraw
    assert not image.signed_off
    assert [(e.signed_off, e.by) for e in image.sign_off_history] == [(True, "tech-a"), (False, "tech-b")]
    assert image.sign_off_history[-1].at.endswith("+00:00")  # UTC
    assert "withdrawn by tech-b" in window.status_label.text()
    assert window.acts["undo"].text() == "&Undo" and window.session.stack(0).undoText() == "Withdraw sign-off"

    window.select_cells([cell.id], center=False)
    press(window, Qt.Key.Key_4)
    assert image.find(cell.id).class_name == "ig"  # unlocked
    drag_vertex(window, image.find(cell.id))  # the same drag the lock refused now moves the point
    assert image.find(cell.id).polygons[0][0][0] > cell.polygons[0][0][0] + 5

    window.acts["undo"].trigger()  # the vertex drag
    window.acts["undo"].trigger()  # the class change
    window.acts["undo"].trigger()  # the withdrawal: signed off again, by tech-a only
    assert image.signed_off and [e.by for e in image.sign_off_history] == ["tech-a"]
    press(window, Qt.Key.Key_4)
    assert image.find(cell.id).class_name != "ig"


def test_sign_off_record_survives_saving_and_old_projects_still_open(signed, tmp_path):
    window = signed
    window.prompts.answers["project_folder"] = str(tmp_path / "project")
    assert window.files.save()
    assert window.files.open([tmp_path / "project"])
    image = window.session.dataset.images[0]
    assert image.signed_off and [(e.signed_off, e.by) for e in image.sign_off_history] == [(True, "tech-a")]
    # a project written before the record existed: signed off, no history, still locked
    for file in (tmp_path / "project" / "annotations").glob("*.json"):
        record = json.loads(file.read_text())
        record.pop("sign_off_history", None)
        file.write_text(json.dumps(record))
    window.session.mark_saved()
    assert window.files.open([tmp_path / "project"])
    image = window.session.dataset.images[0]
    assert image.signed_off and image.sign_off_history == []
    window.select_cells([image.instances[0].id], center=False)
    press(window, Qt.Key.Key_4)
    assert image.instances[0].class_name != "ig" and "is signed off:" in window.canvas.toast.text()


def test_import_cannot_put_unreviewed_cells_into_a_signed_off_image(window, detect_current, tmp_path):
    """Bug 2: File → Import annotations with a COCO export put unchecked model cells into a
    signed-off image, which stayed signed off and counted as reviewed training data."""
    detect_current(window)
    exported = window.files.export("export_coco", tmp_path / "guesses.json")  # unchecked model cells
    image = window.session.current_image
    window.select_cells([image.instances[0].id], center=False)
    window.review.delete_selected()
    window.select_cells([i.id for i in image.instances], center=False)
    window.review.accept_and_next()
    assert window.review.sign_off()
    before = state(image)
    window.prompts.answers["open_paths"] = [str(exported)]
    window.files.import_annotations()
    assert state(image) == before and image.signed_off
    assert all(i.reviewed for i in image.instances)
    assert "1 signed-off image(s) left unchanged" in window.canvas.toast.text()


def test_detect_all_says_how_many_signed_off_images_it_skipped(signed, qtbot):
    window = signed
    with qtbot.waitSignal(window.detectionFinished, timeout=10000):
        assert window.models.detect("all")
    assert "1 signed-off image(s) skipped" in window.status_label.text()


def test_an_image_without_cells_asks_before_it_is_signed_off(window):
    """Bug: an image with 0 cells was signed off without a question."""
    image = window.session.current_image
    assert not image.instances
    assert not window.review.sign_off()  # the question's default is No
    assert not image.signed_off and "no cells" in window.status_label.text()
    window.prompts.answers["sign_off_empty"] = True
    assert window.review.sign_off() and image.signed_off


def overlapping_guesses(window):
    """One eosinophil found twice (IoU ~0.9, another class) and a separate lymphocyte."""
    from bloodview.gui.commands import SetInstancesCommand

    image = window.session.current_image
    eosinophil = Instance([rectangle(100, 100, 160, 160)], "eosinophil", 0.99, Source.MODEL)
    neutrophil = Instance([rectangle(102, 101, 161, 161)], "neutrophil", 0.66, Source.MODEL)
    lymphocyte = Instance([rectangle(300, 200, 340, 240)], "lymphocyte", 0.95, Source.MODEL)
    window.session.push(0, SetInstancesCommand(image, [eosinophil, neutrophil, lymphocyte]))
    QTest.qWait(5)
    return image, eosinophil, neutrophil, lymphocyte


def test_overlapping_cells_are_warned_about_listed_and_merged_before_sign_off(window):
    """Bug 3: one cell detected twice with two classes was confirmed and signed off with no warning
    and counted twice in the differential."""
    image, eosinophil, neutrophil, lymphocyte = overlapping_guesses(window)
    assert [(o.keep, o.drop) for _, o in window.queue.overlaps()] == [(eosinophil.id, (neutrophil.id,))]
    assert window.queue.table.item(0, 0).text() == "Overlap: Eosinophil / Neutrophil"
    window.select_cells([neutrophil.id], center=False)
    window.review.accept_and_next()
    assert "probably one cell found twice" in window.canvas.toast.text()
    window.review.select_all()
    window.review.accept_and_next()
    assert "cells overlap" in window.queue.status.text()

    window.prompts.answers["sign_off_overlaps"] = "Cancel"
    assert not window.review.sign_off() and not image.signed_off
    window.prompts.answers["sign_off_overlaps"] = "Merge, then sign off"
    assert window.review.sign_off() and image.signed_off
    assert [i.id for i in image.instances] == [eosinophil.id, lymphocyte.id]
    QTest.qWait(5)
    assert window.queue.overlaps() == []
    window.acts["undo"].trigger()  # the sign-off
    window.acts["undo"].trigger()  # the merge, in one step
    assert not image.signed_off and len(image.instances) == 3


def test_merge_keeps_the_cell_a_person_checked_over_a_higher_score(window):
    image, eosinophil, neutrophil, _ = overlapping_guesses(window)
    window.select_cells([neutrophil.id], center=False)
    window.review.accept_and_next()  # a person confirmed the neutrophil
    assert window.review.merge_overlaps() == 1
    assert image.find(neutrophil.id) is not None and image.find(eosinophil.id) is None
    assert window.session.stack(0).undoText() == "Merge 2 overlapping cells into 1"


def test_crash_recovery_restores_edits_made_after_withdrawing_a_saved_sign_off(signed, make_window, tmp_path,
                                                                              monkeypatch):
    """The lock must not stop crash recovery: the project says "signed off", the autosave holds
    the sign-off withdrawn and a cell re-classified; reopening restores both, by tech-a's record."""
    window = signed
    window.prompts.answers["project_folder"] = str(tmp_path / "project")
    assert window.files.save()
    image = window.session.current_image
    monkeypatch.setenv("BLOODVIEW_USER", "tech-b")
    window.review.sign_off()  # withdraw
    window.select_cells([image.instances[0].id], center=False)
    window.review.set_class("ig")
    edited = state(image)
    window.session.autosave(wait=True)
    monkeypatch.setenv("BLOODVIEW_USER", "tech-c")
    window.session.lock.release()  # a crashed bloodview's project lock is stale: taken over on reopening
    again = make_window()  # "crash": nothing saved; the project is opened again
    again.prompts.answers["recover"] = True
    assert again.files.open([tmp_path / "project"])
    restored = again.session.dataset.images[0]
    assert state(restored) == edited and not restored.signed_off
    assert [(e.signed_off, e.by) for e in restored.sign_off_history] == [(True, "tech-a"), (False, "tech-b")]


def test_crash_recovery_keeps_a_sign_off_made_after_the_last_save(signed, make_window, monkeypatch):
    signed.session.autosave(wait=True)
    monkeypatch.setenv("BLOODVIEW_USER", "tech-c")
    again = make_window()
    again.prompts.answers["recover"] = True
    assert again.files.open(signed.session.sources)
    restored = again.session.dataset.images[0]
    assert restored.signed_off and state(restored) == state(signed.session.dataset.images[0])
    assert [e.by for e in restored.sign_off_history] == ["tech-a"]


def test_detection_results_for_an_image_signed_off_while_detection_ran_are_dropped(signed, qtbot):
    """Detection over many images runs in a worker; an image signed off before its results arrive
    keeps its reviewed cells, and the summary counts it as skipped."""
    window = signed
    image = window.session.current_image
    before = state(image)
    guess = Instance([rectangle(10, 10, 50, 50)], "monocyte", 0.7, Source.MODEL)
    window.models._summary = [0, 0, 0, 0]
    window.models._image_done(0, [guess])  # the worker's result for image 0 arrives
    window.models._finished(False)
    assert state(image) == before and image.signed_off
    assert "1 signed-off image(s) skipped" in window.status_label.text()


def test_the_sign_off_message_goes_when_the_next_image_is_shown(signed):
    """Bug: after N the status bar still said "… signed off by tech-a" over the next image."""
    window = signed
    assert "signed off by tech-a" in window.status_label.text()
    QTest.keyClick(window.canvas, Qt.Key.Key_N)
    assert window.session.current_index == 1
    assert "signed off" not in window.status_label.text()
    window.session.autosaveFailed.emit("Autosave failed: disk full")  # not about an image: it stays
    QTest.keyClick(window.canvas, Qt.Key.Key_P)
    assert window.status_label.text() == "Autosave failed: disk full"
