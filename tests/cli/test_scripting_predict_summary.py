"""``bloodview predict --json``: one object on stdout that a script reads instead of scraping stderr.

Before, a run that skipped unreadable images exited 0 like a clean one, and what it skipped was
only in stderr's human lines, between the progress bar and TensorFlow's notes.
"""

from __future__ import annotations

import json
import shutil

from bloodview.cli.main import main
from tests.cli.stand_in import stand_in_predict_model
from tests.cli.test_predict_inputs import LYMPHOCYTE, NEUTROPHIL, _OneCellPerImage


def test_json_summary_names_what_was_written_and_each_skipped_image(tmp_path, monkeypatch, capsys):
    model = stand_in_predict_model(monkeypatch, tmp_path, _OneCellPerImage)
    folder = tmp_path / "day 1"
    (folder / "slide ß").mkdir(parents=True)
    shutil.copy(NEUTROPHIL, folder / "a.jpg")
    shutil.copy(LYMPHOCYTE, folder / "slide ß" / "b.jpg")
    (folder / "empty.jpg").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "day 1", "--model", str(model), "--out", "cells.json", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("\n") == 1, "one line: the object, nothing else on stdout"
    summary = json.loads(captured.out)
    assert summary == {
        "out": str(tmp_path / "cells.json"),
        "format": "coco",
        "images": 3,
        "written": 2,
        "cells": 2,
        "carried_over": 0,
        "skipped": [{"file": str(folder / "empty.jpg"), "reason": summary["skipped"][0]["reason"]}],
    }
    assert summary["skipped"][0]["reason"] and f"skipped: {folder.name}" in captured.err
    names = sorted(i["file_name"] for i in json.loads((tmp_path / "cells.json").read_text())["images"])
    assert names == ["a.jpg", "slide ß/b.jpg"]


def test_without_json_stdout_stays_empty(tmp_path, monkeypatch, capsys):
    model = stand_in_predict_model(monkeypatch, tmp_path, _OneCellPerImage)
    assert main(["predict", str(NEUTROPHIL), "--model", str(model), "--out", str(tmp_path / "c.json")]) == 0
    assert capsys.readouterr().out == ""


def test_json_names_the_kind_of_each_failure_so_a_script_need_not_match_sentences(tmp_path, monkeypatch, capsys):
    """All of these exit 1 (scripts rely on it); the one-word ``kind`` tells them apart."""
    from bloodview.cli.predict_journal import PredictJournal

    model = stand_in_predict_model(monkeypatch, tmp_path, _OneCellPerImage)
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "cells.json"
    image = str(NEUTROPHIL)
    cases = {
        "model": ["predict", image, "--model", str(tmp_path / "no model"), "--out", str(out)],
        "input": ["predict", str(empty), "--model", str(model), "--out", str(out)],
        "output": ["predict", image, "--model", str(model), "--out", str(tmp_path / "no folder" / "c.json")],
    }
    for kind, argv in cases.items():
        assert main([*argv, "--json"]) == 1
        captured = capsys.readouterr()
        failure = json.loads(captured.out)
        assert failure["kind"] == kind
        assert captured.err == f"bloodview: error: {failure['error']}\n", "the same sentence on stderr"
    other, _ = PredictJournal.open(out, {"another": "run"})
    try:
        assert main(["predict", image, "--model", str(model), "--out", str(out), "--json"]) == 1
    finally:
        other.close()
    assert json.loads(capsys.readouterr().out)["kind"] == "busy"
