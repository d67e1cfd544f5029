"""Model → Evaluate… with a FAKE `bloodview evaluate` (writes report.md like the real one)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.dialogs import evaluate_dialog
from bloodview.gui.dialogs.evaluate_dialog import headline, readiness

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def reports_root(tmp_path, monkeypatch) -> Path:
    """Evaluation folders go here, not into the user's application data."""
    monkeypatch.setattr(evaluate_dialog, "default_reports_root", lambda: tmp_path / "reports")
    return tmp_path / "reports"

FAKE = """
import argparse, json, sys
from pathlib import Path
p = argparse.ArgumentParser(); p.add_argument("cmd")
for a in ("--gt", "--images", "--model", "--out", "--pixel-size"):
    p.add_argument(a)
args = p.parse_args()
if %(sleep)r:
    import time; time.sleep(%(sleep)r)
gt = json.loads(Path(args.gt).read_text())
out = Path(args.out); out.mkdir(parents=True)
Path(%(seen)r).write_text(json.dumps(vars(args)))
if %(fail)r:
    print("bloodview: error: the model folder has no weights", file=sys.stderr)
    sys.exit(1)
(out / "report.md").write_text("# Evaluation\\n\\n| metric | mask |\\n|---|---|\\n| mAP@0.5 | 0.812 |\\n\\n"
                               f"{len(gt['images'])} images, {len(gt['annotations'])} cells\\n")
(out / "report.json").write_text(json.dumps({
    "counts": {"images": len(gt["images"]), "ground_truth_cells": len(gt["annotations"])},
    "classification": {"accuracy": 0.6, "accuracy_matched": 0.6, "ground_truth": len(gt["annotations"]),
                       "matched": len(gt["annotations"]), "missed": 0, "spurious": 0},
    "mask": {"mAP50": 0.812, "mAP50_95": 0.7}, "box": {"mAP50": 0.9, "mAP50_95": 0.8}}))
print("report:", out / "report.md")
"""


def fake_cli(tmp_path: Path, fail: bool = False, sleep: float = 0):
    seen = tmp_path / "evaluate_args.json"
    script = tmp_path / "fake_evaluate.py"
    script.write_text(textwrap.dedent(FAKE % {"seen": str(seen), "fail": fail, "sleep": sleep}))
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


def test_the_report_is_kept_said_in_words_and_can_be_opened_again(window, review_current, qtbot, tmp_path,
                                                                  reports_root):
    """Before, the report went to a temporary folder named nowhere, and the dialog showed only the raw
    tables: no headline, no way to open the folder or an earlier report."""
    review_current(window)
    window.models.cli_command, _seen = fake_cli(tmp_path)
    window.models.evaluate()
    dialog = window.models.evaluate_dialog
    with qtbot.waitSignal(dialog.finishedReport, timeout=20000) as done:
        dialog.start()
    folder = Path(done.args[0])
    assert folder.parent.parent == reports_root and (folder / "report.json").is_file()
    assert str(folder) in dialog.where.text() and dialog.folder_button.isEnabled()
    summary = dialog.summary.text()
    assert "Classification accuracy 0.60" in summary and "mAP@0.5 0.81" in summary
    assert "not a share of cells" in summary and "±0.58" in summary  # 3 cells
    dialog.close()
    window.models.evaluate()
    again = window.models.evaluate_dialog
    assert again.show_report(folder)
    assert "mAP@0.5" in again.tables.toPlainText() and "0.60" in again.summary.text()
    assert not again.show_report(tmp_path)  # not a report folder: said, not raised
    assert "Cannot show the report" in again.tables.toPlainText()


def test_an_image_whose_file_went_missing_is_left_out_and_named(make_window, smears, review_current, qtbot,
                                                                tmp_path):
    """Before, it went into the ground truth and `bloodview evaluate` stopped at it after loading TensorFlow."""
    window = make_window()
    assert window.files.open([smears])
    for index in (0, 1):
        window.session.set_current(index)
        review_current(window)
    gone = window.session.dataset.images[0]
    window.session.dataset.resolve_image(gone).unlink()
    window.models.cli_command, seen = fake_cli(tmp_path)
    window.models.evaluate()
    dialog = window.models.evaluate_dialog
    assert gone.image_path.name in dialog.info.text() and "missing" in dialog.info.text()
    assert "1 reviewed image(s) with 3 checked cells" in dialog.info.text()
    with qtbot.waitSignal(dialog.finishedReport, timeout=20000) as done:
        dialog.start()
    assert done.args[0]
    gt = json.loads(Path(json.loads(seen.read_text())["gt"]).read_text())
    assert [Path(i["file_name"]).name for i in gt["images"]] == [window.session.dataset.images[1].image_path.name]


def test_no_reviewed_image_is_explained_and_start_refused(window):
    window.models.evaluate()
    dialog = window.models.evaluate_dialog
    assert not dialog.start_button.isEnabled()
    assert "No reviewed image" in dialog.info.text()


def test_cancel_says_cancelled_not_failed(window, review_current, qtbot, tmp_path):
    review_current(window)
    window.models.cli_command, _seen = fake_cli(tmp_path, sleep=30)
    window.models.evaluate()
    dialog = window.models.evaluate_dialog
    dialog.start()
    assert dialog.cancel_button.isEnabled()
    with qtbot.waitSignal(dialog.finishedReport, timeout=10000) as done:
        dialog.cancel_button.click()
    assert done.args == [""]
    assert "cancelled" in dialog.tables.toPlainText() and "failed" not in dialog.tables.toPlainText()
    assert dialog.start_button.isEnabled() and not dialog.cancel_button.isEnabled()


def test_a_program_that_cannot_start_ends_the_run(window, review_current, qtbot, tmp_path):
    """Before, the dialog stayed at "Evaluating…" with Cancel enabled for ever."""
    review_current(window)
    window.models.cli_command = [str(tmp_path / "no-such-bloodview")]
    window.models.evaluate()
    dialog = window.models.evaluate_dialog
    with qtbot.waitSignal(dialog.finishedReport, timeout=10000) as done:
        dialog.start()
    assert done.args == [""] and "could not be started" in dialog.tables.toPlainText()
    assert dialog.start_button.isEnabled()


def test_the_pixel_size_given_while_the_dialog_is_open_is_used(window, review_current, qtbot, tmp_path):
    review_current(window)
    window.models.cli_command, seen = fake_cli(tmp_path)
    window.models.evaluate()
    dialog = window.models.evaluate_dialog
    window.scale.set_project_pixel_size(0.17)
    with qtbot.waitSignal(dialog.finishedReport, timeout=20000):
        dialog.start()
    assert json.loads(seen.read_text())["pixel_size"] == "0.17"
    assert "0.17 µm/px" in dialog.info.text()


def _image(name: str, box_only: bool = False, signed: bool = False, pixel: float | None = None) -> ImageAnnotation:
    cell = Instance([rectangle(10, 10, 40, 40)], "neutrophil", source=Source.HUMAN, reviewed=True,
                    box_only=box_only)
    image = ImageAnnotation(Path(name), 100, 100, [cell])
    if pixel:
        image.pixel_size_um = pixel
    image.signed_off = signed
    return image


def test_readiness_names_what_weakens_the_figures(tmp_path):
    for name in ("a.png", "b.png"):
        (tmp_path / name).write_bytes(b"x")
    dataset = Dataset([_image("a.png", box_only=True, signed=True), _image("b.png")], root=tmp_path)
    text = " ".join(readiness(dataset).lines)
    assert "2 reviewed image(s) with 2 checked cells (1 signed off)" in text
    assert "2 of 2 image(s) have no pixel size" in text and "Model → Pixel size…" in text
    assert "1 of 2 image(s) have box-only ground truth" in text
    assert "Only 2 cells" in text and "±0.71" in text
    text = " ".join(readiness(dataset, pixel_size=0.17).lines)
    assert "no pixel size" not in text and "0.17 µm/px" in text


def test_headline_for_box_only_ground_truth_says_there_is_no_mask_figure():
    report = {"counts": {"ground_truth_cells": 143}, "mask": None, "box": {"mAP50": 0.277, "mAP50_95": 0.073},
              "classification": {"accuracy": 0.32, "accuracy_matched": 0.92, "matched": 99, "missed": 44,
                                 "spurious": 140}}
    text = headline(report)
    assert "Detection (boxes): mAP@0.5 0.28" in text and "boxes only" in text
    assert "Of the cells found, 0.92 were named right" in text and "±" not in text
