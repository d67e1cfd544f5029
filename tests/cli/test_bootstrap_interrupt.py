"""Ctrl-C during ``bloodview bootstrap --workers N``: one line, exit 130, nothing written.

Regression: the terminal sends Ctrl-C to every process of its group, and each pool worker
that took it printed ``Process SpawnPoolWorker-1:`` (and sometimes its traceback) under
``bloodview: interrupted``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux process groups and /proc")

RUN = "import sys; from bloodview.cli.main import main; sys.exit(main())"


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def _ignores_sigint(pid: str) -> bool:
    """From the process's ``SigIgn`` mask in /proc (bit ``signal - 1``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGINT - 1) & 1)
    return False


def test_ctrl_c_stops_the_workers_with_one_line_and_writes_nothing(pbc_dir, tmp_path):
    out = tmp_path / "pbc.json"
    process = subprocess.Popen(
        [sys.executable, "-c", RUN, "bootstrap", str(pbc_dir), "--out", str(out), "--workers", "2",
         "--limit", "3000", "--montage", str(tmp_path / "montage.png")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 120
        while len(_children(process.pid)) < 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        time.sleep(2)  # the workers are importing or segmenting: either way they must stay quiet
        assert process.poll() is None, "bootstrap ended before it could be interrupted"
        # whether a worker's line makes it out before the parent terminates it is a race; that every
        # worker ignores Ctrl-C is not
        assert [_ignores_sigint(pid) for pid in _children(process.pid)] == [True] * len(_children(process.pid))
        os.killpg(process.pid, signal.SIGINT)  # as the terminal does: the whole group
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130
    assert stderr.decode() == "bloodview: interrupted\n"
    assert stdout.decode() == ""
    assert list(tmp_path.iterdir()) == []
