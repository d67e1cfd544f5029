"""The cell classifier alone, on cells whose place and scale are known (no detector in the way).

Usage: .venv/bin/python benchmarks/cell_classifier.py --model MODEL_DIR [--pbc-pixel-size 0.1029]
       [--zheng-pixel-size 0.17] [--only pbc,zheng] [--json OUT.json]

``benchmarks/fields.py`` measures what a user gets (detector boxes, then the classifier on them).
This script asks a narrower question: given the right cell centre and the right pixel size, how
often does the model's cell classifier name the cell right?

pbc    PBC ``val`` (480 images): crop centred on the image (its cell of interest), the PBC pixel size.
       The temperature was fitted on these cells, so the calibration figures are in-sample (one
       number fitted on 480 cells; noted, not hidden).
zheng  Zheng Dataset 1 (300 crops, another lab, never trained on): crop centred on the expert
       whole-cell mask's box, at ``--zheng-pixel-size``; the 5 classes of the data set (a call of
       another class is wrong).

Prints accuracy, per-class accuracy, the confusion rows, and the share of wrong / right calls
scoring below the review threshold (0.75, the GUI's default) with the model's temperature.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from field_data import pbc_val, zheng_pictures

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
REVIEW_THRESHOLD = 0.75


def score_calls(classifier, cells: list[tuple[np.ndarray, tuple[float, float], float, str]]) -> dict:
    """``cells``: (rgb, centre (y, x), µm per pixel, true class) -> accuracy and review-threshold figures."""
    names = classifier.spec.class_names
    calls, scores, truth = [], [], []
    started = time.perf_counter()
    for rgb, centre, um, label in cells:
        probs = classifier.probabilities(classifier.crops(rgb, [centre], um))[0]
        calls.append(names[int(np.argmax(probs))])
        scores.append(float(probs.max()))
        truth.append(label)
    seconds = (time.perf_counter() - started) / max(1, len(cells))
    right = np.array([c == t for c, t in zip(calls, truth)])
    low = np.array(scores) < REVIEW_THRESHOLD
    per_class = {}
    for name in sorted(set(truth)):
        mine = np.array([t == name for t in truth])
        per_class[name] = {"cells": int(mine.sum()), "accuracy": round(float(right[mine].mean()), 4),
                           "called": dict(Counter(c for c, t in zip(calls, truth) if t == name).most_common())}
    return {
        "cells": len(cells),
        "accuracy": round(float(right.mean()), 4) if len(cells) else None,
        "per_class": per_class,
        "wrong_below_threshold": round(float(low[~right].mean()), 4) if (~right).any() else None,
        "right_below_threshold": round(float(low[right].mean()), 4) if right.any() else None,
        "seconds_per_cell": round(seconds, 4),
    }


def pbc_cells(root: Path, um: float):
    from bloodview.io.images import load_image
    from bloodview.model.data import as_rgb

    for image in pbc_val(root):
        rgb = as_rgb(load_image(root / image.image_path))
        yield rgb, (rgb.shape[0] / 2.0, rgb.shape[1] / 2.0), um, image.image_label


def zheng_cells(folder: Path, um: float):
    for picture in zheng_pictures(folder):
        if not picture.cells or picture.cells[0].class_name == "unlabelled":
            continue
        cell = picture.cells[0]
        x1, y1, x2, y2 = cell.bbox
        yield picture.rgb, ((y1 + y2) / 2.0, (x1 + x2) / 2.0), um, cell.class_name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "resources/models/default"))
    parser.add_argument("--only", default="pbc,zheng")
    parser.add_argument("--pbc", default=str(DATA / "pbc"))
    parser.add_argument("--zheng", default=str(DATA / "zheng_wbc" / "Dataset 1"))
    parser.add_argument("--pbc-pixel-size", type=float, default=0.1029)
    parser.add_argument("--zheng-pixel-size", type=float, default=0.17)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from bloodview.model.cell_classifier import CellClassifier
    from bloodview.model.store import read_model_info

    spec = read_model_info(args.model).classifier_spec
    if spec is None:
        print(f"{args.model}: this model has no cell classifier", file=sys.stderr)
        return 2
    classifier = CellClassifier.load(args.model, spec)
    print(f"classifier: {spec.backbone}, {spec.input_size} px at {spec.pixel_size_um} µm/px, "
          f"temperature {spec.temperature:.3f}")
    results = {"model": args.model, "threshold": REVIEW_THRESHOLD}
    sections = {"pbc": lambda: pbc_cells(Path(args.pbc), args.pbc_pixel_size),
                "zheng": lambda: zheng_cells(Path(args.zheng), args.zheng_pixel_size)}
    for name in args.only.split(","):
        if not Path(args.pbc if name == "pbc" else args.zheng).is_dir():
            print(f"{name}: data not found, skipped")
            continue
        result = score_calls(classifier, list(sections[name]()))
        results[name] = result
        print(f"\n{name}: {result['cells']} cells, accuracy {result['accuracy']}, wrong calls below "
              f"{REVIEW_THRESHOLD}: {result['wrong_below_threshold']}, right calls below: "
              f"{result['right_below_threshold']}, {result['seconds_per_cell']} s per cell")
        for cls, row in result["per_class"].items():
            print(f"  {cls:14s} {row['cells']:4d} cells  accuracy {row['accuracy']:.3f}  called {row['called']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
