"""The smaller review bugs of issue 19, each on the real window (offscreen)."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

pytestmark = pytest.mark.gui


def press(window, key, modifier=Qt.KeyboardModifier.NoModifier):
    QTest.keyClick(window.canvas, key, modifier)
    QTest.qWait(5)


def test_changing_the_unidentified_threshold_is_an_unsaved_change_kept_on_reopen(window, tmp_path):
    """Bug: the threshold change did not mark the project unsaved, so it was lost on reopen."""
    window.prompts.answers["project_folder"] = str(tmp_path / "project")
    assert window.files.save() and not window.session.is_dirty()
    window.queue.threshold.setValue(0.4)
    assert window.session.is_dirty() and window.isWindowModified()
    assert window.files.save()
    window.queue.threshold.setValue(0.9)  # changed again, then reopened without saving
    window.prompts.answers["unsaved"] = "Discard"
    assert window.files.open([tmp_path / "project"])
    assert window.threshold == pytest.approx(0.4) and window.queue.threshold.value() == pytest.approx(0.4)
    assert not window.session.is_dirty()  # opening sets the saved value: no change of its own


def test_a_corrected_cell_shows_the_old_class_score_as_the_old_class_not_the_new_one(window, detect_current):
    """Bug: relabelling a "Platelet 0.85" gave "Neutrophil 0.85 ✓", a score the model never gave."""
    detect_current(window)
    image = window.session.current_image
    platelet = next(i for i in image.instances if i.class_name == "platelet")
    window.select_cells([platelet.id], center=False)
    press(window, Qt.Key.Key_7)  # neutrophil
    label = window.canvas.instance_item(platelet.id).label_text()
    assert label == "Neutrophil \u2713 (was Platelet 0.85)"
    row = window.instances._ids.index(platelet.id)
    assert window.instances.item(row, 0).text() == "Neutrophil"
    assert window.instances.item(row, 1).text() == "(was Platelet 0.85)"
    assert "score 0.85 as Platelet; corrected by a person" in window.instances.item(row, 1).toolTip()
    gallery = window.gallery.list
    thumb = next(gallery.item(r) for r in range(gallery.count())
                 if gallery.item(r).data(Qt.ItemDataRole.UserRole) == platelet.id)
    assert thumb.text() == "Neutrophil" and "(was Platelet 0.85)" in thumb.toolTip()
    press(window, Qt.Key.Key_8)  # back to platelet: the model's score is right again
    assert window.canvas.instance_item(platelet.id).label_text() == "Platelet 0.85 \u2713"


def test_a_cells_own_class_key_adds_no_undo_step_and_undo_text_uses_the_display_name(window, detect_current):
    """Bug: pressing a cell's own class key added "Change 0 cells to ig" to the history."""
    detect_current(window)
    image = window.session.current_image
    neutrophil = next(i for i in image.instances if i.class_name == "neutrophil")
    stack = window.session.stack(0)
    steps = stack.count()
    window.select_cells([neutrophil.id], center=False)
    press(window, Qt.Key.Key_7)  # its own class
    assert stack.count() == steps and "already Neutrophil" in window.status_label.text()
    press(window, Qt.Key.Key_4)
    assert stack.count() == steps + 1 and stack.undoText() == "Change 1 cell to Immature granulocyte"
    assert window.undo_view.model().index(steps + 1, 0).data() == "Change 1 cell to Immature granulocyte"


def test_with_nothing_open_undo_redo_and_sign_off_are_disabled(make_window):
    window = make_window()
    QTest.qWait(5)
    for name in ("undo", "redo", "sign_off", "merge_overlaps"):
        assert not window.acts[name].isEnabled(), name
    assert not window.queue.sign_off.isEnabled()
    window.queue.threshold.setValue(0.5)
    assert not window.session.is_dirty()  # nothing to save: quitting asks nothing


def test_the_recovery_folder_is_bloodview_recovery_in_the_platform_data_folder(qapp, tmp_path, monkeypatch):
    """Bug: it was ~/.local/share/bloodview/bloodview/recovery, not where docs/gui.md says."""
    from bloodview.gui.session import default_recovery_dir

    monkeypatch.delenv("BLOODVIEW_RECOVERY_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    names = qapp.organizationName(), qapp.applicationName()
    qapp.setOrganizationName("bloodview")  # as bloodview.gui.app sets them
    qapp.setApplicationName("bloodview")
    try:
        assert default_recovery_dir() == tmp_path / "data" / "bloodview" / "recovery"
    finally:
        qapp.setOrganizationName(names[0])
        qapp.setApplicationName(names[1])
    monkeypatch.setenv("BLOODVIEW_RECOVERY_DIR", str(tmp_path / "elsewhere"))
    assert default_recovery_dir() == tmp_path / "elsewhere"


def test_a_was_note_in_the_score_column_leaves_the_class_readable_in_a_narrow_cells_panel(window, detect_current):
    """Bug: "(was Neutrophil 0.95)" widened the Score column and the stretched Class column was
    squeezed to "…" in a narrow Cells panel. The note no longer takes the class's width (it may be
    elided in the table: the canvas label and the row's tooltip carry it whole)."""
    detect_current(window)
    window.docks["instances"].raise_()
    window.resizeDocks([window.docks["instances"]], [300], Qt.Orientation.Horizontal)
    QTest.qWait(20)
    table = window.instances
    header = table.horizontalHeader()
    before = header.sectionSize(0)
    image = window.session.current_image
    neutrophil = next(i for i in image.instances if i.class_name == "neutrophil")
    window.select_cells([neutrophil.id], center=False)
    press(window, Qt.Key.Key_4)  # Immature granulocyte: a long name
    QTest.qWait(20)
    row = table._ids.index(neutrophil.id)
    assert table.item(row, 0).text() == "Immature granulocyte"
    assert table.item(row, 1).text() == "(was Neutrophil 0.95)"
    assert "Neutrophil" in table.item(row, 1).toolTip()
    # the note took ~140 px from the class before; "corrected" in the Checked column may take a few
    assert header.sectionSize(0) >= before - 10
    assert header.sectionSize(0) > table.fontMetrics().horizontalAdvance("Immature gr")
    assert table.viewport().width() < 400  # the panel was narrow indeed
