"""``bloodview evaluate --model`` stopped half-way through a ground truth, as a lab's script or the app meets it.

Regressions:
- Ctrl-C, ``kill`` or a scheduler's time limit before the report lost every prediction made so far,
  and the same command predicted every image again;
- a second run with another model or other options must not reuse the first one's predictions;
- the app's Evaluate dialog kills a cancelled run (SIGKILL): what it leaves must not stop or mislead
  the next run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bloodview.cli.main import main
from bloodview.cli.predict_journal import PredictJournal, partial_folder
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance
from bloodview.io.coco import save_coco
from tests.cli.stand_in import use_stand_in_predictor
from tests.cli.test_scripting_predict_carry_on import SCRIPT, _Fields

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (10, 0, 20, 30, 40, 50)  # the field with seed 0 has no red cells of its own: the camera pass reads it again


class _OddOutlines(_Fields):
    """``_Fields`` with outlines off the 4-decimal grid a COCO file rounds to, as a real model's are."""

    def detect(self, images, **options):
        found = super().detect(images, **options)
        for one in found:
            for cell in one.instances:
                cell.polygons = [polygon * 1.0000731 + 1 / 3 for polygon in cell.polygons]
        return found


@pytest.fixture
def ground_truth(tmp_path, monkeypatch):
    """Six camera fields of one size with a checked neutrophil each (COCO beside them), and a stand-in model."""
    _Fields.read, _Fields.stop_after = [], None
    folder = tmp_path / "checked fields ä"
    folder.mkdir()
    images = []
    for k, seed in enumerate(SEEDS):
        pixels = np.full((40, 60, 3), (200, 150, 170), np.uint8)
        pixels[0, 0, 0] = seed
        Image.fromarray(pixels).save(folder / f"field {k}.png")
        images.append(ImageAnnotation(f"field {k}.png", 60, 40, [Instance([rectangle(1, 2, 9.5, 11.25)], "neutrophil")]))
    save_coco(Dataset(images, ClassCatalogue.pbc()), folder / "gt.json")
    use_stand_in_predictor(monkeypatch, _OddOutlines)
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.json").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return folder / "gt.json", model


def _evaluate(gt: Path, model: Path, out: Path, *options: str) -> int:
    return main(["evaluate", "--gt", str(gt), "--model", str(model), "--out", str(out), *options])


def _journal(out: Path) -> Path:
    return partial_folder(out / "predictions.json")


def _figures(out: Path) -> dict:
    """The report less what differs between any two runs: when it was made and where its files are."""
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for key in ("created", "predictions", "files"):
        report.pop(key, None)
    return report


def test_a_stopped_evaluation_keeps_its_predictions_and_the_same_command_carries_on(ground_truth, tmp_path, capsys):
    gt, model = ground_truth
    whole = tmp_path / "whole"
    assert _evaluate(gt, model, whole) == 0
    assert not _journal(whole).exists(), "the kept predictions are removed once the report is written"
    capsys.readouterr()

    out = tmp_path / "report"
    _Fields.read, _Fields.stop_after = [], 3
    assert _evaluate(gt, model, out) == 130
    captured = capsys.readouterr()
    assert captured.err.endswith(f"3 of 6 image(s) done are kept in {_journal(out)}: run the same command again to "
                                 "carry on from there (--restart to read them all again)\nbloodview: interrupted\n")
    assert captured.out == "" and not (out / "report.json").exists()

    _Fields.read, _Fields.stop_after = [], None
    assert _evaluate(gt, model, out) == 0
    captured = capsys.readouterr()
    assert f"carrying on: 3 of 6 image(s) done by an earlier run of this command ({_journal(out)})" in captured.err
    assert _Fields.read == ["30", "40", "50", "0"], "the three left, then the field without red cells again"
    assert _figures(out) == _figures(whole), "carried on, the report is the one an unstopped run writes"
    assert json.loads((out / "predictions.json").read_text()) == json.loads((whole / "predictions.json").read_text())
    assert captured.out.splitlines()[-1] == f"report: {out / 'report.md'}"
    assert not _journal(out).exists()


@pytest.mark.parametrize("other", [["--no-cell-classifier"], ["--pixel-size", "0.1"], ["--restart"], "model.json"])
def test_another_model_or_other_options_predict_every_image_again(ground_truth, tmp_path, capsys, other):
    gt, model = ground_truth
    out = tmp_path / "report"
    _Fields.stop_after = 2
    assert _evaluate(gt, model, out) == 130
    if other == "model.json":  # retrained in place
        (model / "model.json").write_text('{"retrained": true}', encoding="utf-8")
        other = []
    _Fields.read, _Fields.stop_after = [], None
    assert _evaluate(gt, model, out, *other) == 0
    assert len(_Fields.read) >= 6 and _Fields.read[:2] == ["10", "0"], "nothing carried over"
    why = "--restart" if other == ["--restart"] else "another model or other options"
    assert f"{_journal(out)}: 2 batch(es) of an earlier run set aside ({why}); starting over" in capsys.readouterr().err


def test_another_min_score_carries_on(ground_truth, tmp_path, capsys):
    """--min-score only filters at scoring: the predictions made are the same."""
    gt, model = ground_truth
    out = tmp_path / "report"
    _Fields.stop_after = 2
    assert _evaluate(gt, model, out) == 130
    _Fields.read, _Fields.stop_after = [], None
    assert _evaluate(gt, model, out, "--min-score", "0.3") == 0
    assert "carrying on: 2 of 6" in capsys.readouterr().err


def test_a_run_stopped_before_any_image_leaves_no_report_folder(ground_truth, tmp_path, capsys):
    gt, model = ground_truth
    out = tmp_path / "reports" / "today"
    _Fields.stop_after = 0
    assert _evaluate(gt, model, out) == 130
    assert capsys.readouterr().err == "bloodview: interrupted\n"
    assert not out.exists()


def test_a_second_run_into_the_same_report_is_refused_while_the_first_runs(ground_truth, tmp_path, capsys):
    gt, model = ground_truth
    out = tmp_path / "report"
    out.mkdir()
    first, _ = PredictJournal.open(out / "predictions.json", {"another": "run"}, command="evaluate")
    try:
        assert _evaluate(gt, model, out) == 1
    finally:
        first.close()
    assert capsys.readouterr().err == (
        f"bloodview: error: {out / 'predictions.json'}: another bloodview evaluate is writing this file now (its "
        f"finished images are in {_journal(out)}); wait for it to end or give another --out\n")
    assert _Fields.read == []
    assert _evaluate(gt, model, out) == 0, "once the first has ended, the second runs"


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM and SIGKILL are POSIX signals")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_kill_keeps_the_finished_predictions_for_the_same_command(ground_truth, tmp_path, capsys, stop):
    """SIGTERM: a scheduler's limit (exit 143, says what is kept); SIGKILL: the app's Cancel (QProcess.kill)."""
    gt, model = ground_truth
    out, home = tmp_path / "report", tmp_path / "run"  # home: the child's own stand-in model folder, unused
    home.mkdir()
    command = ["evaluate", "--gt", str(gt), "--model", str(model), "--out", str(out)]
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, str(home), *command], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=ROOT, text=True)  # predict's slow stand-in, one image a call
    try:
        while process.stdout.readline() == "detect\n" and len(list(_journal(out).glob("batch-*.json"))) < 2:
            pass  # until two images are kept
        process.send_signal(stop)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert not (out / "report.json").exists() and not list(out.glob(".*.tmp"))
    if stop == signal.SIGTERM:
        assert process.returncode == 143
        assert err.endswith("run the same command again to carry on from there (--restart to read them all "
                            "again)\nbloodview: terminated\n"), err
    kept = len(list(_journal(out).glob("batch-*.json")))
    assert kept >= 2
    # the next run into another folder (the dialog's next Start) does not meet it; the same folder carries on
    assert _evaluate(gt, model, tmp_path / "next run") == 0
    assert "carrying on" not in capsys.readouterr().err
    _Fields.read = []
    assert _evaluate(gt, model, out) == 0
    assert f"carrying on: {kept} of 6" in capsys.readouterr().err and (out / "report.json").is_file()


def test_a_kept_cell_reads_back_exactly_as_found(tmp_path):
    """Regression: the journal kept outlines at COCO's 4 decimals, so a carried-over cell's box came back
    0.0001 px off (on 60 PBC images, 19 box sides in predictions.json differed from an unstopped run's)."""
    import types

    from bloodview.cli.predict_journal import DoneImage
    from bloodview.core.instance import Source

    image = tmp_path / "field.png"
    Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(image)
    outline = np.array([[1.23456789, 2.0], [9.87654321, 2.00001234], [9.5, 11.11111111], [1.0, 11.0]])
    cell = Instance([outline], "neutrophil", score=0.912345678, source=Source.MODEL)
    catalogue = ClassCatalogue.pbc()
    journal, _ = PredictJournal.open(tmp_path / "cells.json", {"run": 1})
    try:
        found = types.SimpleNamespace(instances=[cell], scale=None, glass_gains=None)
        journal.add([DoneImage(("x", 1, 1), ImageAnnotation(image, 60, 40, [cell]), found, False, False)], catalogue)
        (kept,) = journal.done(catalogue).values()
    finally:
        journal.close()
    (back,) = kept.annotation.instances
    assert back.polygons[0].tolist() == outline.tolist() and back.bbox == cell.bbox and back.area == cell.area
    assert back.score == cell.score


def test_a_pixel_size_the_ground_truth_gives_differently_predicts_every_image_again(ground_truth, tmp_path, capsys):
    """The images are read at the pixel size their ground truth gives: set another one, and nothing kept fits."""
    from bloodview.core.measure import PixelSize
    from bloodview.io.coco import load_coco

    gt, model = ground_truth
    out = tmp_path / "report"
    _Fields.stop_after = 2
    assert _evaluate(gt, model, out) == 130
    dataset = load_coco(gt)
    dataset.images[3].pixel_size = PixelSize(0.12, "given")
    save_coco(dataset, gt)
    _Fields.read, _Fields.stop_after = [], None
    assert _evaluate(gt, model, out) == 0
    assert len(_Fields.read) >= 6 and "starting over" in capsys.readouterr().err
