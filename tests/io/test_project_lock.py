"""One writer per project: the lock file, a second process, stale locks of killed processes."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading

import pytest

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.errors import ProjectError
from bloodview.io.project import load_project, save_project
from bloodview.io.project_lock import LOCK_FILE, ProjectLock, ProjectLockedError, read_lock

HOLD = textwrap.dedent("""
    import sys, time
    from bloodview.io.project_lock import ProjectLock
    lock = ProjectLock.acquire(sys.argv[1])
    print("locked", flush=True)
    time.sleep(60)
""")


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock on ``tmp_path / "proj"``; killed at the end."""
    folder = tmp_path / "proj"
    save_project(Dataset([ImageAnnotation("a.jpg", 64, 48)]), folder)
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "locked"
    yield folder, child
    child.kill()
    child.wait()


def test_lock_file_names_the_holder_and_goes_with_release(tmp_path):
    lock = ProjectLock.acquire(tmp_path)
    data = json.loads((tmp_path / LOCK_FILE).read_text())
    assert data["pid"] == os.getpid() and data["host"] == socket.gethostname() and data["since"]
    lock.release()
    assert not (tmp_path / LOCK_FILE).exists()
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_a_second_process_is_refused_with_the_holders_name(holder):
    folder, child = holder
    with pytest.raises(ProjectLockedError, match=rf"open in another bloodview \(.* on {socket.gethostname()} "
                                                 rf"\(process {child.pid}\), since "):
        ProjectLock.acquire(folder)
    before = (folder / "project.json").read_bytes()
    with pytest.raises(ProjectError, match=f"process {child.pid}"):  # `convert --to project` too
        save_project(Dataset([ImageAnnotation("b.jpg", 64, 48)]), folder)
    assert (folder / "project.json").read_bytes() == before
    assert [i.image_path.name for i in load_project(folder).dataset.images] == ["a.jpg"]


def test_the_lock_of_a_killed_process_is_recovered_with_a_log_line(holder, caplog):
    folder, child = holder
    child.kill()
    child.wait()
    with caplog.at_level(logging.WARNING, logger="bloodview.io.project_lock"):
        lock = ProjectLock.acquire(folder)
    assert read_lock(folder).pid == os.getpid()
    assert "recovered a stale lock left by" in caplog.text and f"process {child.pid}" in caplog.text
    lock.release()
    save_project(Dataset([ImageAnnotation("b.jpg", 64, 48)]), folder)  # the stale lock no longer blocks


def test_a_damaged_lock_file_does_not_block_forever(tmp_path):
    (tmp_path / LOCK_FILE).write_text("{not json")
    lock = ProjectLock.acquire(tmp_path)
    assert read_lock(tmp_path).token == lock.holder.token


def test_of_many_threads_racing_for_the_lock_exactly_one_gets_it(tmp_path):
    won, refused = [], []
    start = threading.Barrier(8)

    def race():
        start.wait()
        try:
            won.append(ProjectLock.acquire(tmp_path))
        except ProjectLockedError:
            refused.append(1)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(won), len(refused)) == (1, 7)
    assert read_lock(tmp_path).token == won[0].holder.token


def test_release_never_removes_another_holders_lock(tmp_path):
    mine = ProjectLock.acquire(tmp_path)
    (tmp_path / LOCK_FILE).unlink()  # e.g. removed by hand, then taken by someone else
    theirs = ProjectLock.acquire(tmp_path)
    mine.release()
    assert read_lock(tmp_path).token == theirs.holder.token
