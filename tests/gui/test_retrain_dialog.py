"""Model → Retrain… in the window with a FAKE trainer (see test_train_process.py)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

REPO = str(Path(__file__).resolve().parents[2])

FAKE_BLOODVIEW = """
import json, sys, time, argparse
from pathlib import Path
sys.path.insert(0, %(repo)r)
p = argparse.ArgumentParser(); p.add_argument("cmd")
for a in ("--data", "--images", "--backbone", "--epochs", "--out", "--progress", "--steps-per-epoch", "--init"):
    p.add_argument(a)
p.add_argument("--no-resume-hint", action="store_true")
args = p.parse_args()
Path(%(seen)r).write_text(json.dumps(vars(args)))
def say(**o): print(json.dumps(o), flush=True)
say(event="start", epochs=1, steps=1)
say(event="step", epoch=1, epochs=1, step=1, steps=1, losses={"loss": 1.0}, eta_s=1)
if %(hang)r:  # like train: checkpoints from the first epoch on, model.json last
    from bloodview.cli.cmd_train import stopped_message
    def stop(*_):  # like train on SIGTERM: its own stop message, then exit 130
        message = stopped_message(1, Path(args.out), resume_hint=not args.no_resume_hint)
        say(event="error", message=message)
        print("bloodview: " + message, file=sys.stderr, flush=True)
        sys.exit(130)
    import signal
    signal.signal(signal.SIGTERM, stop)  # before the checkpoint appears: the test cancels once it sees it
    (Path(args.out) / "checkpoints").mkdir(parents=True)
    (Path(args.out) / "checkpoints" / "last.tmp").write_bytes(b"w" * 3_000_000)
    (Path(args.out) / "checkpoints" / "last.tmp").rename(Path(args.out) / "checkpoints" / "last.weights.h5")
    time.sleep(60)
from bloodview.model.store import ModelInfo, write_model_info
out = Path(args.out); out.mkdir(parents=True)
write_model_info(ModelInfo(name=out.name, backbone=args.backbone, class_names=["neutrophil"], config={},
                           final_losses={"loss": 0.5}, date="2026-11-25"), out)
say(event="epoch", epoch=1, epochs=1, losses={"loss": 0.5}, val_losses=None, eta_s=0)
say(event="done", model_dir=str(out), final_losses={"loss": 0.5})
"""


def fake_cli(tmp_path: Path, hang: bool = False) -> tuple[list[str], Path]:
    seen = tmp_path / "trainer_args.json"
    script = tmp_path / "fake_bloodview.py"
    script.write_text(textwrap.dedent(FAKE_BLOODVIEW % {"repo": REPO, "seen": str(seen), "hang": hang}))
    return [sys.executable, str(script)], seen


def test_retrain_writes_reviewed_images_and_the_new_model_appears_selected(
        window, review_current, qtbot, tmp_path, model_store):
    image = review_current(window)
    window.models.cli_command, seen = fake_cli(tmp_path)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert "1 images with 3 cells" in dialog.summary.text()
    dialog.name.setText("retrained-1")
    with qtbot.waitSignal(dialog.process.finished, timeout=20000):
        dialog.start()
    assert dialog.outcome.ok, dialog.outcome.message
    args = json.loads(seen.read_text())
    assert Path(args["out"]) == model_store / "retrained-1" and args["progress"] == "jsonl"
    coco = json.loads(Path(args["data"]).read_text())
    assert [i["file_name"] for i in coco["images"]] == [image.image_path.as_posix()]
    assert (Path(args["images"]) / coco["images"][0]["file_name"]).is_file()
    assert len(coco["annotations"]) == 3
    assert window.models.selector.currentText() == "retrained-1"  # the user said yes to switching
    assert dialog.plot.series["loss"] and dialog.bar.value() == 1000


def test_killing_the_trainer_leaves_the_editor_working_and_cells_intact(
        window, review_current, qtbot, tmp_path):
    image = review_current(window)
    before = [(i.id, i.class_name, i.reviewed) for i in image.instances]
    window.models.cli_command, _seen = fake_cli(tmp_path, hang=True)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.start()
    qtbot.waitUntil(lambda: bool(dialog.plot.series["loss"]), timeout=10000)
    with qtbot.waitSignal(dialog.process.finished, timeout=10000):
        dialog.process.kill()
    assert not dialog.outcome.ok
    assert [(i.id, i.class_name, i.reviewed) for i in image.instances] == before
    window.select_cells([image.instances[0].id], center=False)
    window.review.set_class("monocyte")  # still editing
    assert image.instances[0].class_name == "monocyte"
    assert window.models.selector.currentText() == "fake-model"


def test_cancelling_a_retrain_removes_its_unfinished_model_folder(window, review_current, qtbot, tmp_path,
                                                                 model_store):
    """Before, Cancel training left the run's folder of checkpoints in the model store: not listed, so
    never seen, but tens of MB a try. Removed once the trainer has exited; the model store keeps the rest."""
    review_current(window)
    window.models.cli_command, _seen = fake_cli(tmp_path, hang=True)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.name.setText("cancelled-run")
    dialog.start_button.click()
    qtbot.waitUntil(lambda: (model_store / "cancelled-run" / "checkpoints" / "last.weights.h5").is_file(), timeout=10000)
    qtbot.waitUntil(lambda: bool(dialog.plot.series["loss"]), timeout=10000)
    with qtbot.waitSignal(dialog.process.finished, timeout=10000):
        dialog.cancel_button.click()
    assert not (model_store / "cancelled-run").exists()
    assert sorted(p.name for p in model_store.iterdir()) == ["fake-model"]
    assert "cancelled" in dialog.eta.text() and "(3 MB) were removed" in dialog.eta.text()
    assert dialog.start_button.isEnabled()
    # the trainer's own stop message, shown in the log: before, "checkpoint saved in …/cancelled-run/
    # checkpoints; continue with --resume", a folder just removed (and no --resume in the app)
    assert "training stopped during epoch 1; no model was written" in dialog.log.toPlainText()
    assert "resume" not in dialog.log.toPlainText() + dialog.eta.text()


def test_nothing_to_train_on_disables_start(make_window, smears):
    window = make_window()
    window.files.open([smears])
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert "0 images" in dialog.summary.text() and not dialog.start_button.isEnabled()


def test_keep_of_the_current_model_is_auto_by_default_and_passed_when_chosen(window, review_current, tmp_path):
    """Auto leaves the share to the trainer's adapt recipe; a chosen share goes to `train --keep-start`; a new
    model has nothing to keep."""
    review_current(window)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert dialog.start_from.currentData() == "adapt" and dialog.keep_start.isEnabled()
    assert dialog.keep_start.text().startswith("Auto")
    assert "--keep-start" not in dialog.request(tmp_path / "auto").args()
    dialog.keep_start.setValue(50)
    args = dialog.request(tmp_path / "half").args()
    assert args[args.index("--keep-start") + 1] == "0.5"
    dialog.keep_start.setValue(0)
    args = dialog.request(tmp_path / "none").args()
    assert args[args.index("--keep-start") + 1] == "0"
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("new"))
    assert not dialog.keep_start.isEnabled() and "--keep-start" not in dialog.request(tmp_path / "new").args()


def test_the_cell_classifiers_part_is_chosen_where_the_current_model_has_one(
        window, review_current, model_store, tmp_path):
    """Default (auto) adds no flag; "whole" and "left out" reach `bloodview train`; a model without a
    cell classifier, or a new model, offers no choice."""
    review_current(window)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert not dialog.classifier.isEnabled()  # the fake model names cells with its detector alone
    assert "--classifier-adapt" not in dialog.request(tmp_path / "plain").args()
    dialog.close()

    info = json.loads((model_store / "fake-model" / "model.json").read_text(encoding="utf-8"))
    info["cell_classifier"] = {"backbone": "mobilenetv3large", "class_names": ["ig", "monocyte"], "input_size": 224,
                               "pixel_size_um": 0.146}
    (model_store / "fake-model" / "model.json").write_text(json.dumps(info), encoding="utf-8")
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert dialog.classifier.isEnabled() and dialog.classifier.currentData() == "auto"
    args = dialog.request(tmp_path / "auto").args()
    assert "--classifier-adapt" not in args and "--no-cell-classifier" not in args
    dialog.classifier.setCurrentIndex(dialog.classifier.findData("whole"))
    args = dialog.request(tmp_path / "whole").args()
    assert args[args.index("--classifier-adapt") + 1] == "whole"
    dialog.classifier.setCurrentIndex(dialog.classifier.findData("none"))
    assert "--no-cell-classifier" in dialog.request(tmp_path / "none").args()
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("new"))
    assert not dialog.classifier.isEnabled() and "--no-cell-classifier" not in dialog.request(tmp_path / "new").args()


def test_adapting_the_classes_only_is_offered_where_the_classifier_can_learn_alone(
        window, review_current, model_store, tmp_path):
    """"Adapt … cell classes only" needs a cell classifier with its replay file; it runs `train --init
    --classes-only` with no schedule, share to keep or classifier choice of its own."""
    from bloodview.gui.dialogs.retrain_choices import CLASSES_ONLY_NOTE

    review_current(window)
    path = model_store / "fake-model" / "model.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    classifier = {"backbone": "mobilenetv3large", "class_names": ["ig", "monocyte"], "input_size": 224,
                  "pixel_size_um": 0.146}
    for entry, offered in ((None, False), (classifier, False),
                           ({**classifier, "replay_file": "cell_classifier_replay.npz"}, True)):
        info["cell_classifier"] = entry
        path.write_text(json.dumps(info), encoding="utf-8")
        window.models.retrain()
        dialog = window.models.retrain_dialog
        assert (dialog.start_from.findData("classes") >= 0) == offered, entry
        if not offered:
            dialog.close()
    assert dialog.start_from.currentData() == "adapt"  # still the default
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("classes"))
    assert not (dialog.epochs.isEnabled() or dialog.keep_start.isEnabled() or dialog.classifier.isEnabled())
    assert dialog.schedule_note.text() == CLASSES_ONLY_NOTE and not dialog.schedule_note.isHidden()
    assert "no epochs" in dialog.plot.empty_text  # no loss curve will come: the plot says why
    args = dialog.request(tmp_path / "classes").args()
    assert "--classes-only" in args and Path(args[args.index("--init") + 1]) == model_store / "fake-model"
    assert not {"--epochs", "--steps-per-epoch", "--keep-start", "--classifier-adapt", "--backbone"} & set(args)
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("adapt"))
    assert dialog.schedule_note.text() != CLASSES_ONLY_NOTE and "--classes-only" not in dialog.request(
        tmp_path / "adapt").args()
    assert "once training runs" in dialog.plot.empty_text


def test_a_pixel_size_typed_into_the_row_and_entered_is_given_and_starts_nothing(
        make_window, zheng_dir, tmp_path, review_current, model_store, qtbot):
    """As a technician types it: click into the box (it says "none") and type 0.17, then Enter. Before,
    the box kept "auto" (typing after it made no number) and Enter reached Start, the dialog's default
    button: a full retrain without the pixel size, its cell classifier left out."""
    from PyQt6.QtCore import Qt

    from tests.gui.test_model_switch import crops_window

    window = crops_window(make_window, zheng_dir, tmp_path, review_current, model_store, count=2)
    window.models.cli_command, seen = fake_cli(tmp_path)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert dialog.start_button.isEnabled() and not dialog.scale_row.isHidden()  # adapt: warned, not stopped
    assert dialog.scale_spin.text() == "none"
    dialog.scale_spin.setFocus()
    qtbot.mouseClick(dialog.scale_spin.lineEdit(), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.scale_spin.lineEdit(), "0.17")
    assert dialog.scale_spin.value() == pytest.approx(0.17) and dialog.scale_button.isEnabled()
    qtbot.keyClick(dialog.scale_spin.lineEdit(), Qt.Key.Key_Return)
    qtbot.wait(50)
    assert not dialog.process.is_running() and not seen.exists(), "Enter in the box started training"
    assert [i.pixel_size.um_per_pixel for i in window.session.dataset.images] == [0.17, 0.17]
    assert dialog.scale_row.isHidden() and "given to 2 images" in dialog.eta.text()
