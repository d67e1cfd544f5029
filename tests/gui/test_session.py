"""Never lose work: autosave, crash recovery, bad files that load nothing."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.gui


def test_autosave_file_appears_on_timer_and_holds_the_edits(make_window, smears, detect_current, qtbot,
                                                            tmp_path):
    window = make_window(autosave_interval_s=0.05)
    window.files.open([smears])
    recovery = window.session.recovery_file
    assert not recovery.exists()  # nothing changed yet, nothing written
    detect_current(window)
    qtbot.waitUntil(recovery.exists, timeout=3000)
    saved = json.loads(recovery.read_text())
    assert len(saved["annotations"]) == 3
    assert {a["bloodview"]["source"] for a in saved["annotations"]} == {"model"}


def test_changing_image_autosaves(make_window, smears, detect_current, qtbot):
    window = make_window(autosave_interval_s=0)  # timer off: only the image change saves
    window.files.open([smears])
    detect_current(window)
    assert not window.session.recovery_file.exists()
    with qtbot.waitSignal(window.session.autosaved, timeout=5000):  # written by the worker thread
        window.session.set_current(1)
    assert window.session.recovery_file.exists()


def test_recovery_is_offered_after_a_crash_and_restores_the_cells(make_window, smears, detect_current):
    crashed = make_window(autosave_interval_s=0)
    crashed.files.open([smears])
    detect_current(crashed)
    image = crashed.session.current_image
    crashed.select_cells([image.instances[0].id], center=False)
    crashed.review.set_class("basophil")
    crashed.session.autosave(wait=True)
    before = [(i.id, i.class_name, i.corrected) for i in image.instances]
    # the program "crashes": nothing saved; a new window opens the same folder
    again = make_window()
    assert again.files.open([smears])
    restored = again.session.dataset.images[0]
    assert [(i.id, i.class_name, i.corrected) for i in restored.instances] == before
    assert again.session.is_dirty()  # restored edits are not saved yet
    again.session.undo_group.undo()  # the restore itself can be undone
    assert again.session.dataset.images[0].instances == []


def test_declined_recovery_is_discarded(make_window, smears, detect_current):
    first = make_window(autosave_interval_s=0)
    first.files.open([smears])
    detect_current(first)
    first.session.autosave(wait=True)
    second = make_window()
    second.prompts.answers["recover"] = False
    second.files.open([smears])
    assert second.session.dataset.images[0].instances == []
    assert not second.session.recovery_file.exists()


def test_malformed_annotation_file_loads_nothing_and_is_not_touched(make_window, smears, tmp_path):
    window = make_window()
    window.files.open([smears])
    opened = window.session.dataset
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [{"id": 1, "file_name": "x.jpg"', encoding="utf-8")
    assert not window.files.open([bad])
    assert window.session.dataset is opened
    assert bad.read_text(encoding="utf-8") == '{"images": [{"id": 1, "file_name": "x.jpg"'
    title, text = window.prompts.messages[-1]
    assert title == "Cannot open" and "bad.json" in text


def test_missing_path_gives_a_message(make_window, tmp_path):
    window = make_window()
    assert not window.files.open([tmp_path / "nowhere"])
    assert "no such file or folder" in window.prompts.messages[-1][1]


def test_unsaved_changes_block_opening_something_else_until_answered(make_window, smears, detect_current,
                                                                    tmp_path):
    window = make_window()
    window.files.open([smears])
    detect_current(window)
    window.prompts.answers["unsaved"] = "Cancel"
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.jpg").write_bytes((smears / "BloodImage_00000.jpg").read_bytes())
    assert not window.files.open([other])
    assert len(window.session.dataset.images) == 4
    window.prompts.answers["unsaved"] = "Discard"
    assert window.files.open([other])
    assert len(window.session.dataset.images) == 1


def test_start_without_paths_offers_the_last_unsaved_work(make_window, smears, detect_current):
    crashed = make_window(autosave_interval_s=0)
    crashed.files.open([smears])
    detect_current(crashed)
    crashed.session.autosave(wait=True)
    fresh = make_window()
    fresh.prompts.answers["startup_recovery"] = True
    assert fresh.files.offer_startup_recovery()
    assert len(fresh.session.dataset.images[0].instances) == 3
    assert "recover" not in fresh.prompts.answers


def test_nothing_to_recover_means_no_question(make_window):
    window = make_window()
    window.prompts.answers["startup_recovery"] = True
    assert not window.files.offer_startup_recovery()


@pytest.fixture
def held_writer(monkeypatch):
    """Recovery writes wait until ``release.set()``: the worker thread is mid-write meanwhile."""
    import threading

    import bloodview.gui.recovery as recovery

    release = threading.Event()
    real = recovery.write_recovery

    def held(*args, **kw):
        assert release.wait(10)
        return real(*args, **kw)

    monkeypatch.setattr(recovery, "write_recovery", held)
    yield release
    release.set()


def test_autosave_writes_the_state_it_was_asked_for_not_a_later_edit(make_window, smears, detect_current,
                                                                    held_writer, qtbot):
    import time

    window = make_window(autosave_interval_s=0)
    window.files.open([smears])
    detect_current(window)
    image = window.session.current_image
    before = sorted(i.id for i in image.instances)
    started = time.perf_counter()
    window.session.autosave()
    assert time.perf_counter() - started < 1.0  # the GUI thread does not wait for the write
    window.select_cells([image.instances[0].id], center=False)
    window.review.delete_selected()  # edits go on while the worker writes
    assert len(image.instances) == len(before) - 1
    with qtbot.waitSignal(window.session.autosaved, timeout=5000):
        held_writer.set()
    saved = json.loads(window.session.recovery_file.read_text())
    assert sorted(a["bloodview"]["id"] for a in saved["annotations"]) == before
    assert window.session.autosave(wait=True) is not None  # the edits after it go in the next one
    saved = json.loads(window.session.recovery_file.read_text())
    assert len(saved["annotations"]) == len(before) - 1


def test_a_save_during_an_autosave_write_leaves_no_stale_recovery_file(make_window, smears, detect_current,
                                                                       held_writer, tmp_path):
    import threading

    window = make_window(autosave_interval_s=0)
    window.files.open([smears])
    detect_current(window)
    window.session.autosave()
    threading.Timer(0.3, held_writer.set).start()  # the write finishes while the save runs
    window.prompts.answers["project_folder"] = str(tmp_path / "project")
    assert window.files.save()
    assert not window.session.recovery_file.exists()
    assert not list(window.session.recovery_dir.glob("*.json"))
