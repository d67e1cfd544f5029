"""The before/after comparison says when the current model had learnt from the held-out images
(bloodview.gui.seen_images): the loop's second retrain holds out images its first one trained on."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from bloodview.gui.seen_images import learnt_from
from tests.gui import test_retrain_compare as compare
from tests.gui.conftest import smear_folder

pytestmark = pytest.mark.gui

# test_retrain_compare's stand-in `bloodview`, its model.json recording what it learnt from as the real
# trainer does (training.data, images_root, init); with worse=True the new model scores wrong, round-1 right
FAKE = compare.FAKE_BLOODVIEW.replace(
    'config={},\n                               final_losses',
    'config={}, training={"data": arg("--data"), "images_root": arg("--images"), "init": arg("--init")},\n'
    '                               final_losses')
FAKE = FAKE.replace('Path(arg("--model")).name == "fake-model"',
                    'Path(arg("--model")).name in ("fake-model", "round-1")')
assert FAKE.count("round-1") == 1 and "training=" in FAKE


def fake_cli(tmp_path: Path) -> list[str]:
    script = tmp_path / "fake_bloodview_seen.py"
    script.write_text(textwrap.dedent(FAKE % {"repo": compare.REPO, "calls": str(tmp_path / "calls.json"),
                                              "fail": False, "worse": True}))
    return [sys.executable, str(script)]


def test_a_current_model_scored_on_images_it_learnt_from_is_not_taken_at_its_word(
        make_window, tmp_path, bccd_dir, review_current, qtbot, model_store):
    window = make_window()
    assert window.files.open([smear_folder(bccd_dir, tmp_path / "fields", 3, corrupt=False)])
    for index in range(3):
        window.session.set_current(index)
        review_current(window)
    window.models.cli_command = fake_cli(tmp_path)
    asked = compare.watch_switch_prompt(window)
    compare.run_retrain(window, qtbot, "round-1")  # 3 reviewed images: all of them train, none held out
    assert window.models.selector.currentText() == "round-1"
    for index in (0, 2):  # later marked val (imported with "split": "val"): held out next time
        window.session.dataset.images[index].split = "val"
    dialog = compare.run_retrain(window, qtbot, "round-2")

    # round-1 (current) learnt from both held-out images and scores right on them, the new model wrong
    assert dialog.comparison.cell_text("classification accuracy", "difference") == "-1.000"
    assert dialog.comparison.verdict.text().startswith("The new model is worse")
    text, default, _rows = asked[-1]
    caution = "the current model learnt from 2 of the 2 held-out images in an earlier retrain"
    assert caution in dialog.comparison.verdict.text() and caution in text
    assert default is True, "a comparison the current model flatters does not make No the answer"
    assert window.models.selector.currentText() == "round-2"


def test_what_a_model_learnt_from_follows_the_models_it_was_adapted_from(tmp_path):
    from bloodview.model.store import ModelInfo, write_model_info

    images = [tmp_path / f"field{k}.png" for k in range(3)]
    coco = tmp_path / "first.json"
    coco.write_text(json.dumps({"images": [{"file_name": "field0.png"}, {"file_name": "field1.png", "split": "val"}]}))
    for name, training in (("first", {"data": str(coco), "images_root": str(tmp_path)}),
                           ("second", {"data": str(tmp_path / "gone.json"), "init": str(tmp_path / "first")})):
        write_model_info(ModelInfo(name=name, backbone="resnet50", class_names=["neutrophil"], config={},
                                   training=training), tmp_path / name)
    assert learnt_from(tmp_path / "second", images) == [images[0]]  # field1 was its val image; gone.json: unknown
    assert learnt_from(None, images) == []
