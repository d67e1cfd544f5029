"""The real thing, once: retrain from the menu with `bloodview train`, then detect with it.

Tiny on purpose (two 128 x 96 smears, 1 epoch of 2 steps, the fast backbone): it
proves the whole loop - reviewed cells -> COCO -> QProcess trainer -> model in
the selector -> TensorFlow predictor in the worker thread -> cells merged - not
that the model is any good. About 2-3 minutes on a 2-core CPU, hence slow.
"""

from __future__ import annotations

import pytest
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
