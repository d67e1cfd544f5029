"""Switching models around a retrain: the Retrain dialog adapts the model in use, a newly chosen model
warms up in the background, and a model whose folder went is said, not swapped silently
(bloodview.gui.model_choice)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from bloodview.gui.dialogs.retrain_choices import fresh_model_name
from tests.gui.conftest import make_fake_model, new_window
from tests.gui.test_retrain_dialog import fake_cli
from tests.gui.test_warm_up import SlowWarmPredictor

pytestmark = pytest.mark.gui


def test_a_second_retrain_from_the_open_dialog_adapts_the_model_switched_to(
        window, review_current, qtbot, tmp_path, model_store):
    """The loop: retrain, say yes to the new model, retrain again from the dialog still open. Before, the
    second run adapted (and would have compared against) the first model, under "Adapt the current model",
    and Start first refused the name it had just used itself."""
    review_current(window)
    window.models.cli_command, seen = fake_cli(tmp_path)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.name.setText("round-1")
    with qtbot.waitSignal(dialog.process.finished, timeout=20000):
        dialog.start()
    assert window.models.selector.currentText() == "round-1"  # yes to switching
    assert dialog.current_model == model_store / "round-1"
    assert dialog.start_from.currentText() == "Adapt the current model (round-1)"
    assert dialog.name.text() != "round-1" and not (model_store / dialog.name.text()).exists()

    with qtbot.waitSignal(dialog.process.finished, timeout=20000):
        dialog.start()  # nothing changed by hand: Start just works
    assert dialog.outcome.ok, dialog.outcome.message
    assert Path(json.loads(seen.read_text())["init"]) == model_store / "round-1"


def test_an_idle_dialog_follows_the_selector_and_a_running_one_keeps_its_start(
        window, review_current, qtbot, tmp_path, model_store):
    make_fake_model(model_store, "second-model")
    window.models.refresh_models()
    review_current(window)
    selector = window.models.selector
    window.models.cli_command, seen = fake_cli(tmp_path, hang=True)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("finetune"))
    selector.setCurrentIndex(selector.findText("second-model"))
    assert dialog.start_from.currentText() == "Fine-tune second-model with my own schedule"  # the choice kept
    args = dialog.request(tmp_path / "check").args()
    assert Path(args[args.index("--init") + 1]) == model_store / "second-model"

    dialog.start()
    qtbot.waitUntil(seen.exists, timeout=10000)
    selector.setCurrentIndex(selector.findText("fake-model"))  # while it trains
    assert dialog.current_model == model_store / "second-model", "a running retrain keeps what it started from"
    with qtbot.waitSignal(dialog.process.finished, timeout=10000):
        dialog.cancel()
    assert dialog.current_model == model_store / "fake-model"
    assert dialog.start_from.currentText() == "Fine-tune fake-model with my own schedule"


def test_retrain_opened_again_replaces_an_idle_dialog(window, review_current):
    """One dialog: the offer to switch reads its verdict from Model → Retrain…'s dialog, not a stale one."""
    review_current(window)
    window.models.retrain()
    first = window.models.retrain_dialog
    window.models.retrain()
    assert window.models.retrain_dialog is not first and first.isHidden()


def test_a_fresh_name_is_never_one_the_store_has(tmp_path):
    now = dt.datetime(2026, 12, 7, 14, 30)
    assert fresh_model_name(tmp_path, now) == "bloodview-20261207-1430"
    (tmp_path / "bloodview-20261207-1430").mkdir()  # a retrain a minute ago, or a cancelled one's checkpoints
    (tmp_path / "bloodview-20261207-1430-2").mkdir()
    assert fresh_model_name(tmp_path, now) == "bloodview-20261207-1430-3"


@pytest.fixture
def slow(window):
    SlowWarmPredictor.events = []
    window.models.runner.predictor_factory = SlowWarmPredictor
    window.models.warm.predictor_factory = SlowWarmPredictor
    window.models.warm_up_enabled = True
    return window


def test_a_model_chosen_during_the_warm_up_is_warmed_up_after_it(slow, qtbot, model_store):
    """Before, only the model chosen at start-up loaded in the background: switching to a new model (after a
    retrain) made the next Detect wait for TensorFlow's load again."""
    second = make_fake_model(model_store, "second-model")
    third = make_fake_model(model_store, "third-model")
    slow.models.refresh_models()
    selector = slow.models.selector
    selector.setCurrentIndex(selector.findText("fake-model"))
    warmed = []
    slow.models.warm.finished.connect(lambda model_dir, _s, _e: warmed.append(model_dir))
    assert slow.models.warm_up()
    selector.setCurrentIndex(selector.findText("second-model"))  # while fake-model loads
    qtbot.waitUntil(lambda: len(warmed) == 2, timeout=5000)
    assert warmed == [str(model_store / "fake-model"), str(second)]
    selector.setCurrentIndex(selector.findText("third-model"))  # nothing loading: at once
    qtbot.waitUntil(lambda: len(warmed) == 3, timeout=5000)
    assert warmed[2] == str(third)
    selector.setCurrentIndex(selector.findText("fake-model"))
    qtbot.wait(50)
    assert not slow.models.warm.is_running() and len(warmed) == 3, "once per model and session"


def test_a_selected_model_deleted_meanwhile_is_said_at_refresh(window, model_store, review_current):
    gone = make_fake_model(model_store, "lab-model")
    window.models.refresh_models()
    selector = window.models.selector
    selector.setCurrentIndex(selector.findText("lab-model"))
    review_current(window)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    shutil.rmtree(gone)
    window.acts["refresh_models"].trigger()
    title, text = window.prompts.messages[-1]
    assert title == "Model not found" and "lab-model" in text and "uses fake-model" in text
    assert "lab-model not found" in window.status_label.text()
    assert dialog.current_model == model_store / "fake-model", "the dialog does not adapt a model that is gone"


def test_the_shipped_default_moved_with_the_app_is_not_an_alarm(make_window, model_store, qtbot, tmp_path,
                                                                monkeypatch):
    """The shipped default after the app was installed elsewhere: another install's folder, this one's model
    (more cases in test_model_choice.py)."""
    here = make_fake_model(tmp_path / "new-install" / "resources" / "models", "default")
    monkeypatch.setenv("BLOODVIEW_DEFAULT_MODEL", str(here))
    settings = tmp_path / "settings.ini"
    settings.write_text(f"[General]\nmodel={tmp_path / 'old-install' / 'resources' / 'models' / 'default'}\n")
    window = new_window(qtbot, tmp_path)
    qtbot.wait(20)
    assert window.models.model_dir() == here
    assert not [m for m in window.prompts.messages if m[0] == "Model not found"]


def test_reviewed_images_whose_files_went_missing_are_left_out_and_said(
        make_window, tmp_path, bccd_dir, review_current, qtbot, model_store):
    """Before, they were written into train.json and the trainer stopped at the first ("image file not
    found") after loading TensorFlow; the other corrections taught nothing."""
    from tests.gui.conftest import smear_folder

    window = make_window()
    assert window.files.open([smear_folder(bccd_dir, tmp_path / "fields", 2, corrupt=False)])
    for index in (0, 1):
        window.session.set_current(index)
        review_current(window)
    kept, gone = (window.session.image_path(i) for i in (0, 1))
    gone.unlink()  # a share disconnected, a file moved after it was reviewed
    window.models.cli_command, seen = fake_cli(tmp_path)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert "1 images with 3 cells" in dialog.summary.text()
    assert "1 reviewed images are left out: their files are missing" in dialog.summary.text()
    with qtbot.waitSignal(dialog.process.finished, timeout=20000):
        dialog.start()
    assert dialog.outcome.ok, dialog.outcome.message
    coco = json.loads(Path(json.loads(seen.read_text())["data"]).read_text())
    assert [Path(i["file_name"]).name for i in coco["images"]] == [kept.name]


def test_a_file_gone_after_the_dialog_opened_is_left_out_at_start(window, review_current, qtbot, tmp_path):
    review_current(window)  # the only reviewed image
    window.models.cli_command, seen = fake_cli(tmp_path)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert dialog.start_button.isEnabled()
    for image in window.session.dataset.images:
        if image.instances:
            window.session.dataset.resolve_image(image).unlink()
    dialog.start()
    assert not dialog.process.is_running() and not seen.exists()
    assert "Nothing to train on" in dialog.eta.text() and "files are missing" in dialog.summary.text()


def crops_window(make_window, zheng_dir, tmp_path, review_current, model_store, count=3):
    """A lab's crops of one white cell (Zheng: no red cells, no pixel size), cells confirmed by a person,
    and fake-model with a cell classifier that can adapt alone."""
    folder = tmp_path / "crops"
    folder.mkdir()
    for source in sorted(zheng_dir.glob("*.bmp"))[:count]:
        shutil.copy(source, folder / source.name)
    window = make_window()
    assert window.files.open([folder])
    for index in range(count):
        window.session.set_current(index)
        review_current(window)
    path = model_store / "fake-model" / "model.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    info["cell_classifier"] = {"backbone": "mobilenetv3large", "class_names": ["neutrophil", "lymphocyte"],
                               "input_size": 224, "pixel_size_um": 0.146, "replay_file": "replay.npz"}
    path.write_text(json.dumps(info), encoding="utf-8")
    return window


def test_crops_without_a_pixel_size_are_found_before_start_and_given_one_there(
        make_window, zheng_dir, tmp_path, review_current, model_store, qtbot):
    """Before, a full retrain of such crops trained the detector for minutes and ended without a cell
    classifier (said only afterwards), and adapting the classes only failed after loading TensorFlow. Now
    the dialog names them before Start and takes their pixel size in place."""
    window = crops_window(make_window, zheng_dir, tmp_path, review_current, model_store)
    window.models.cli_command, seen = fake_cli(tmp_path)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert dialog.start_from.currentData() == "adapt" and dialog.classifier.currentData() == "auto"
    text = dialog.summary.text()
    assert "3 of 3 have no pixel size" in text and "the new model would have no cell classifier" in text
    assert "Model → Pixel size…" in text
    assert not dialog.scale_row.isHidden() and not dialog.scale_button.isEnabled()  # "auto" given: nothing
    assert dialog.start_button.isEnabled()  # the detector still learns: warned, not stopped
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("classes"))
    assert "adapting the classes stops with nothing to learn from" in dialog.summary.text()
    assert not dialog.start_button.isEnabled()  # could only fail
    dialog.classifier.setCurrentIndex(dialog.classifier.findData("none"))
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("adapt"))
    assert "pixel size" not in dialog.summary.text() and dialog.scale_row.isHidden()  # no classifier: no need
    dialog.classifier.setCurrentIndex(dialog.classifier.findData("auto"))

    dialog.scale_spin.setValue(0.1)
    dialog.scale_button.click()
    assert [(i.pixel_size.um_per_pixel, i.pixel_size.source) for i in window.session.dataset.images] == \
        [(0.1, "given")] * 3
    assert "no pixel size" not in dialog.summary.text() and dialog.scale_row.isHidden()
    assert "given to 3 images" in dialog.eta.text() and window.session.is_dirty()  # saved with the project
    dialog.name.setText("with-classifier")
    with qtbot.waitSignal(dialog.process.finished, timeout=20000):
        dialog.start()
    assert dialog.outcome.ok, dialog.outcome.message
    coco = json.loads(Path(json.loads(seen.read_text())["data"]).read_text())
    assert [image["bloodview"]["pixel_size"]["um_per_pixel"] for image in coco["images"]] == [0.1] * 3  # train reads it


def test_the_projects_pixel_size_given_while_the_dialog_is_open_reaches_it(
        make_window, zheng_dir, tmp_path, review_current, model_store):
    """The note's other way, Model → Pixel size…: before, the open dialog kept the old (no) pixel size and
    passed none to the trainer."""
    window = crops_window(make_window, zheng_dir, tmp_path, review_current, model_store, count=1)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert "1 of 1 have no pixel size" in dialog.summary.text()
    window.scale.set_project_pixel_size(0.12)
    assert "no pixel size" not in dialog.summary.text()
    args = dialog.request(tmp_path / "data").args()
    assert args[args.index("--pixel-size") + 1] == "0.12"


def test_some_crops_without_a_pixel_size_are_counted(make_window, zheng_dir, tmp_path, review_current,
                                                     model_store):
    window = crops_window(make_window, zheng_dir, tmp_path, review_current, model_store, count=2)
    from bloodview.core.measure import SOURCE_RED_CELLS, PixelSize

    window.session.dataset.images[0].set_pixel_size(PixelSize(0.1, SOURCE_RED_CELLS, 12))
    window.models.retrain()
    text = window.models.retrain_dialog.summary.text()
    assert "1 of the 2 training images have no pixel size" in text and "learns nothing from them" in text


def test_an_idle_dialog_trains_on_the_images_opened_since(window, review_current, qtbot, tmp_path, bccd_dir):
    """Before, it kept the images it was opened with: Start trained on the previous folder's cells."""
    from tests.gui.conftest import smear_folder

    review_current(window)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert "1 images with 3 cells" in dialog.summary.text() and dialog.start_button.isEnabled()
    window.prompts.answers["unsaved"] = "Discard"
    assert window.files.open([smear_folder(bccd_dir, tmp_path / "other", 2, corrupt=False)])
    assert dialog.dataset is window.session.dataset
    assert "0 images" in dialog.summary.text() and not dialog.start_button.isEnabled()


def test_closing_during_a_warm_up_starts_no_other_model_on_the_way_out(slow, qtbot, model_store):
    make_fake_model(model_store, "second-model")
    slow.models.refresh_models()
    selector = slow.models.selector
    selector.setCurrentIndex(selector.findText("fake-model"))
    assert slow.models.warm_up()
    selector.setCurrentIndex(selector.findText("second-model"))  # would be next once fake-model is loaded
    slow.close()
    qtbot.wait(100)  # the warm-up's end arrives
    assert not slow.models.warm.is_running()
    assert [name for name, _ in SlowWarmPredictor.events] == ["warm-up starts", "warm-up ends"]


def test_cells_of_a_class_the_model_lacks_are_named_before_start(window, review_current, model_store):
    """`train --init` stops on them after loading TensorFlow, pointing at a flag the dialog does not offer
    (--reinit-heads; seen with a 'smudge' cell among 8 Zheng crops). Red cells and 'WBC' are taken."""
    image = review_current(window)
    window.session.dataset.classes.add("smudge", display_name="Smudge cell")
    for cell, name in zip(image.instances, ("smudge", "rbc", "wbc")):
        cell.class_name = name
    window.models.retrain()
    dialog = window.models.retrain_dialog
    text = dialog.summary.text()
    assert "Cells of classes fake-model does not know: smudge (1). Adapting stops on them" in text
    assert "rbc" not in text.split("does not know")[1] and "wbc" not in text.split("does not know")[1]
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("new"))
    assert "does not know" not in dialog.summary.text()  # a new model learns the data's classes
