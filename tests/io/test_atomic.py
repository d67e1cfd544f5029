"""Atomic writes: the old file survives a failed save and is kept as .bak."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from bloodview.io.atomic import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    backup_path,
    whole_number,
)


def test_write_then_overwrite_keeps_previous_version_as_bak(tmp_path):
    target = tmp_path / "a.json"
    atomic_write_text(target, "first")
    assert target.read_text() == "first"
    assert not backup_path(target).exists()
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    assert backup_path(target).read_text() == "first"
    atomic_write_text(target, "third")
    assert backup_path(target).read_text() == "second"


def test_no_temporary_files_left_behind(tmp_path):
    atomic_write_bytes(tmp_path / "x.bin", b"\x00\x01")
    atomic_write_bytes(tmp_path / "x.bin", b"\x02")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin", "x.bin.bak"]


def test_unserialisable_object_leaves_existing_file_untouched(tmp_path):
    target = tmp_path / "ann.json"
    atomic_write_json(target, {"ok": 1})
    with pytest.raises(TypeError):
        atomic_write_json(target, {"bad": object()})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["ann.json"]


def test_failure_during_replace_keeps_old_file_and_removes_temp(tmp_path, monkeypatch):
    target = tmp_path / "ann.json"
    atomic_write_text(target, "good")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "partial")
    assert target.read_text() == "good"
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_missing_folder_raises_and_creates_nothing(tmp_path):
    with pytest.raises(OSError):
        atomic_write_text(tmp_path / "nope" / "a.json", "x")
    assert list(tmp_path.iterdir()) == []


def test_json_compact_numpy_and_unicode(tmp_path):
    target = tmp_path / "c.json"
    atomic_write_json(target, {"n": np.int64(3), "a": np.array([1.5, 2.0]), "é": "Grünwald"}, compact=True)
    text = target.read_text(encoding="utf-8")
    assert text == '{"n":3,"a":[1.5,2.0],"é":"Grünwald"}'


def test_whole_number():
    assert whole_number(3.0) == 3 and isinstance(whole_number(3.0), int)
    assert whole_number(2.5) == 2.5


def test_new_files_get_normal_permissions(tmp_path):
    path = atomic_write_text(tmp_path / "shared.json", "{}")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_errors_name_the_file_asked_for_not_the_temporary_one(tmp_path):
    """Regression: a missing folder was reported as '.../.a.json.fjaqokng.tmp No such file or directory'."""
    target = tmp_path / "nope" / "a.json"
    with pytest.raises(FileNotFoundError) as missing:
        atomic_write_text(target, "x")
    assert missing.value.filename == str(target)
    (tmp_path / "taken").mkdir()
    with pytest.raises(IsADirectoryError) as folder:
        atomic_write_text(tmp_path / "taken", "x")
    assert folder.value.filename == str(tmp_path / "taken") and folder.value.strerror == "is a folder, not a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"] and not any((tmp_path / "taken").iterdir())


def test_a_full_disk_names_the_file_being_written(tmp_path, monkeypatch):
    """A write or fsync on a full disk raises an OSError without a file name: convert, count and
    bootstrap printed a bare "No space left on device"."""
    import errno

    target = tmp_path / "counts.csv"
    atomic_write_text(target, "good")

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as raised:
        atomic_write_text(target, "more")
    assert raised.value.filename == str(target) and raised.value.errno == errno.ENOSPC
    assert target.read_text() == "good"
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
