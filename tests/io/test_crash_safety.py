"""A project save killed (SIGKILL) at any moment leaves the last or the previous save, never a mix.

The 200-kill figure is benchmarks/crash_safety.py; here 20 seeded kills of a 300-image project.
"""

from __future__ import annotations

import json
import sys

import pytest

import benchmarks.crash_safety as harness
from bloodview.io.project import load_project, save_project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def test_twenty_kills_during_saves_of_a_300_image_project_never_damage_it(tmp_path):
    outcome = harness.run_kills(tmp_path, kills=20, images=300, seed=16, log=lambda _line: None)
    assert outcome.damaged == []
    assert outcome.kills == 20 and outcome.loads_ok == 20
    assert outcome.saves_completed > 0  # the kills came during real saving, not before it
    # a later save cleans up after the killed ones: only the files the last two saves name are left
    folder = tmp_path / "project"
    project = load_project(folder)
    project.settings["save"] = -1
    save_project(project.dataset, folder, project.settings)
    named = {e["annotation"] for name in ("project.json", "project.json.bak")
             for e in json.loads((folder / name).read_text())["images"]}
    on_disk = {f"annotations/{p.name}" for p in (folder / "annotations").iterdir()}
    assert on_disk == named
    assert not list(folder.glob(".*.tmp"))


def test_a_save_interrupted_between_files_keeps_the_previous_save_whole(tmp_path, monkeypatch):
    """The fault the kills find in a one-file-per-image project: some files new, others old."""
    import bloodview.io.project as project_io

    first = harness.build_dataset(30, 0, tmp_path)
    save_project(first, tmp_path / "p", settings={"save": 0})
    writes = []
    real_write = project_io.atomic_write_bytes

    def write_then_crash(path, data, **kw):
        if len(writes) == 5:
            raise KeyboardInterrupt("killed")
        writes.append(path)
        return real_write(path, data, **kw)

    monkeypatch.setattr(project_io, "atomic_write_bytes", write_then_crash)
    with pytest.raises(KeyboardInterrupt):
        save_project(harness.build_dataset(30, 1, tmp_path), tmp_path / "p", settings={"save": 1})
    monkeypatch.undo()
    assert len(writes) == 5  # five of the changed images were written before the "kill"
    assert harness.found(tmp_path / "p") == harness.expected(30, 0)


def test_saving_again_writes_only_the_images_that_changed(tmp_path):
    dataset = harness.build_dataset(30, 0, tmp_path)
    save_project(dataset, tmp_path / "p")
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "p" / "annotations").iterdir()}
    dataset.images[3].instances.pop()
    save_project(dataset, tmp_path / "p")
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "p" / "annotations").iterdir()}
    assert len(set(after) - set(before)) == 1  # one new file, for the edited image
    assert all(after[name] == before[name] for name in set(after) & set(before))
    assert len(load_project(tmp_path / "p").dataset.images[3].instances) == len(dataset.images[3].instances)
