"""Evaluation run folders are kept, but not for ever: the newest KEEP_RUNS stay."""

from __future__ import annotations

import os

import pytest

from bloodview.gui.dialogs.evaluate_dialog import prune_old_runs

pytestmark = pytest.mark.gui


def _run(root, name, age, kind="report"):
    folder = root / name
    folder.mkdir(parents=True)
    if kind == "report":
        (folder / "report").mkdir()
    elif kind == "train":
        (folder / "train.json").write_text("{}")
    os.utime(folder, (1_700_000_000 - age, 1_700_000_000 - age))
    return folder


def test_only_the_newest_runs_stay_and_other_folders_are_left_alone(tmp_path):
    runs = [_run(tmp_path, f"default-{k}", age=k * 60, kind="report" if k % 2 else "train") for k in range(6)]
    stranger = _run(tmp_path, "my-notes", age=10_000, kind="none")  # not a run: never touched
    removed = prune_old_runs(tmp_path, keep=3)
    assert sorted(removed) == sorted(runs[3:])
    assert all(r.exists() for r in runs[:3]) and stranger.exists()
    assert prune_old_runs(tmp_path / "missing", keep=3) == []
