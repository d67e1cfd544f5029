"""``bloodview models``, ``predict`` and ``train`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bloodview.cli.main import main
from bloodview.model.store import ModelInfo, write_model_info



@pytest.fixture(scope="module")
def model_dir(confident_tiny_model):
    """A tiny stored model that finds cells, whose masks cover their boxes (every detection has an outline)."""
    return confident_tiny_model("tiny")


def smears(folder: Path) -> list[Path]:
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    paths = [folder / "a.png", folder / "sub" / "b.jpg", folder / "grey.png"]
    Image.fromarray(rng.integers(0, 255, (363, 360, 3), dtype=np.uint8)).save(paths[0])
    Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(paths[1])
    Image.fromarray(rng.integers(0, 255, (30, 20), dtype=np.uint8)).save(paths[2])
    return paths


def test_predict_writes_coco_that_pycocotools_reads(model_dir, tmp_path, monkeypatch):
    from pycocotools.coco import COCO

    paths = smears(tmp_path / "imgs")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out.json"
    code = main(["predict", "imgs/a.png", "imgs/sub", "--model", str(model_dir), "--out", str(out),
                 "--min-confidence", "0", "--batch-size", "2"])
    assert code == 0
    coco = COCO(str(out))
    names = {img["file_name"] for img in coco.dataset["images"]}
    assert names == {"imgs/a.png", "b.jpg"}  # as given, and relative to the given folder
    assert {c["name"] for c in coco.dataset["categories"]} == {"neutrophil", "platelet"}
    anns = coco.dataset["annotations"]
    assert anns, "the confident-mask model finds cells"
    for ann in anns:
        image = coco.imgs[ann["image_id"]]
        x, y, w, h = ann["bbox"]
        assert 0 <= x and x + w <= image["width"] and 0 <= y and y + h <= image["height"]
        assert ann["area"] > 0 and 0 <= ann["score"] <= 1 and ann["segmentation"]
        assert coco.annToMask(ann).sum() > 0
    assert paths


def test_predict_results_format_loads_as_detections(model_dir, tmp_path, monkeypatch):
    from pycocotools.coco import COCO

    smears(tmp_path / "imgs")
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "imgs", "--model", str(model_dir), "--out", "gt.json", "--min-confidence", "0"]) == 0
    assert main(["predict", "imgs", "--model", str(model_dir), "--out", "res.json", "--format", "results",
                 "--min-confidence", "0"]) == 0
    results = json.loads((tmp_path / "res.json").read_text())
    assert isinstance(results, list) and results
    gt = COCO("gt.json")
    detections = gt.loadRes(str(tmp_path / "res.json"))
    assert len(detections.anns) == len(gt.anns)


def test_predict_without_a_default_model_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BLOODVIEW_DEFAULT_MODEL", str(tmp_path / "none"))
    Image.new("RGB", (10, 10)).save(tmp_path / "a.png")
    assert main(["predict", str(tmp_path / "a.png"), "--out", str(tmp_path / "o.json")]) == 1
    err = capsys.readouterr().err
    assert "no default model" in err and "--model" in err


def test_predict_refuses_missing_inputs(model_dir, tmp_path, capsys):
    assert main(["predict", str(tmp_path / "nope.png"), "--model", str(model_dir), "--out", str(tmp_path / "o.json")]) == 1
    assert "nope.png" in capsys.readouterr().err
    assert not (tmp_path / "o.json").exists()


def test_models_lists_the_store(tmp_path, capsys):
    for name, backbone in (("pbc-fast", "mobilenetv3large"), ("pbc-r101", "resnet101")):
        write_model_info(ModelInfo(name=name, backbone=backbone, class_names=["neutrophil", "platelet"],
                                   config={}, image_size=512, date="2026-11-25T10:00:00Z",
                                   metrics={"mask_map50": 0.912, "images": 477.0, "matched_accuracy": 1.0}),
                        tmp_path / name)
    assert main(["models", "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:5] == ["NAME", "BACKBONE", "CLASSES", "SIZE", "DATE"]
    assert "pbc-fast" in out[1] and "mobilenetv3large" in out[1] and "512" in out[1] and "2026-11-25" in out[1]
    assert "mask_map50=0.912" in out[2]
    assert "images=477 " in out[2] and "matched_accuracy=1.000" in out[2]  # a count is no fraction
    assert main(["models", "--store", str(tmp_path), "--json"]) == 0
    assert [m["name"] for m in json.loads(capsys.readouterr().out)] == ["pbc-fast", "pbc-r101"]


def test_models_leaves_out_unfinished_runs(tmp_path, capsys):
    """A killed run leaves OUT/checkpoints without model.json, or a classes-only staging dot-folder that
    already holds its model.json: neither is a model to choose."""
    (tmp_path / "cancelled" / "checkpoints").mkdir(parents=True)
    (tmp_path / "cancelled" / "checkpoints" / "state.json").write_text('{"epoch": 1}')
    write_model_info(ModelInfo(name="lab", backbone="mobilenetv3large", class_names=["neutrophil"], config={},
                               image_size=512), tmp_path / ".lab.classes-only-partial")
    assert main(["models", "--store", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_models_names_a_store_that_is_not_a_folder(tmp_path, capsys):
    """Regression: a mistyped --store printed "no models in ..." as if the folder were empty."""
    assert main(["models", "--store", str(tmp_path / "modles")]) == 1
    assert capsys.readouterr().err == f"bloodview: error: {tmp_path / 'modles'}: no such folder\n"
    (tmp_path / "notes.txt").write_text("x")
    assert main(["models", "--store", str(tmp_path / "notes.txt"), "--json"]) == 1
    assert capsys.readouterr().err == f"bloodview: error: {tmp_path / 'notes.txt'}: is a file, not a folder\n"
    assert main(["models", "--store", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"no models in {tmp_path}\n"


def test_models_lists_backbones(capsys):
    assert main(["models", "--backbones"]) == 0
    out = capsys.readouterr().out
    assert "resnet101" in out and "default, fast" in out


def test_train_error_is_a_json_line_in_progress_mode(tmp_path, capsys):
    (tmp_path / "d.json").write_text('{"images": [], "annotations": [], "categories": []}')
    code = main(["train", "--data", str(tmp_path / "d.json"), "--backbone", "resnet50", "--out",
                 str(tmp_path / "m"), "--progress", "jsonl"])
    assert code == 1
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert lines == [{"event": "error", "message": lines[0]["message"]}]
    assert "no images" in lines[0]["message"]


def test_train_set_override_must_name_a_field(tmp_path, capsys):
    code = main(["train", "--data", str(tmp_path / "d.json"), "--backbone", "resnet50", "--out",
                 str(tmp_path / "m"), "--set", "no_such_field=3"])
    assert code == 1
    assert "error" in capsys.readouterr().err
