"""``bloodview models`` and ``bloodview doctor`` as IT uses them on a lab PC: list and compare models, put a
colleague's model folder in place, and check a new install, on copies of the shipped default model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bloodview.cli.main import main
from bloodview.model.store import MODEL_JSON, WEIGHTS_FILE

from tests.model.test_modelstore_check import copied_default


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("BLOODVIEW_MODEL_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("BLOODVIEW_DEFAULT_MODEL", raising=False)
    return tmp_path / "store"


def test_a_half_copied_model_is_listed_unusable_with_the_reason(store, capsys):
    """Regression: a folder whose weights were cut short was listed exactly like a good model."""
    copied_default(store / "good", name="good")
    half = copied_default(store / "half", name="half")
    os.truncate(half / WEIGHTS_FILE, 5_000_000)
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith(("default  ", "good  ", "half  "))}
    assert "shipped default" in rows["default"] and "  ok  " in rows["good"] and "UNUSABLE" in rows["half"]
    assert f"  - {half / WEIGHTS_FILE}: weights file is only partly copied (5,000,000 bytes;" in out
    assert main(["models", "--check"]) == 1  # a setup script can tell
    capsys.readouterr()


def test_models_json_tells_a_script_which_is_which(store, capsys):
    copied_default(store / "lab", name="lab")
    (store / "lab" / WEIGHTS_FILE).unlink()
    assert main(["models", "--json"]) == 0
    listed = {Path(m["path"]).name: m for m in json.loads(capsys.readouterr().out)}
    assert listed["default"]["shipped_default"] and listed["default"]["usable"] and listed["default"]["problems"] == []
    assert listed["default"]["size_bytes"] > 20_000_000 and listed["default"]["metrics"]["figures"]["mask.mAP50"] > 0.9
    assert not listed["lab"]["shipped_default"] and not listed["lab"]["usable"]
    assert listed["lab"]["problems"] == [f"{store / 'lab' / WEIGHTS_FILE}: weights file missing "
                                         "(the model folder was not copied whole)"]


def test_a_model_from_a_newer_bloodview_is_listed_with_why(store, capsys):
    """Regression: it was left out with a log line only, so IT could not see why a copied model did not show."""
    copied_default(store / "newer", format_version=2, versions={"bloodview": "0.3.0"})
    assert main(["models", "--json"]) == 0
    newer = [m for m in json.loads(capsys.readouterr().out) if Path(m["path"]).name == "newer"]
    assert newer[0]["name"] is None and not newer[0]["usable"]
    assert "made by a newer bloodview (bloodview 0.3.0, model format 2;" in newer[0]["problems"][0]


def test_evaluated_figures_are_shown_to_compare_models(store, capsys):
    """Regression: the shipped model's figures sit under metrics["figures"], and the table showed "images=477"."""
    assert main(["models"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("default  "))
    assert "mask.mAP50=0.928" in row and "classification.macro.f1=0.857" in row and "images=477" in row
    assert "  2508 images, 4349 cells, adapted  " in row  # what it learnt from (started from an earlier model)


def test_add_copies_a_whole_model_and_leaves_training_leftovers(store, tmp_path, capsys):
    usb = copied_default(tmp_path / "usb" / "lab-2026-11")
    (usb / "checkpoints").mkdir()
    (usb / "checkpoints" / "optimizer.npz").write_bytes(b"x" * 1000)
    assert main(["models", "--add", str(usb)]) == 0
    assert capsys.readouterr().out == f"added lab-2026-11 (2026-11-20T10:00:00Z, 8 classes) as {store / 'lab-2026-11'}\n"
    assert sorted(p.name for p in store.iterdir()) == ["lab-2026-11"]  # no staging folder left
    assert (store / "lab-2026-11" / WEIGHTS_FILE).read_bytes() == (usb / WEIGHTS_FILE).read_bytes()
    assert not (store / "lab-2026-11" / "checkpoints").exists()
    assert main(["models", "--check"]) == 0


def test_add_refuses_a_half_copied_folder_and_adds_nothing(store, tmp_path, capsys):
    usb = copied_default(tmp_path / "usb" / "lab")
    os.truncate(usb / "cell_classifier.weights.h5", 100_000)
    assert main(["models", "--add", str(usb)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"bloodview: error: {usb / 'cell_classifier.weights.h5'}: cell classifier weights file is "
                          "only partly copied (100,000 bytes;")
    assert err.rstrip().endswith("nothing was added")
    assert not store.exists() or list(store.iterdir()) == []


def test_add_never_overwrites_and_never_adds_one_model_twice(store, tmp_path, capsys):
    copied_default(store / "lab", name="ours", date="2026-10-01T08:00:00Z")
    theirs = copied_default(tmp_path / "share" / "lab", name="theirs")
    before = (store / "lab" / MODEL_JSON).read_text(encoding="utf-8")
    assert main(["models", "--add", str(theirs)]) == 1
    assert "already has a folder of that name; choose another with --as NAME" in capsys.readouterr().err
    assert (store / "lab" / MODEL_JSON).read_text(encoding="utf-8") == before
    assert main(["models", "--add", str(theirs), "--as", "theirs"]) == 0
    assert main(["models", "--add", str(theirs), "--as", "again"]) == 1
    assert "the model store already holds this model (theirs@2026-11-20T10:00:00Z)" in capsys.readouterr().err
    assert sorted(p.name for p in store.iterdir()) == ["lab", "theirs"]


def test_add_into_a_store_that_cannot_be_made_is_one_sentence(tmp_path, monkeypatch, capsys):
    (tmp_path / "share").write_text("not a folder")  # e.g. a share mounted as a file, or a typo
    monkeypatch.setenv("BLOODVIEW_MODEL_STORE", str(tmp_path / "share" / "models"))
    usb = copied_default(tmp_path / "usb" / "lab")
    assert main(["models", "--add", str(usb)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"bloodview: error: {tmp_path / 'share' / 'models'}: cannot copy the model into the model store")
    assert err.rstrip().endswith("nothing was added") and "Traceback" not in err


def test_doctor_check_fails_on_a_damaged_default_model(store, tmp_path, monkeypatch, capsys):
    """Regression: doctor read only model.json, said the default model was fine, and always exited 0."""
    default = copied_default(tmp_path / "default")
    os.truncate(default / WEIGHTS_FILE, 5_000_000)
    monkeypatch.setenv("BLOODVIEW_DEFAULT_MODEL", str(default))
    assert main(["doctor"]) == 0  # the report alone keeps its old exit status
    out = capsys.readouterr().out
    assert f"lab-2026-11 (2026-11-20, 8 classes) DAMAGED — {default}" in out
    assert f"  - the default model cannot be used: {default / WEIGHTS_FILE}: weights file is only partly copied" in out
    assert main(["doctor", "--check", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["models"]["default_model_error"].startswith(f"{default / WEIGHTS_FILE}: weights file is only partly")


def test_doctor_names_unusable_models_in_the_store(store, capsys):
    copied_default(store / "good", name="good")
    copied_default(store / "gone", name="gone")
    (store / "gone" / WEIGHTS_FILE).unlink()
    assert main(["doctor", "--json"]) == 0
    models = json.loads(capsys.readouterr().out)["models"]
    assert models["user_models"] == 1 and models["user_store_writable"] is True
    assert models["default_model_name"] == "default" and "default_model_error" not in models
    problem = f"a model in the store cannot be used: {store / 'gone' / WEIGHTS_FILE}: weights file missing"
    assert main(["doctor", "--json"]) == 0
    assert any(p.startswith(problem) for p in json.loads(capsys.readouterr().out)["problems"])


def test_models_of_one_name_are_pointed_out(store, capsys):
    """Two PCs retrained from the default and both kept its name: the window's selector shows two "default"s."""
    copied_default(store / "pc1", name="default", date="2026-11-20T10:00:00Z")
    copied_default(store / "pc2", name="default", date="2026-11-21T09:00:00Z")
    assert main(["models", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert (f"2 models are named default (the window's selector shows names only; its tooltip gives the date): "
            f"{store / 'pc1'} (2026-11-20), {store / 'pc2'} (2026-11-21)") in out


def test_a_store_on_a_share_that_dropped_is_one_sentence(store, monkeypatch, capsys):
    """Regression: an OSError reading the store (a stale network handle) ended doctor and models in a traceback."""
    copied_default(store / "lab")
    real = Path.iterdir

    def dropped(self):
        if self == store:
            raise OSError(116, "Stale file handle")
        return real(self)

    monkeypatch.setattr(Path, "iterdir", dropped)
    assert main(["models"]) == 1
    assert capsys.readouterr().err == f"bloodview: error: {store}: cannot read the model store (Stale file handle)\n"
    assert main(["doctor", "--check"]) == 1
    out = capsys.readouterr().out
    assert f"  - {store}: cannot read the model store (Stale file handle)" in out and "default model   default" in out
