"""Saving a project on a Windows PC: a stale lock is taken over, checking never sends Ctrl+C, and a
rename refused for a moment (a virus scanner) is tried again.

Regression: whether the lock's holder still runs was asked with ``os.kill(pid, 0)``. On Windows
signal 0 is ``CTRL_C_EVENT``: it sends a Ctrl+C to a console process group instead of asking, and
never says "no such process". After a crash on a PC the project's own stale lock was never taken
over (the project reopened read-only until ``bloodview.lock`` was deleted by hand), and every
save of one's own project probed one's own process that way.

Windows cannot run here: these tests run the real lock code on real files, with ``sys.platform`` set
to ``"win32"`` and Windows' kernel32 stood in for by a table of running processes.
"""

from __future__ import annotations

import ctypes
import json
import os
import socket
import sys

import pytest

from bloodview.core.annotation import Dataset
from bloodview.io.project import save_project
from bloodview.io.project_lock import LOCK_FILE, ProjectLock, ProjectLockedError, read_lock

DEAD, RUNNING, OTHER_USERS = 4242, 777, 4


class Function:
    """A kernel32 function: callable, and takes ``restype``/``argtypes`` as ctypes' do."""

    def __init__(self, call):
        self.call = call

    def __call__(self, *args):
        return self.call(*args)


class Kernel32:
    """OpenProcess / GetExitCodeProcess / CloseHandle as Windows answers them for a few processes."""

    def __init__(self):
        self.last_error = 0
        self.open_handles = set()
        self.OpenProcess = Function(self.open_process)  # noqa: N815 (Windows' names)
        self.GetExitCodeProcess = Function(self.exit_code)  # noqa: N815
        self.CloseHandle = Function(self.close)  # noqa: N815

    def open_process(self, access, inherit, pid):
        if pid == DEAD:
            self.last_error = 87  # ERROR_INVALID_PARAMETER: no such process
            return 0
        if pid == OTHER_USERS:
            self.last_error = 5  # ERROR_ACCESS_DENIED: it runs, as someone else
            return 0
        self.open_handles.add(1000 + pid)
        return 1000 + pid

    def exit_code(self, handle, code):
        assert handle.value in self.open_handles
        code._obj.value = 259  # STILL_ACTIVE
        return 1

    def close(self, handle):
        self.open_handles.discard(handle.value)
        return 1


@pytest.fixture
def windows(monkeypatch):
    kernel32 = Kernel32()
    monkeypatch.setattr(ctypes, "WinDLL", lambda name, use_last_error=False: kernel32, raising=False)
    monkeypatch.setattr(ctypes, "get_last_error", lambda: kernel32.last_error, raising=False)

    def ctrl_c(pid, sig):
        raise AssertionError(f"os.kill({pid}, {sig}) sends a Ctrl+C on Windows instead of asking")

    monkeypatch.setattr(os, "kill", ctrl_c)
    monkeypatch.setattr(sys, "platform", "win32")
    return kernel32


def _lock_of(folder, pid):
    (folder / LOCK_FILE).write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "user": "ana",
                                                "since": "2026-12-07T09:00:00+00:00", "token": f"t{pid}"}))


def test_a_stale_lock_left_by_a_crash_on_a_pc_is_taken_over(tmp_path, windows):
    _lock_of(tmp_path, DEAD)
    lock = ProjectLock.acquire(tmp_path)
    assert read_lock(tmp_path).token == lock.holder.token
    assert not windows.open_handles


@pytest.mark.parametrize("pid", [RUNNING, OTHER_USERS])
def test_a_running_holder_on_a_pc_keeps_its_lock(tmp_path, windows, pid):
    _lock_of(tmp_path, pid)
    with pytest.raises(ProjectLockedError, match="is open in another bloodview"):
        ProjectLock.acquire(tmp_path)
    assert not windows.open_handles


def test_saving_ones_own_project_never_probes_ones_own_process(tmp_path, monkeypatch):
    def probe(pid, sig):
        raise AssertionError(f"os.kill({pid}, {sig}): on Windows a Ctrl+C to this very bloodview")

    (tmp_path / "proj").mkdir()
    lock = ProjectLock.acquire(tmp_path / "proj")
    monkeypatch.setattr(os, "kill", probe)
    save_project(Dataset([]), tmp_path / "proj")
    assert (tmp_path / "proj" / "project.json").is_file()
    lock.release()


def _scanned(monkeypatch, refusals):
    """``os.replace`` refused ``refusals`` times, as Windows does while a virus scanner has the file open."""
    real = os.replace
    calls = []

    def replace(source, target):
        calls.append(target)
        if len(calls) <= refusals:
            raise PermissionError(13, "Access is denied", str(target))
        return real(source, target)

    monkeypatch.setattr(os, "replace", replace)
    return calls


def test_a_save_on_a_pc_waits_out_a_virus_scanner_holding_the_file(tmp_path, monkeypatch):
    """Regression: Windows refuses a rename over a file another program has open for a moment (the
    virus scanner or indexer reading what was just written, a colleague's PC reading project.json on
    the share); the save failed with "Permission denied" where a retry a moment later succeeds."""
    save_project(Dataset([]), tmp_path / "proj")
    monkeypatch.setattr(sys, "platform", "win32")
    calls = _scanned(monkeypatch, refusals=2)
    save_project(Dataset([]), tmp_path / "proj", settings={"pixel_size_um": 0.1})
    assert json.loads((tmp_path / "proj" / "project.json").read_text())["settings"] == {"pixel_size_um": 0.1}
    assert len(calls) == 3


def test_elsewhere_a_refused_rename_is_said_at_once(tmp_path, monkeypatch):
    save_project(Dataset([]), tmp_path / "proj")
    calls = _scanned(monkeypatch, refusals=1)
    with pytest.raises(PermissionError):
        save_project(Dataset([]), tmp_path / "proj", settings={"pixel_size_um": 0.1})
    assert len(calls) == 1 and json.loads((tmp_path / "proj" / "project.json").read_text())["settings"] == {}
