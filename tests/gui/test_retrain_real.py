"""The real thing, once: retrain from the menu with `bloodview train`, then detect with it.

Tiny on purpose (two 128 x 96 smears, 1 epoch of 2 steps, the fast backbone): it
proves the whole loop - reviewed cells -> COCO -> QProcess trainer -> model in
the selector -> TensorFlow predictor in the worker thread -> cells merged - not
that the model is any good. About 2-3 minutes on a 2-core CPU, hence slow.

And the lab's way in: crops imported as reviewed cells with no pixel size, given one in the Retrain
dialog, the shipped model's cell classes adapted (`train --classes-only`, 7-15 s of the test's 17-26 s).
"""

from __future__ import annotations

import json
import shutil
import time

import pytest
from PyQt6.QtCore import Qt
from PIL import Image

pytestmark = [pytest.mark.gui, pytest.mark.slow, pytest.mark.timeout(600)]


def test_retrain_then_detect_with_the_new_model(make_window, tmp_path, bccd_dir, qtbot, review_current):
    pytest.importorskip("bloodview.cli.cmd_train")
    folder = tmp_path / "tiny"
    folder.mkdir()
    for index, name in enumerate(("BloodImage_00000.jpg", "BloodImage_00001.jpg")):
        Image.open(bccd_dir / "JPEGImages" / name).resize((128, 96)).save(folder / f"smear{index}.png")
    window = make_window()
    assert window.files.open([folder])
    for index in range(2):  # fake-predicted cells, confirmed by "a person"
        window.session.set_current(index)
        review_current(window)
    # two tiny smears make a model the app cautions against (few cells, no validation images),
    # so its default answer to "switch to it?" is No; the technician here says yes
    window.prompts.answers["switch_model"] = True
    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.name.setText("tiny-retrained")
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("new"))
    dialog.backbone.setCurrentText("mobilenetv3large")
    dialog.epochs.setValue(1)
    dialog.steps.setValue(2)
    dialog.overrides.setText("image_min_dim=128 image_max_dim=128")
    with qtbot.waitSignal(dialog.process.finished, timeout=480_000):
        dialog.start()
    assert dialog.outcome.ok, dialog.outcome.message
    assert window.models.selector.currentText() == "tiny-retrained"
    assert dialog.plot.series["loss"]

    # detect with the real predictor (TensorFlow loads in the worker thread)
    from bloodview.gui.workers.detect_worker import load_predictor

    window.models.runner.predictor_factory = load_predictor
    image = window.session.dataset.images[0]
    window.session.set_current(0)
    checked = [(i.id, i.class_name) for i in image.instances]
    with qtbot.waitSignal(window.detectionFinished, timeout=300_000):
        assert window.models.detect("current")
    assert window.prompts.messages == [] or window.prompts.messages[-1][0] != "Detection failed", \
        window.prompts.messages
    assert [(i.id, i.class_name) for i in image.instances[:len(checked)]] == checked  # kept


# 3 neutrophils, 2 lymphocytes, 2 monocytes, 1 eosinophil (the authors' labels)
ZHENG_CROPS = ("001", "002", "003", "004", "007", "013", "021", "066")


def test_crops_without_a_pixel_size_given_one_in_the_dialog_adapt_the_real_classifier(
        qtbot, tmp_path, monkeypatch, zheng_dir):
    """A lab's crops (Zheng: expert masks and classes, no red cells, no pixel size) imported as reviewed
    cells; Retrain → classes only says the classifier cannot learn from them and refuses Start until the
    Pixel size row gives them one; then the real trainer adapts the shipped model's cell classifier and
    a detection with the new model is named by it."""
    from bloodview.cli.main import main
    from bloodview.gui.workers.detect_worker import load_predictor
    from tests.conftest import REPO
    from tests.gui.conftest import new_window

    crops = tmp_path / "Dataset 1"
    crops.mkdir()
    for stem in ZHENG_CROPS:
        for suffix in (".bmp", ".png"):
            shutil.copy(zheng_dir / f"{stem}{suffix}", crops / f"{stem}{suffix}")
    shutil.copy(zheng_dir.parent / "Class Labels of Dataset 1.csv", tmp_path)
    coco = crops / "cells.json"
    assert main(["convert", str(crops), str(coco), "--from", "mask-png", "--to", "coco", "--reviewed"]) == 0
    store = tmp_path / "store"
    monkeypatch.setenv("BLOODVIEW_MODEL_STORE", str(store))
    monkeypatch.setenv("BLOODVIEW_DEFAULT_MODEL", str(REPO / "resources" / "models" / "default"))
    window = new_window(qtbot, tmp_path, predictor=load_predictor)
    window.prompts.answers["switch_model"] = True
    assert window.files.open([coco])
    images = window.session.dataset.images
    assert len(images) == 8 and all(i.pixel_size is None for i in images)

    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("classes"))
    assert not dialog.start_button.isEnabled()  # 8 crops are measured aside; not startable meanwhile
    qtbot.waitUntil(lambda: "Checking" not in dialog.summary.text(), timeout=10000)
    assert "adapting the classes stops with nothing to learn from" in dialog.summary.text()
    assert not dialog.start_button.isEnabled() and not dialog.scale_row.isHidden()
    qtbot.keyClicks(dialog.scale_spin.lineEdit(), "0.17")  # typed, as a technician would
    assert dialog.scale_button.isEnabled()
    qtbot.mouseClick(dialog.scale_button, Qt.MouseButton.LeftButton)
    assert [i.pixel_size.um_per_pixel for i in images] == [0.17] * 8
    assert dialog.scale_row.isHidden() and dialog.start_button.isEnabled()
    dialog.name.setText("zheng-classes")
    started = time.monotonic()
    with qtbot.waitSignal(dialog.process.finished, timeout=300_000):
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    trained = time.monotonic() - started
    assert dialog.outcome.ok, dialog.outcome.message
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=300_000)  # the comparison on held-out crops
    compared = time.monotonic() - started
    info = json.loads((store / "zheng-classes" / "model.json").read_text(encoding="utf-8"))
    assert info["cell_classifier"]["class_names"] and (store / "zheng-classes" / info["cell_classifier"]
                                                       ["weights_file"]).is_file()
    assert info["cell_classifier"]["training"]["train_cells"] == 6  # 8 crops, 2 held out: all given 0.17
    assert window.models.selector.currentText() == "zheng-classes"

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for stem in ("005", "016", "026"):  # neutrophil, lymphocyte, monocyte, not trained on
        shutil.copy(zheng_dir / f"{stem}.bmp", fresh)
    window.prompts.answers["unsaved"] = "Discard"
    assert window.files.open([fresh])
    window.scale.set_project_pixel_size(0.17)
    detect_started = time.monotonic()
    with qtbot.waitSignal(window.detectionFinished, timeout=300_000):
        assert window.models.detect("all")
    named = [(c.class_name, c.extra.get("classifier_score")) for i in window.session.dataset.images
             for c in i.instances]
    print(f"\nclasses-only run {trained:.1f} s, with the comparison {compared:.1f} s, "
          f"detection of 3 crops {time.monotonic() - detect_started:.1f} s; verdict: {dialog.verdict}; "
          f"named: {named}\nclassifier training: "
          f"{ {k: v for k, v in info['cell_classifier'].get('training', {}).items() if k != 'history'} }")
    assert named and any(score is not None for _name, score in named), named
