"""Real ``bloodview evaluate`` report folders for the before/after tests, without TensorFlow.

A "model" here is a predictions file made from the ground truth itself: the
same outlines with a score, and either the true classes or every cell given the
next class in the file's category list (all wrong). The reports are written by
the real ``bloodview evaluate --pred`` (pycocotools and all), so the figures the
comparison shows are what the real command computes for such predictions.
Also imported by the stand-in CLI scripts the dialog tests run as processes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path


def square(x: float, y: float, side: float = 30) -> list[list[float]]:
    return [[x, y, x + side, y, x + side, y + side, x, y + side]]


def write_gt(path: Path, images: int = 2, cells_per_image: int = 3) -> Path:
    """A COCO file of ``images`` 200 x 160 images, each with ``cells_per_image`` 30-px squares."""
    categories = [{"id": 1, "name": "neutrophil"}, {"id": 2, "name": "lymphocyte"}]
    entries = [{"id": k, "file_name": f"img{k}.png", "width": 200, "height": 160} for k in range(1, images + 1)]
    annotations = []
    for image in entries:
        for j in range(cells_per_image):
            x, y = 5 + 38 * (j % 5), 20 + 60 * (j // 5)
            annotations.append({"id": len(annotations) + 1, "image_id": image["id"], "category_id": 1 + j % 2,
                                "segmentation": square(x, y), "bbox": [x, y, 30, 30], "area": 900,
                                "iscrowd": 0})
    path.write_text(json.dumps({"images": entries, "annotations": annotations, "categories": categories}))
    return path


def write_predictions(gt_path: Path, out: Path, wrong: bool) -> Path:
    """The ground truth's cells with score 0.9; ``wrong``: each with the next category instead."""
    coco = copy.deepcopy(json.loads(Path(gt_path).read_text()))
    ids = [c["id"] for c in coco["categories"]]
    for annotation in coco["annotations"]:
        annotation["score"] = 0.9
        if wrong:
            annotation["category_id"] = ids[(ids.index(annotation["category_id"]) + 1) % len(ids)]
    out.write_text(json.dumps(coco))
    return out


def report_folder(gt_path: Path, out: Path, wrong: bool, images: Path | None = None) -> Path:
    """Run the real ``bloodview evaluate --pred`` on such predictions; returns the report folder."""
    from bloodview.cli.main import main

    out.mkdir(parents=True, exist_ok=True)
    predictions = write_predictions(gt_path, out / "stand_in_predictions.json", wrong)
    args = ["evaluate", "--gt", str(gt_path), "--pred", str(predictions), "--out", str(out)]
    if images is not None:
        args += ["--images", str(images)]
    code = main(args)
    if code != 0:
        raise RuntimeError(f"bloodview evaluate exited with {code}")
    return out
