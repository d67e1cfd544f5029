"""Model → Evaluate… with a FAKE `bloodview evaluate` (writes report.md like the real one)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

FAKE = """
import argparse, json, sys
from pathlib import Path
p = argparse.ArgumentParser(); p.add_argument("cmd")
for a in ("--gt", "--images", "--model", "--out"):
    p.add_argument(a)
args = p.parse_args()
gt = json.loads(Path(args.gt).read_text())
out = Path(args.out); out.mkdir(parents=True)
Path(%(seen)r).write_text(json.dumps(vars(args)))
if %(fail)r:
    print("bloodview: error: the model folder has no weights", file=sys.stderr)
    sys.exit(1)
(out / "report.md").write_text("# Evaluation\\n\\n| metric | mask |\\n|---|---|\\n| mAP@0.5 | 0.812 |\\n\\n"
                               f"{len(gt['images'])} images, {len(gt['annotations'])} cells\\n")
print("report:", out / "report.md")
"""


def fake_cli(tmp_path: Path, fail: bool = False):
    seen = tmp_path / "evaluate_args.json"
    script = tmp_path / "fake_evaluate.py"
    script.write_text(textwrap.dedent(FAKE % {"seen": str(seen), "fail": fail}))
    return [sys.executable, str(script)], seen


def test_evaluate_runs_on_reviewed_images_and_shows_the_tables(window, review_current, qtbot, tmp_path,
                                                               model_store):
    review_current(window)
    window.models.cli_command, seen = fake_cli(tmp_path)
    window.models.evaluate()
    dialog = window.models.evaluate_dialog
    assert "1 reviewed image(s) with 3 checked cells" in dialog.info.text()
    with qtbot.waitSignal(dialog.finishedReport, timeout=20000) as done:
        dialog.start()
    assert done.args[0]
    args = json.loads(seen.read_text())
    assert Path(args["model"]) == model_store / "fake-model"
    assert "mAP@0.5" in dialog.tables.toPlainText() and "1 images, 3 cells" in dialog.tables.toPlainText()


def test_failed_evaluation_shows_the_log(window, review_current, qtbot, tmp_path):
    review_current(window)
    window.models.cli_command, _seen = fake_cli(tmp_path, fail=True)
    window.models.evaluate()
    dialog = window.models.evaluate_dialog
    with qtbot.waitSignal(dialog.finishedReport, timeout=20000) as done:
        dialog.start()
    assert done.args == [""]
    assert "failed" in dialog.tables.toPlainText()
    assert "no weights" in dialog.log.toPlainText()
