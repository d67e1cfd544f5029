"""Model → Retrain… adapts the current model, then shows current vs new on the held-out images.

A stand-in `bloodview` (one script, run as the dialog's QProcesses) answers both
commands: `train` prints the progress lines of a recipe it chose (3 epochs of
2 steps) and writes a model folder; `evaluate` writes a REAL report folder with
the real `bloodview evaluate --pred` (tests/gui/evaluation_reports.py), scoring
the current model as wrong on every class and the new one as right. No network
is trained.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from bloodview.gui.comparison import too_few_cells_text
from bloodview.gui.dialogs.retrain_choices import ADAPT_NOTE
from tests.gui.conftest import smear_folder

pytestmark = pytest.mark.gui

REPO = str(Path(__file__).resolve().parents[2])

FAKE_BLOODVIEW = """
import json, sys
from pathlib import Path
sys.path.insert(0, %(repo)r)
def arg(name): return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None
calls = Path(%(calls)r)
calls.write_text(json.dumps((json.loads(calls.read_text()) if calls.exists() else []) + [sys.argv[1:]]))
def say(**o): print(json.dumps(o), flush=True)
if sys.argv[1] == "train":
    say(event="start", epochs=3, steps=2)
    for e in (1, 2, 3):
        for s in (1, 2):
            say(event="step", epoch=e, epochs=3, step=s, steps=2, losses={"loss": 2.0 / (e + s)}, eta_s=1)
        say(event="epoch", epoch=e, epochs=3, losses={"loss": 1.0 / e}, val_losses=None, eta_s=0)
    from bloodview.model.store import ModelInfo, write_model_info
    out = Path(arg("--out")); out.mkdir(parents=True)
    write_model_info(ModelInfo(name=out.name, backbone="resnet50", class_names=["neutrophil"], config={},
                               final_losses={"loss": 0.3}, date="2026-12-01"), out)
    say(event="done", model_dir=str(out), final_losses={"loss": 0.3})
elif sys.argv[1] == "evaluate":
    if %(fail)r:
        print("bloodview: error: the model folder has no weights", file=sys.stderr)
        sys.exit(1)
    from tests.gui.evaluation_reports import report_folder
    current = Path(arg("--model")).name == "fake-model"
    report_folder(Path(arg("--gt")), Path(arg("--out")), wrong=current != %(worse)r, images=Path(arg("--images")))
"""


def fake_cli(tmp_path: Path, fail: bool = False, worse: bool = False) -> tuple[list[str], Path]:
    """``worse``: the new model gets every class wrong and the current one right, not the other way."""
    calls = tmp_path / "cli_calls.json"
    script = tmp_path / "fake_bloodview.py"
    script.write_text(textwrap.dedent(FAKE_BLOODVIEW % {"repo": REPO, "calls": str(calls), "fail": fail,
                                                        "worse": worse}))
    return [sys.executable, str(script)], calls


@pytest.fixture
def reviewed(make_window, tmp_path, bccd_dir, review_current):
    """``reviewed(count, val=())`` -> a window with ``count`` BCCD fields, every cell confirmed."""
    def make(count: int, val: tuple[int, ...] = ()):
        window = make_window()
        assert window.files.open([smear_folder(bccd_dir, tmp_path / f"smears{count}", count, corrupt=False)])
        for index in range(count):
            window.session.set_current(index)
            review_current(window)
        for index in val:  # as if imported with split "val"
            window.session.dataset.images[index].split = "val"
        return window
    return make


def watch_switch_prompt(window) -> list[tuple[str, bool, int]]:
    """(text, default, comparison table rows at that moment) of each "switch to it?" question."""
    asked = []
    real = window.prompts.ask

    def ask(parent, key, title, text, default):
        if key == "switch_model":
            dialog = window.models.retrain_dialog
            asked.append((text, default, dialog.comparison.table.rowCount()))
        return real(parent, key, title, text, default)
    window.prompts.ask = ask
    return asked


def run_retrain(window, qtbot, name: str, timeout: int = 30000):
    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.name.setText(name)
    with qtbot.waitSignal(dialog.modelTrained, timeout=timeout):
        dialog.start()
    return dialog


def test_adapt_is_the_default_and_leaves_the_schedule_to_the_trainer(window, review_current, model_store, tmp_path):
    review_current(window)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert dialog.start_from.currentIndex() == 0 and dialog.start_from.currentData() == "adapt"
    assert dialog.start_from.currentText() == "Adapt the current model (fake-model)"
    assert not dialog.epochs.isEnabled() and not dialog.steps.isEnabled()
    assert not dialog.schedule_note.isHidden() and "fits a coffee break" in dialog.schedule_note.text()
    assert dialog.schedule_note.text() == ADAPT_NOTE
    args = dialog.request(tmp_path / "adapt").args()
    assert "--epochs" not in args and "--steps-per-epoch" not in args
    assert args[args.index("--init") + 1] == str(model_store / "fake-model")

    dialog.start_from.setCurrentIndex(dialog.start_from.findData("finetune"))
    assert dialog.epochs.isEnabled() and dialog.steps.isEnabled() and dialog.schedule_note.isHidden()
    args = dialog.request(tmp_path / "own").args()
    assert args[args.index("--epochs") + 1] == "10" and args[args.index("--steps-per-epoch") + 1] == "100"
    assert "--init" in args

    dialog.start_from.setCurrentIndex(dialog.start_from.findData("new"))
    assert dialog.backbone.isEnabled() and dialog.epochs.isEnabled()
    assert "--init" not in dialog.request(tmp_path / "new").args()


def test_after_training_both_models_are_scored_on_the_held_out_images_before_the_offer(
        reviewed, qtbot, tmp_path, model_store):
    window = reviewed(3, val=(0, 2))
    window.models.cli_command, calls = fake_cli(tmp_path)
    asked = watch_switch_prompt(window)
    window.models.retrain()
    assert "2 of them (6 cells; the images marked val) are held out" in window.models.retrain_dialog.summary.text()
    dialog = run_retrain(window, qtbot, "adapted")

    train, current, new = json.loads(calls.read_text())
    assert train[0] == "train" and "--epochs" not in train and "--steps-per-epoch" not in train
    assert dialog.plot.epochs == 3  # from the trainer's start line
    coco = json.loads(Path(train[train.index("--data") + 1]).read_text())
    names = [Path(p).name for p in sorted(window.session.image_path(i) for i in (0, 2))]
    assert sorted(Path(i["file_name"]).name for i in coco["images"] if i.get("split") == "val") == names
    assert current[current.index("--model") + 1] == str(model_store / "fake-model")
    assert new[new.index("--model") + 1] == str(model_store / "adapted")
    held = json.loads(Path(new[new.index("--gt") + 1]).read_text())
    assert len(held["images"]) == 2 and len(held["annotations"]) == 6

    view = dialog.comparison
    assert view.cell_text("held-out cells", "current model") == "6"
    assert view.cell_text("classification accuracy", "current model") == "0.000"
    assert view.cell_text("classification accuracy", "new model") == "1.000"
    assert view.cell_text("classification accuracy", "difference") == "+1.000"
    assert view.verdict.text().startswith("The new model is better on 6 held-out cells")
    (text, default, rows_then), = asked
    assert rows_then == 5  # the table was on screen before the question
    assert view.verdict.text() in text and default is True
    assert window.models.selector.currentText() == "adapted"


def test_too_few_held_out_cells_are_not_compared(reviewed, qtbot, tmp_path):
    window = reviewed(5)  # a fifth of 5 images: 1 held out, 3 cells
    window.models.cli_command, calls = fake_cli(tmp_path)
    asked = watch_switch_prompt(window)
    dialog = run_retrain(window, qtbot, "adapted-few")
    assert [c[0] for c in json.loads(calls.read_text())] == ["train"]  # nothing evaluated
    assert dialog.comparison.verdict.text() == too_few_cells_text(3)
    assert dialog.comparison.table.isHidden()
    (text, _default, _rows), = asked
    assert "Too few held-out cells (3) to compare the models; judge the new model on your own images" in text


def test_a_failed_evaluation_is_said_and_the_new_model_is_still_offered(reviewed, qtbot, tmp_path):
    window = reviewed(3, val=(1, 2))
    window.models.cli_command, calls = fake_cli(tmp_path, fail=True)
    asked = watch_switch_prompt(window)
    cells_before = [[(c.id, c.class_name) for c in i.instances] for i in window.session.dataset.images]
    dialog = run_retrain(window, qtbot, "adapted-unscored")
    assert [c[0] for c in json.loads(calls.read_text())] == ["train", "evaluate", "evaluate"]
    message = dialog.comparison.verdict.text()
    assert message.startswith("Could not compare the models") and "no weights" in message
    assert dialog.comparison.table.isHidden() and not dialog.comparison.isHidden()
    assert len(asked) == 1 and window.models.selector.currentText() == "adapted-unscored"
    assert dialog.start_button.isEnabled() and not dialog.cancel_button.isEnabled()
    assert [[(c.id, c.class_name) for c in i.instances] for i in window.session.dataset.images] == cells_before


def test_a_new_model_that_scores_worse_is_offered_with_no_as_the_default(reviewed, qtbot, tmp_path):
    window = reviewed(3, val=(0, 1))
    window.models.cli_command, _calls = fake_cli(tmp_path, worse=True)
    asked = watch_switch_prompt(window)
    dialog = run_retrain(window, qtbot, "adapted-worse")
    assert dialog.comparison.cell_text("classification accuracy", "difference") == "-1.000"
    (text, default, _rows), = asked
    assert "The new model is worse on 6 held-out cells" in text and default is False
    assert window.models.selector.currentText() == "fake-model"  # kept


def test_a_cancelled_comparison_says_so_and_offers_the_new_model_uncompared(reviewed, qtbot, tmp_path):
    """Before, Cancel during the comparison read "Could not compare the models … The evaluation was
    cancelled." twice, as if something had failed, and the button still said "Cancel training"."""
    window = reviewed(3, val=(0, 1))
    window.models.cli_command, _calls = fake_cli(tmp_path)
    asked = watch_switch_prompt(window)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.name.setText("adapted-cancelled")
    labels = []

    def cancel_at_first(_job):
        labels.append(dialog.cancel_button.text())
        if len(labels) == 1:
            dialog.cancel()
    dialog.evaluations.jobStarted.connect(cancel_at_first)
    with qtbot.waitSignal(dialog.modelTrained, timeout=30000):
        dialog.start()
    assert labels[0] == "Cancel comparison"
    assert dialog.comparison.verdict.text() == ("The comparison was cancelled; judge the new model on your "
                                                "own images.")
    assert dialog.comparison.table.isHidden() and dialog.comparison.comparison is None
    assert dialog.cancel_button.text() == "Cancel training" and not dialog.cancel_button.isEnabled()
    (text, _default, _rows), = asked
    assert "The comparison was cancelled" in text
