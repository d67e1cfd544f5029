"""Retraining on crops of unknown scale names that cause, not "no cells of its classes" (Zheng crops)."""

from __future__ import annotations

import json
from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "default"


def test_classes_only_on_crops_without_a_scale_says_so_and_how_to_give_one(zheng_dir, tmp_path, capsys):
    """Zheng crops record no pixel size and show no red cell to measure one on: every image is skipped.
    The error used to list the classifier's classes (lymphocyte, neutrophil …) as if the cells were of
    other classes; it must say the images were skipped for their scale and how to give it."""
    from bloodview.cli.main import main

    coco = tmp_path / "zheng.json"
    assert main(["convert", str(zheng_dir), str(coco), "--to", "coco"]) == 0
    data = json.loads(coco.read_text())
    kept = {image["id"] for image in data["images"][:4]}
    data["images"] = [image for image in data["images"] if image["id"] in kept]
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in kept]
    coco.write_text(json.dumps(data))
    capsys.readouterr()

    out = tmp_path / "models" / "lab"
    code = main(["train", "--data", str(coco), "--images", str(zheng_dir), "--init", str(DEFAULT_MODEL),
                 "--classes-only", "--out", str(out)])
    error = capsys.readouterr().err.splitlines()[-1]
    assert code == 1
    assert "4 of 4 training images were skipped" in error and "pixel size is unknown" in error
    assert "--pixel-size UM" in error and "Model → Pixel size…" in error
    assert "names (" not in error  # not the classifier's class list
    assert not out.exists() and list((tmp_path / "models").iterdir()) == []  # nothing half-written


def test_classes_only_into_an_unfinished_run_does_not_offer_resume(tmp_path, capsys):
    """--classes-only refuses --resume, so "continue it with --resume" sent a person round in a circle."""
    from bloodview.cli.main import main

    out = tmp_path / "lab"
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / "state.json").write_text('{"epoch": 1}')
    code = main(["train", "--data", str(tmp_path / "unused.json"), "--init", str(DEFAULT_MODEL), "--classes-only",
                 "--out", str(out)])
    error = capsys.readouterr().err
    assert code == 1 and "unfinished training run" in error and "without --classes-only" in error
