"""Evaluations run one after another as processes; every way they fail ends in a sentence, not a crash.

Stand-in `bloodview` scripts (no TensorFlow): one that writes report.json, one
that exits 0 without it, one that hangs; and a program that does not exist.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from bloodview.gui.workers.evaluate_process import EvaluateJob, EvaluateQueue

pytestmark = pytest.mark.gui

SCRIPT = """
import json, sys, time
from pathlib import Path
out = Path(sys.argv[sys.argv.index("--out") + 1])
model = Path(sys.argv[sys.argv.index("--model") + 1]).name
print("predicting", model, flush=True)
if model == "hangs":
    time.sleep(60)
if model != "silent":
    out.mkdir(parents=True)
    (out / "report.json").write_text(json.dumps({"classification": {}}))
"""


def jobs(tmp_path: Path, *models: str) -> list[EvaluateJob]:
    return [EvaluateJob(name, tmp_path / name, tmp_path / "heldout.json", tmp_path, tmp_path / "reports" / name)
            for name in models]


def queue(tmp_path: Path) -> EvaluateQueue:
    script = tmp_path / "fake_evaluate.py"
    script.write_text(textwrap.dedent(SCRIPT))
    return EvaluateQueue(command=[sys.executable, str(script)])


def test_jobs_run_in_order_and_each_names_its_report(qtbot, tmp_path):
    runner, lines = queue(tmp_path), []
    runner.logLine.connect(lines.append)
    with qtbot.waitSignal(runner.finished, timeout=20000) as done:
        runner.start(jobs(tmp_path, "current", "new"))
    outcomes = done.args[0]
    assert [(o.job.name, o.ok) for o in outcomes] == [("current", True), ("new", True)]
    assert outcomes[1].report_dir == tmp_path / "reports" / "new"
    assert lines == ["predicting current", "predicting new"] and not runner.is_running()


def test_an_evaluation_that_writes_no_report_is_a_failure_with_its_output(qtbot, tmp_path):
    runner = queue(tmp_path)
    with qtbot.waitSignal(runner.finished, timeout=20000) as done:
        runner.start(jobs(tmp_path, "silent", "new"))
    first, second = done.args[0]
    assert not first.ok and first.report_dir is None
    assert "without writing report.json" in first.message and "predicting silent" in first.message
    assert second.ok


def test_a_missing_program_is_said_for_every_job(qtbot, tmp_path):
    runner = EvaluateQueue(command=[str(tmp_path / "no-such-python")])
    with qtbot.waitSignal(runner.finished, timeout=10000) as done:
        runner.start(jobs(tmp_path, "current", "new"))
    assert [o.ok for o in done.args[0]] == [False, False]
    assert all("could not be started" in o.message for o in done.args[0])


def test_cancel_stops_the_running_one_and_skips_the_rest(qtbot, tmp_path):
    runner, started = queue(tmp_path), []
    runner.logLine.connect(started.append)
    runner.start(jobs(tmp_path, "hangs", "new"))
    qtbot.waitUntil(lambda: bool(started), timeout=10000)
    with qtbot.waitSignal(runner.finished, timeout=10000) as done:
        runner.cancel()
    assert [o.message for o in done.args[0]] == ["The evaluation was cancelled."] * 2
    assert not (tmp_path / "reports" / "new").exists()
