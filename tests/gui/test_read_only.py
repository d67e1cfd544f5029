"""Two bloodviews on one project: the second opens it read-only; a crashed holder's lock is taken over."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bloodview.io.project_lock import LOCK_FILE, read_lock

pytestmark = pytest.mark.gui


@pytest.fixture
def project(window, detect_current, tmp_path):
    """A saved project (first smear detected), still open in ``window``."""
    detect_current(window)
    window.prompts.answers["project_folder"] = str(tmp_path / "project")
    assert window.files.save()
    return tmp_path / "project"


def cell_count(window):
    return len(window.session.dataset.images[0].instances)


def test_a_second_window_opens_the_project_read_only_and_cannot_save_into_it(project, window, make_window):
    first = window
    assert read_lock(project).pid == os.getpid() and "read-only" not in first.windowTitle()
    second = make_window()
    assert second.files.open([project])
    assert second.session.read_only and "(read-only)" in second.windowTitle()
    title, text = second.prompts.messages[-1]
    assert title == "Opened read-only" and f"process {os.getpid()}" in text and "Save as" in text
    saved = (project / "project.json").read_bytes()
    second.session.push(0, _delete_first_cell(second))
    shown = []
    second.prompts.choose = lambda _parent, key, _title, text, _options, default: shown.append((key, text)) or "Cancel"
    assert not second.files.save()
    assert shown[0][0] == "save_failed" and "open in another bloodview (" in shown[0][1]
    assert f"(process {os.getpid()})" in shown[0][1]
    assert (project / "project.json").read_bytes() == saved  # the first window's project untouched
    assert second.session.is_dirty()  # the edit is kept in memory
    assert first.files.save()  # the holder saves as usual


def test_save_as_from_a_read_only_window_saves_elsewhere(project, make_window, tmp_path):
    second = make_window()
    assert second.files.open([project])
    assert "(read-only)" in second.windowTitle() and not second.session.is_dirty()
    second.prompts.answers["project_folder"] = str(tmp_path / "copy")
    assert second.files.save_as()
    assert not second.session.read_only and "read-only" not in second.windowTitle()
    assert read_lock(tmp_path / "copy").pid == os.getpid()
    assert len(json.loads((tmp_path / "copy" / "project.json").read_text())["images"]) == 4


def test_closing_the_holder_lets_the_read_only_window_save(project, window, make_window):
    second = make_window()
    assert second.files.open([project])
    second.session.push(0, _delete_first_cell(second))
    window.close()
    assert not (project / LOCK_FILE).exists()
    assert second.files.save()  # "Retry" after the holder closed: the lock is free now
    assert not second.session.read_only and "read-only" not in second.windowTitle()
    assert read_lock(project).token == second.session.lock.holder.token


def test_a_crashed_holders_lock_is_taken_over(project, window, make_window):
    window.session.lock.release()  # the first window's process "crashes": its lock file stays ...
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    lock = {"pid": int(dead.stdout), "host": os.uname().nodename, "user": "tech-a",
            "since": "2026-12-01T08:00:00+00:00", "token": "deadbeef"}
    (project / LOCK_FILE).write_text(json.dumps(lock))  # ... naming a process that no longer runs
    second = make_window()
    assert second.files.open([project])
    assert not second.session.read_only
    assert read_lock(project).pid == os.getpid() and read_lock(project).token != "deadbeef"


def _delete_first_cell(window):
    from bloodview.gui.commands import RemoveInstancesCommand

    image = window.session.dataset.images[0]
    return RemoveInstancesCommand(image, [image.instances[0].id])


def test_a_read_only_window_never_writes_over_the_holders_recovery_file(project, window, make_window, tmp_path):
    from bloodview.gui.session import READ_ONLY_MARK, sources_key

    window.session.push(0, _delete_first_cell(window))
    window.session.autosave(wait=True)
    holders = window.session.recovery_file.read_bytes()
    second = make_window()
    second.prompts.answers["recover"] = False  # not its recovery file to restore or discard
    assert second.files.open([project])
    assert second.session.recovery_file != window.session.recovery_file
    assert window.session.recovery_file.read_bytes() == holders
    second.session.push(0, _delete_first_cell(second))
    second.session.push(0, _delete_first_cell(second))
    assert second.session.autosave(wait=True) == second.session.recovery_file
    assert window.session.recovery_file.read_bytes() == holders
    second.prompts.answers["project_folder"] = str(tmp_path / "copy")
    assert second.files.save_as()  # its own recovery file goes, the holder's stays
    assert not list(second.session.recovery_dir.glob(f"{sources_key([project, READ_ONLY_MARK])}.*"))
    assert window.session.recovery_file.read_bytes() == holders
