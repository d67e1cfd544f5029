"""The model store's metadata (TensorFlow-free): model.json, listing, default places."""

from __future__ import annotations

import json
import sys

import pytest

from bloodview.errors import ModelError
from bloodview.model.store import (
    MODEL_JSON,
    ModelInfo,
    default_model_dir,
    list_models,
    read_model_info,
    user_store_dir,
    write_model_info,
)


def info(name: str = "pbc-mobile") -> ModelInfo:
    return ModelInfo(
        name=name, backbone="resnet50", class_names=["neutrophil", "platelet"],
        config={"image_min_dim": 256, "image_max_dim": 256, "class_names": ["neutrophil", "platelet"], "num_classes": 3},
        class_colors=[(1, 2, 3), (4, 5, 6)], image_size=256, date="2026-11-25T20:00:00Z",
        final_losses={"loss": 0.5}, metrics={"mask_map50": 0.91},
    )


def test_model_json_round_trip(tmp_path):
    write_model_info(info(), tmp_path / "m")
    back = read_model_info(tmp_path / "m")
    assert back.name == "pbc-mobile" and back.class_names == ["neutrophil", "platelet"]
    assert back.class_colors == [(1, 2, 3), (4, 5, 6)] and back.path == tmp_path / "m"
    assert back.origin == "pbc-mobile@2026-11-25T20:00:00Z"
    config = back.to_config()
    assert config.image_max_dim == 256 and config.class_names == ["neutrophil", "platelet"]


def test_store_metadata_does_not_import_tensorflow():
    import subprocess

    code = ("import sys; from bloodview.model.store import list_models, read_model_info; "
            "import bloodview.cli.cmd_models, bloodview.cli.cmd_train, bloodview.cli.cmd_predict; "
            "sys.exit(1 if 'tensorflow' in sys.modules or 'keras' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize(
    "content,reason",
    [
        (None, "missing"),
        ("{not json", "not valid JSON"),
        ('{"name": "x"}', "lacks backbone, class_names, config"),
        ('{"format": "other", "name": "x", "backbone": "b", "class_names": [], "config": {}}', "not a bloodview model"),
        ('[1, 2]', "must hold a JSON object"),
    ],
)
def test_broken_model_json_names_the_file(tmp_path, content, reason):
    folder = tmp_path / "broken"
    folder.mkdir()
    if content is not None:
        (folder / MODEL_JSON).write_text(content)
    with pytest.raises(ModelError, match=reason) as err:
        read_model_info(folder)
    assert str(folder) in str(err.value)


def test_missing_folder_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        read_model_info(tmp_path / "nowhere")


def test_list_models_skips_broken_folders(tmp_path, caplog):
    write_model_info(info("a"), tmp_path / "a")
    write_model_info(info("b"), tmp_path / "b")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / MODEL_JSON).write_text("{")
    (tmp_path / "not-a-model").mkdir()
    names = [m.name for m in list_models(tmp_path)]
    assert names == ["a", "b"]
    assert "c/model.json" in caplog.text
    assert [m.name for m in list_models(tmp_path / "a")] == ["a"]


def test_default_and_user_store_places(tmp_path, monkeypatch):
    monkeypatch.delenv("BLOODVIEW_DEFAULT_MODEL", raising=False)
    assert default_model_dir().parts[-3:] == ("resources", "models", "default")
    monkeypatch.setenv("BLOODVIEW_MODEL_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("BLOODVIEW_DEFAULT_MODEL", str(tmp_path / "default"))
    assert user_store_dir() == tmp_path / "store"
    write_model_info(info("default"), tmp_path / "default")
    write_model_info(info("mine"), tmp_path / "store" / "mine")
    assert [m.name for m in list_models()] == ["default", "mine"]


def test_newer_format_is_refused(tmp_path):
    values = info().to_dict() | {"format_version": 99}
    (tmp_path / MODEL_JSON).write_text(json.dumps(values))
    with pytest.raises(ModelError, match="newer bloodview"):
        read_model_info(tmp_path)
