"""benchmarks/adaptation.py's own pieces, on small real files (no training, no model).

The benchmark's figures take ~40 minutes of CPU and are not run here; these tests pin what
the figures rest on: a held-out set disjoint from every training set and stratified by class,
nested training sets, a training COCO the trainer can read (names, split, pixel size), the
target verdicts, --resume's handling of model folders, and a chart drawn from given rows.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

sys.path.append(str(Path(__file__).resolve().parents[1] / "benchmarks"))  # after the packages: no shadowing

import adaptation  # noqa: E402
from adaptation_plot import SERIES, draw_learning_curve  # noqa: E402

from bloodview.core.annotation import Dataset, ImageAnnotation  # noqa: E402
from bloodview.core.instance import Instance  # noqa: E402

SQUARE = np.array([[10, 10], [50, 10], [50, 50], [10, 50]], float)


def image(name: str, class_name: str | None, split: str | None = None) -> ImageAnnotation:
    cells = [Instance([SQUARE], class_name, reviewed=True)] if class_name else []
    return ImageAnnotation(Path(name), 120, 120, cells, split=split)


def synthetic_lab() -> list[ImageAnnotation]:
    counts = {"neutrophil": 21, "lymphocyte": 10, "monocyte": 7, "eosinophil": 2}
    images, k = [], 0
    for class_name, count in counts.items():
        for _ in range(count):
            k += 1
            images.append(image(f"{k:03d}.bmp", class_name))
    return images + [image("999.bmp", None)]


def test_held_out_is_a_stratified_half_disjoint_from_the_pool_and_fixed():
    images = synthetic_lab()
    held, pool = adaptation.split_held_out(images)
    held_names = {i.image_path.name for i in held}
    assert held_names.isdisjoint(i.image_path.name for i in pool)
    assert len(held) + len(pool) == len(images) - 1  # the image without a cell is left out
    held_classes = Counter(i.instances[0].class_name for i in held)
    assert held_classes == {"neutrophil": 10, "lymphocyte": 5, "monocyte": 3, "eosinophil": 1}
    again_held, again_pool = adaptation.split_held_out(list(reversed(images)))  # input order does not matter
    assert [i.image_path.name for i in again_held] == [i.image_path.name for i in held]
    assert [i.image_path.name for i in again_pool] == [i.image_path.name for i in pool]


def test_rehearsal_takes_only_train_images_in_a_fixed_order():
    images = [image(f"r{k}.jpg", "basophil", "train" if k % 3 else "val") for k in range(30)]
    order = adaptation.rehearsal_order(images)
    assert all(i.split == "train" for i in order) and len(order) == 20
    assert [i.image_path for i in order] == [i.image_path for i in adaptation.rehearsal_order(images)]


def test_training_set_names_images_under_the_data_root_with_their_pixel_size(tmp_path):
    root = tmp_path / "data"
    zheng = Dataset([image(f"{k:03d}.bmp", "neutrophil") for k in range(3)], root=root / "zheng_wbc" / "Dataset 1")
    pbc = Dataset([image("basophil/BA_1.jpg", "basophil", "train")], root=root / "pbc")
    coco = adaptation.write_training_set(tmp_path / "train.json",
                                         [(zheng, zheng.images[:2], 0.17), (pbc, pbc.images, None)],
                                         zheng.classes, root)
    written = json.loads(Path(coco).read_text())
    assert [i["file_name"] for i in written["images"]] == ["zheng_wbc/Dataset 1/000.bmp",
                                                           "zheng_wbc/Dataset 1/001.bmp", "pbc/basophil/BA_1.jpg"]
    assert {i["split"] for i in written["images"]} == {"train"}
    sizes = [i.get("bloodview", {}).get("pixel_size") for i in written["images"]]
    assert sizes[:2] == [{"um_per_pixel": 0.17, "source": "given"}] * 2 and sizes[2] is None
    assert len(written["annotations"]) == 3
    assert zheng.images[0].split is None and zheng.images[0].pixel_size is None  # the source left alone


def test_training_set_refuses_images_outside_the_data_root(tmp_path):
    elsewhere = Dataset([image("a.bmp", "neutrophil")], root=tmp_path / "elsewhere")
    with pytest.raises(SystemExit, match="not inside --data-root"):
        adaptation.write_training_set(tmp_path / "t.json", [(elsewhere, elsewhere.images, 0.17)],
                                      elsewhere.classes, tmp_path / "data")
    assert not (tmp_path / "t.json").exists()


def test_targets_verdicts_follow_the_issue_table():
    row = {"n": 25, "zheng": {"accuracy": 0.81, "mask_iou_mean": 0.84}, "wall_seconds": 5 * 60}
    assert adaptation.targets_met(row, None) == "acc:yes iou:NO time:yes"
    fifty = {"n": 50, "zheng": {"accuracy": 0.95, "mask_iou_mean": 0.9}, "wall_seconds": 11 * 60,
             "pbc": {"accuracy": 0.90}}
    assert adaptation.targets_met(fifty, start_pbc=0.97) == "acc:yes iou:yes time:NO pbc:NO"
    assert adaptation.targets_met({"n": 10, "zheng": {}}, 0.97) == "-"


def test_resume_reuses_finished_models_and_restarts_unfinished_ones(tmp_path):
    finished, unfinished = tmp_path / "model_10", tmp_path / "model_25"
    finished.mkdir()
    (finished / "model.json").write_text("{}")
    (unfinished / "checkpoints").mkdir(parents=True)
    with pytest.raises(SystemExit, match="--resume"):
        adaptation.prepare_model_folder(finished, resume=False)
    assert adaptation.prepare_model_folder(finished, resume=True)
    assert not adaptation.prepare_model_folder(unfinished, resume=True)
    assert not unfinished.exists()
    assert not adaptation.prepare_model_folder(tmp_path / "model_50", resume=False)


def test_chart_draws_both_lines_from_the_given_rows(tmp_path):
    import cv2

    rows = [{"n": 0, "zheng": {"accuracy": 0.1, "mask_iou_mean": 0.6}},
            {"n": 50, "zheng": {"accuracy": 0.9, "mask_iou_mean": 0.88}}]
    path = draw_learning_curve(rows, adaptation.TARGETS, tmp_path / "curve.png")
    picture = cv2.imread(str(path))
    assert picture is not None and picture.shape[:2] == (560, 900)
    for _, _, colour, _ in SERIES:
        assert np.all(picture == colour, axis=2).sum() > 200  # a line and its markers in that colour
    with pytest.raises(ValueError):
        draw_learning_curve([], adaptation.TARGETS, tmp_path / "none.png")


def test_sizes_are_checked():
    assert adaptation.parse_sizes("50,10,25") == [10, 25, 50]
    with pytest.raises(SystemExit):
        adaptation.parse_sizes("10,x")
    with pytest.raises(SystemExit):
        adaptation.parse_sizes("0")
