"""The model choice: remembered across restarts, and a caution before switching to a model that
learnt from very few cells or was never validated (numbers from its model.json)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from tests.gui.conftest import make_fake_model, new_window

pytestmark = pytest.mark.gui

REPO = str(Path(__file__).resolve().parents[2])

# A stand-in for `bloodview train` that writes model.json with the summary the real trainer writes
# (bloodview.model.train: "train"/"val" from data.data_summary), for TRAIN cells and VAL images.
FAKE_TRAINER = """
import json, sys
from pathlib import Path
sys.path.insert(0, %(repo)r)
from bloodview.model.store import ModelInfo, write_model_info
def arg(name): return sys.argv[sys.argv.index(name) + 1]
coco = json.loads(Path(arg("--data")).read_text())
out = Path(arg("--out")); out.mkdir(parents=True)
summary = {"train": {"images": len(coco["images"]), "instances": len(coco["annotations"]) * %(scale)d},
           "val": {"images": %(val)d, "instances": %(val)d}}
if %(adapted)r:  # as `train --init` records it (the Retrain dialog's default mode passes --init)
    summary.update(init=arg("--init"), recipe="adapt")
write_model_info(ModelInfo(name=out.name, backbone="resnet50", class_names=["neutrophil"], config={},
                           training=summary, final_losses={"loss": 0.5}, date="2026-11-25"), out)
print(json.dumps({"event": "done", "model_dir": str(out), "final_losses": {"loss": 0.5}}), flush=True)
"""


def _retrain(window, qtbot, tmp_path, name, scale=1, val=0, adapted=False):
    script = tmp_path / f"trainer_{name}.py"
    script.write_text(textwrap.dedent(FAKE_TRAINER % {"repo": REPO, "scale": scale, "val": val, "adapted": adapted}))
    window.models.cli_command = [sys.executable, str(script)]
    questions = []
    real = window.prompts.ask
    window.prompts.ask = lambda parent, key, title, text, default: (
        questions.append((key, text, default)) or real(parent, key, title, text, default))
    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.name.setText(name)
    with qtbot.waitSignal(dialog.process.finished, timeout=20000):
        dialog.start()
    assert dialog.outcome.ok, dialog.outcome.message
    window.prompts.ask = real
    return dialog, [q for q in questions if q[0] == "switch_model"]


def test_a_model_trained_on_three_cells_without_validation_is_offered_with_a_caution(
        window, review_current, qtbot, tmp_path):
    review_current(window)  # 3 cells checked in 1 image
    dialog, asked = _retrain(window, qtbot, tmp_path, "tiny")
    assert len(asked) == 1
    _key, text, default = asked[0]
    assert "Caution" in text and "only 3 cell(s) in 1 image(s)" in text
    assert "0 validation images" in text
    assert default is False  # Enter keeps the model in use
    assert window.models.selector.currentText() == "fake-model"
    assert "Kept fake-model" in window.status_label.text()
    assert "Caution: the new model learnt from only 3 cell(s)" in dialog.eta.text()


def test_a_model_with_enough_cells_and_validation_is_offered_plainly(window, review_current, qtbot,
                                                                     tmp_path):
    review_current(window)
    dialog, asked = _retrain(window, qtbot, tmp_path, "solid", scale=100, val=40)  # 300 cells, 40 val
    _key, text, default = asked[0]
    assert "Caution" not in text and default is True
    assert "300 training cells in 1 images, 40 validation images" in text  # the model's own numbers
    assert window.models.selector.currentText() == "solid"
    assert "Caution" not in dialog.eta.text()


def test_a_model_adapted_from_a_trained_one_is_judged_by_what_adapting_needs(window, review_current, qtbot,
                                                                             tmp_path):
    """Adapted (train --init): 10 corrected cells already teach another lab (docs/adaptation.md), so 30
    cells with held-out images get no caution; 3 still do, saying what adapting needs."""
    review_current(window)  # 3 cells checked in 1 image
    dialog, asked = _retrain(window, qtbot, tmp_path, "adapted-30", scale=10, val=2, adapted=True)
    _key, text, default = asked[0]
    assert "Caution" not in text and default is True
    assert window.models.selector.currentText() == "adapted-30"
    window.models.selector.setCurrentIndex(window.models.selector.findText("fake-model"))
    dialog, asked = _retrain(window, qtbot, tmp_path, "adapted-3", val=2, adapted=True)
    _key, text, default = asked[0]
    assert "was adapted from only 3 cell(s) in 1 image(s)" in text and "hundreds" not in text
    assert default is False and "Caution: the new model was adapted from only 3" in dialog.eta.text()


def test_the_chosen_model_is_remembered_after_a_restart(make_window, model_store, qtbot, tmp_path):
    make_fake_model(model_store, "second-model")
    window = make_window()
    names = [window.models.selector.itemText(i) for i in range(window.models.selector.count())]
    assert names[0] != "second-model"  # a fresh start picks the first model
    window.models.selector.setCurrentIndex(names.index("second-model"))
    window.close()

    again = new_window(qtbot, tmp_path)  # the same settings file: as after a restart
    assert again.models.selector.currentText() == "second-model"
    assert again.models.model_dir() == model_store / "second-model"


def test_a_remembered_model_that_was_deleted_falls_back_to_the_first_and_says_so(make_window, model_store, qtbot,
                                                                     tmp_path):
    import shutil

    gone = make_fake_model(model_store, "deleted-later")
    window = make_window()
    window.models.selector.setCurrentIndex(window.models.selector.findText("deleted-later"))
    window.close()
    shutil.rmtree(gone)
    again = new_window(qtbot, tmp_path)
    assert again.models.selector.currentText() == "fake-model"
    assert again.models.selector.count() == 1
    # said, not swapped silently: yesterday's counts came from another model than today's would
    qtbot.waitUntil(lambda: any(title == "Model not found" for title, _ in again.prompts.messages), timeout=2000)
    text = next(text for title, text in again.prompts.messages if title == "Model not found")
    assert "deleted-later" in text and "Detection now uses fake-model" in text


def _installs(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """An older install's shipped default and this install's (``$BLOODVIEW_DEFAULT_MODEL``, as the tests
    stand in for the shipped one), each at ``<install>/resources/models/default``."""
    old = make_fake_model(tmp_path / "venv-1.3" / "resources" / "models", "default")
    new = make_fake_model(tmp_path / "venv-1.4" / "resources" / "models", "default")
    monkeypatch.setenv("BLOODVIEW_DEFAULT_MODEL", str(new))
    return old, new


def _remember(tmp_path, model: Path) -> None:
    """The settings an earlier start (of this or an older version) left: the model chosen last by its folder."""
    (tmp_path / "settings.ini").write_text(f"[General]\nmodel={model}\n")


@pytest.mark.parametrize("old_install", ["still there", "removed"])
def test_the_default_remembered_by_another_install_is_this_installs_default_without_a_word(
        model_store, qtbot, tmp_path, monkeypatch, old_install):
    """Reinstalled in a new venv (the old one kept for a while, or removed), or a second checkout: the
    setting names the other install's resources/models/default. Before, an old install still there
    gave "Model not found: The model chosen last, default, is not in the model store any more"."""
    import shutil

    old, new = _installs(tmp_path, monkeypatch)
    _remember(tmp_path, old)
    if old_install == "removed":
        shutil.rmtree(tmp_path / "venv-1.3")
    window = new_window(qtbot, tmp_path)
    qtbot.wait(50)  # the "Model not found" message would come once the window shows
    assert window.models.model_dir() == new and window.models.selector.currentText() == "default"
    assert not [m for m in window.prompts.messages if m[0] == "Model not found"]
    assert "not found" not in window.status_label.text()
    assert window.settings.value("model") == str(new), "remembered as this install's default from now on"
    window.acts["refresh_models"].trigger()  # Model → Reload model list finds it the same
    assert window.models.model_dir() == new
    assert not [m for m in window.prompts.messages if m[0] == "Model not found"]


def test_a_model_of_the_users_store_that_went_is_said_even_when_named_like_the_default(
        model_store, qtbot, tmp_path, monkeypatch):
    """Only the shipped default moves with the app; a model the lab trained and named "default" is theirs,
    remembered by its folder, and its loss is said (before, a same-named model in use hid it)."""
    _installs(tmp_path, monkeypatch)
    _remember(tmp_path, model_store / "default")  # deleted since
    window = new_window(qtbot, tmp_path)
    qtbot.waitUntil(lambda: any(title == "Model not found" for title, _ in window.prompts.messages), timeout=2000)
    text = next(text for title, text in window.prompts.messages if title == "Model not found")
    assert str(model_store / "default") in text
    assert window.settings.value("model") == str(model_store / "default"), "chosen again once it is back"


def test_the_remembered_default_is_said_lost_when_this_install_ships_none(model_store, qtbot, tmp_path):
    """No default model here (model_store's $BLOODVIEW_DEFAULT_MODEL names no model): detection counts with
    the lab's own model instead, which is worth a word."""
    _remember(tmp_path, tmp_path / "venv-1.3" / "resources" / "models" / "default")
    window = new_window(qtbot, tmp_path)
    qtbot.waitUntil(lambda: any(title == "Model not found" for title, _ in window.prompts.messages), timeout=2000)
    assert window.models.selector.currentText() == "fake-model"
