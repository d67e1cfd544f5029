"""Outline simplification on real model outlines: vertices before/after and mask IoU.

Runs the default model (or ``--model``) on PBC ``val`` images spread evenly over the
classes, keeps each detection's outline as traced from its mask (pixel edges), then
simplifies it with :func:`bloodview.core.geometry.simplify_outlines` (what
``detections_to_instances`` does by default) and reports vertices per outline and
the mask IoU of each simplified cell with its traced one.

    .venv/bin/python benchmarks/outline_simplify.py [--images 40] [--model DIR] [--data /work/shared/data/pbc]
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import sys
import time
from pathlib import Path

import numpy as np

from bloodview.core.geometry import polygons_bbox, polygons_to_mask, simplify_outlines

REPO = Path(__file__).resolve().parents[1]


def pbc_val_images(data: Path, count: int) -> list[Path]:
    """``count`` val images, taken in turn from each class (sorted file names)."""
    with open(data / "manifest.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["split"] == "val"]
    by_class: dict[str, list[Path]] = {}
    for row in sorted(rows, key=lambda r: r["file"]):
        by_class.setdefault(row["class"], []).append(data / row["class"] / row["file"])
    picked: list[Path] = []
    while len(picked) < count and any(by_class.values()):
        for paths in by_class.values():
            if paths and len(picked) < count:
                picked.append(paths.pop(0))
    return picked


def cell_iou(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """Mask IoU of two outlines rasterised on the pixel grid around both."""
    x1, y1, x2, y2 = polygons_bbox(list(a) + list(b))
    x0, y0 = int(np.floor(x1)), int(np.floor(y1))
    h, w = int(np.ceil(y2)) - y0 + 1, int(np.ceil(x2)) - x0 + 1
    shift = np.array([x0, y0], dtype=np.float64)
    ma = polygons_to_mask([p - shift for p in a], h, w)
    mb = polygons_to_mask([p - shift for p in b], h, w)
    union = np.logical_or(ma, mb).sum()
    return float(np.logical_and(ma, mb).sum() / union) if union else 1.0


def traced_outlines(model_dir: Path, images: list[Path]) -> list[list[np.ndarray]]:
    """Every detected cell's outline exactly as traced from its mask (simplification off)."""
    import bloodview.model.predict as predict
    from bloodview.model.postprocess import detections_to_instances

    # The predictor post-processes with simplify=True by default; this measurement needs the
    # traced outlines, so the predictor's post-processing runs with it off here.
    predict.detections_to_instances = functools.partial(detections_to_instances, simplify=False)
    predictor = predict.Predictor.load(model_dir)
    found = predictor.predict([str(p) for p in images])
    return [[p.copy() for p in cell.polygons] for cells in found for cell in cells]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--model", type=Path, default=REPO / "resources" / "models" / "default")
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data/pbc"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if not (args.data / "manifest.csv").is_file():
        print(f"no PBC data at {args.data}", file=sys.stderr)
        return 1
    images = pbc_val_images(args.data, args.images)
    cells = traced_outlines(args.model, images)
    start = time.perf_counter()
    simplified = [simplify_outlines(c) for c in cells]
    seconds = time.perf_counter() - start
    before = np.array([len(p) for c in cells for p in c])
    after = np.array([len(p) for c in simplified for p in c])
    ious = np.array([cell_iou(a, b) for a, b in zip(cells, simplified)])
    figures = {
        "images": len(images), "cells": len(cells), "outlines": int(before.size),
        "points_before": {"mean": float(before.mean()), "median": float(np.median(before)),
                          "min": int(before.min()), "max": int(before.max())},
        "points_after": {"mean": float(after.mean()), "median": float(np.median(after)),
                         "p90": float(np.percentile(after, 90)), "min": int(after.min()), "max": int(after.max())},
        "iou": {"min": float(ious.min()), "mean": float(ious.mean()), "below_099": int((ious < 0.99).sum())},
        "ms_per_cell": 1000 * seconds / max(1, len(cells)),
    }
    print(f"{figures['images']} PBC val images, {figures['cells']} cells, {figures['outlines']} outlines")
    print("points per outline  before: mean {mean:.0f}, median {median:.0f}, range {min}-{max}".format(
        **figures["points_before"]))
    print("points per outline  after:  mean {mean:.1f}, median {median:.0f}, 90th pct {p90:.0f}, "
          "range {min}-{max}".format(**figures["points_after"]))
    print("mask IoU simplified vs traced: min {min:.4f}, mean {mean:.4f}, cells below 0.99: {below_099}".format(
        **figures["iou"]))
    print(f"simplify: {figures['ms_per_cell']:.2f} ms per cell")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
