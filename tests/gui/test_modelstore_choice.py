"""A model chosen last that a shared store still holds but this bloodview cannot read (a newer bloodview on
another PC rewrote it, or its model.json was damaged) is said with that reason, not as "deleted or moved"."""

from __future__ import annotations

import json

import pytest

from bloodview.model.store import MODEL_JSON
from tests.gui.conftest import make_fake_model, new_window

pytestmark = pytest.mark.gui


def _chosen_then_restarted(qtbot, tmp_path, model_store, spoil):
    shared = make_fake_model(model_store, "lab-shared")
    window = new_window(qtbot, tmp_path)
    window.models.selector.setCurrentIndex(window.models.selector.findText("lab-shared"))
    window.close()
    spoil(shared / MODEL_JSON)
    again = new_window(qtbot, tmp_path)  # the same settings file: as after a restart
    qtbot.waitUntil(lambda: bool(again.prompts.messages), timeout=2000)
    return again, shared


def test_a_model_rewritten_by_a_newer_bloodview_is_said_so(qtbot, tmp_path, model_store):
    """Regression: the message said the folder was "deleted, moved, or on a drive that is not connected"."""
    def newer(path):
        values = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(values | {"format_version": 2, "versions": {"bloodview": "0.3.0"}}))

    again, shared = _chosen_then_restarted(qtbot, tmp_path, model_store, newer)
    assert again.models.selector.currentText() == "fake-model"
    title, text = again.prompts.messages[-1]
    assert title == "Model cannot be used"
    assert text.startswith(f"The model chosen last, lab-shared, cannot be used: {shared / MODEL_JSON}: made by a "
                           "newer bloodview (bloodview 0.3.0, model format 2;")
    assert "deleted, moved" not in text and "Detection now uses fake-model" in text


def test_a_damaged_model_json_is_said_so(qtbot, tmp_path, model_store):
    again, shared = _chosen_then_restarted(qtbot, tmp_path, model_store, lambda path: path.write_text("{half"))
    title, text = again.prompts.messages[-1]
    assert title == "Model cannot be used" and f"{shared / MODEL_JSON}: not valid JSON" in text


@pytest.mark.parametrize("renamed", ["lab-a-2026", "a-lab"])  # listed after the fall-back, or first: the fall-back
def test_a_model_folder_renamed_in_the_store_is_chosen_again_without_an_alarm(qtbot, tmp_path, model_store, renamed):
    """Regression: renaming the chosen model's folder (IT tidying a shared store) gave "Model not found" and
    Detect moved to the store's first model until someone chose the renamed one."""
    make_fake_model(model_store, "lab-a")
    window = new_window(qtbot, tmp_path)
    window.models.selector.setCurrentIndex(window.models.selector.findText("lab-a"))
    window.close()
    (model_store / "lab-a").rename(model_store / renamed)
    again = new_window(qtbot, tmp_path)
    qtbot.waitUntil(lambda: again.settings.value("model") == str(model_store / renamed), timeout=2000)
    qtbot.wait(20)
    assert again.models.model_dir() == model_store / renamed and again.prompts.messages == []
    assert again.status_label.text().startswith(f"Model lab-a found in its new folder {model_store / renamed}")


def test_a_deleted_model_without_a_namesake_is_still_said_lost(qtbot, tmp_path, model_store):
    import shutil

    make_fake_model(model_store, "lab-a")
    window = new_window(qtbot, tmp_path)
    window.models.selector.setCurrentIndex(window.models.selector.findText("lab-a"))
    window.close()
    shutil.rmtree(model_store / "lab-a")
    again = new_window(qtbot, tmp_path)
    qtbot.waitUntil(lambda: bool(again.prompts.messages), timeout=2000)
    assert again.prompts.messages[-1][0] == "Model not found"
    assert again.models.selector.currentText() == "fake-model"
