"""Model folders as they arrive from a share or a USB stick: whole, half-copied, or from a newer bloodview.

Each test copies the shipped default model (real weights files) to ``tmp_path`` and spoils the copy
the way a copy goes wrong; no TensorFlow is loaded.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from bloodview.errors import ModelError
from bloodview.model.store import MODEL_JSON, WEIGHTS_FILE, list_models, read_model_info
from bloodview.model.store_check import check_folder, scan_store

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "default"


def copied_default(target: Path, name: str = "lab-2026-11", **changes) -> Path:
    """A copy of the shipped default model renamed as a lab's retrained model (``changes`` go into model.json)."""
    shutil.copytree(DEFAULT_MODEL, target)
    values = json.loads((target / MODEL_JSON).read_text(encoding="utf-8"))
    values.update({"name": name, "date": "2026-11-20T10:00:00Z"}, **changes)
    (target / MODEL_JSON).write_text(json.dumps(values), encoding="utf-8")
    return target


def test_a_whole_copy_is_usable_even_read_through(tmp_path):
    entry = check_folder(copied_default(tmp_path / "lab"), thorough=True)
    assert entry.usable and entry.problems == [] and entry.info.name == "lab-2026-11"


def test_a_half_copied_weights_file_is_named_as_such(tmp_path):
    """Regression: a weights file cut short by an interrupted copy was listed like a good model."""
    folder = copied_default(tmp_path / "lab")
    os.truncate(folder / WEIGHTS_FILE, 5_000_000)
    entry = check_folder(folder)
    assert not entry.usable
    assert entry.problems[0].startswith(f"{folder / WEIGHTS_FILE}: weights file is only partly copied (5,000,000 bytes;")


def test_a_full_length_copy_with_a_zeroed_tail_is_found_by_the_thorough_check(tmp_path):
    folder = copied_default(tmp_path / "lab")
    weights = folder / WEIGHTS_FILE
    size = weights.stat().st_size
    with open(weights, "r+b") as handle:
        handle.seek(5_000_000)
        handle.write(b"\0" * (size - 5_000_000))
    assert check_folder(folder).usable  # the header is whole: the quick look cannot tell
    problems = check_folder(folder, thorough=True).problems
    assert len(problems) == 1 and "weights file is damaged or not a weights file" in problems[0]


@pytest.mark.parametrize("missing, said", [
    (WEIGHTS_FILE, "weights file missing (the model folder was not copied whole)"),
    ("cell_classifier.weights.h5", "cell classifier weights file missing"),
    ("cell_classifier_replay.npz", "the cell classifier's replay file is missing or empty"),
])
def test_a_folder_missing_one_of_its_files_says_which(tmp_path, missing, said):
    folder = copied_default(tmp_path / "lab")
    (folder / missing).unlink()
    problems = check_folder(folder).problems
    assert problems == [problems[0]] and problems[0].startswith(f"{folder / missing}: {said}")


def test_an_empty_weights_file_is_said_empty(tmp_path):
    folder = copied_default(tmp_path / "lab")
    (folder / WEIGHTS_FILE).write_bytes(b"")
    assert check_folder(folder).problems == [f"{folder / WEIGHTS_FILE}: weights file is empty (0 bytes; copy it again)"]


def test_config_fields_of_a_newer_bloodview_are_named(tmp_path):
    """Regression: listed as usable; Detect then stopped on "unknown Mask R-CNN config field"."""
    config = json.loads((DEFAULT_MODEL / MODEL_JSON).read_text(encoding="utf-8"))["config"]
    folder = copied_default(tmp_path / "lab", config={**config, "future_knob": 3},
                            versions={"bloodview": "0.3.0"})
    assert check_folder(folder).problems == [
        f"{folder / MODEL_JSON}: config fields this bloodview does not know: future_knob (made by bloodview 0.3.0); "
        "update bloodview"]


def test_a_newer_model_format_names_the_version_that_wrote_it(tmp_path):
    folder = copied_default(tmp_path / "lab", format_version=2, versions={"bloodview": "0.3.0"})
    with pytest.raises(ModelError, match=r"made by a newer bloodview \(bloodview 0\.3\.0, model format 2; "
                                         r"this bloodview .* reads format 1 and older\); update bloodview"):
        read_model_info(folder)


def test_a_format_version_that_is_no_number_is_one_sentence(tmp_path):
    """Regression: "2.0-beta" raised a bare ValueError (a traceback) instead of a ModelError."""
    folder = copied_default(tmp_path / "lab", format_version="2.0-beta")
    with pytest.raises(ModelError, match=r"'format_version' must be a whole number, not '2.0-beta'"):
        read_model_info(folder)


def test_the_scan_keeps_the_unreadable_folders_list_models_skips(tmp_path):
    store = tmp_path / "store"
    copied_default(store / "good")
    copied_default(store / "newer", format_version=2)
    half = copied_default(store / "half")
    os.truncate(half / WEIGHTS_FILE, 1000)
    entries = {entry.folder.name: entry for entry in scan_store(store)}
    assert sorted(entries) == ["good", "half", "newer"]
    assert entries["good"].usable and not entries["half"].usable
    assert entries["newer"].info is None and "newer bloodview" in entries["newer"].problems[0]
    assert [m.path.name for m in list_models(store)] == ["good", "half"]  # the window's list is unchanged


def test_checking_a_folder_loads_no_tensorflow(tmp_path):
    import subprocess

    folder = copied_default(tmp_path / "lab")
    probe = ("import sys; from bloodview.model.store_check import check_folder; "
             f"assert check_folder({str(folder)!r}, thorough=True).usable; "
             "print('TF' if 'tensorflow' in sys.modules else 'no tf')")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(DEFAULT_MODEL.parents[2])))
    assert done.stdout.strip() == "no tf", done.stderr


def test_loading_a_half_copied_model_says_so_before_building_the_network(tmp_path):
    """Regression: Detect built the network (seconds) and then reported Keras's "Unable to synchronously open
    file" as "truncated, damaged, or made for another network"; now the copy is named as the cause at once."""
    from bloodview.model.store_io import load_model

    folder = copied_default(tmp_path / "lab")
    os.truncate(folder / WEIGHTS_FILE, 5_000_000)
    with pytest.raises(ModelError, match=r"weights file is only partly copied \(5,000,000 bytes;.*copy the model "
                                         r"folder again$"):
        load_model(folder)


@pytest.mark.parametrize("written", [1, 1.0, "1"])
def test_a_format_version_other_tools_rewrote_still_reads(tmp_path, written):
    """A model.json saved again by another JSON tool may carry 1.0 or "1"; that is still format 1."""
    assert read_model_info(copied_default(tmp_path / "lab", format_version=written)).format_version == 1
