"""The classical red-cell finder alone (bloodview/core/red_cells.py), on BCCD fields and harder copies of them.

Usage: .venv/bin/python benchmarks/red_cells.py [--bccd ../shared/data/bccd] [--split test] [--limit N]
       [--big-size 4000x3000] [--json OUT.json]

For each BCCD field of the split (ImageSets/Main/<split>.txt; 72 test fields), at the pixel size its own
red cells give (``core/scale.estimate_scale``; 0.0825 µm/px, BCCD's median, where none can be measured):
the RBC boxes found, one-to-one by descending quality, at box IoU >= 0.5 (BCCD leaves many red cells
unboxed, so red cells matching no box are not counted as false); red cells per field; seconds per field.
The same for copies of each field as another lab's camera or lamp might give them: contrast halved
(``x / 2 + 110``), darker (``0.6 x``), softer (Gaussian blur, sigma 2 px). Then the finder's seconds on one
big field of BCCD test fields tiled edge to edge (``--big-size``, 0 to skip).

No network runs here: the white cells and platelets a model would exclude are not excluded, so the
figures differ a little from ``benchmarks/fields.py --only bccd`` (the whole prediction).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bloodview.core.red_cells import find_red_cells  # noqa: E402
from bloodview.core.scale import estimate_scale  # noqa: E402
from bloodview.evaluation.matching import iou_matrix, match_instances  # noqa: E402
from field_data import bccd_split, big_field  # noqa: E402

BCCD_MEDIAN_UM = 0.0825  # µm per pixel of BCCD's fields, median of their red cells (docs/model-card.md)
FOUND_IOU = 0.5
CONDITIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "as they are": lambda rgb: rgb,
    "contrast halved": lambda rgb: (rgb.astype(np.float32) * 0.5 + 110).astype(np.uint8),
    "darker (0.6 x)": lambda rgb: (rgb.astype(np.float32) * 0.6).astype(np.uint8),
    "softer (blur 2 px)": lambda rgb: cv2.GaussianBlur(rgb, (0, 0), 2.0),
}


def xywh(box: tuple[float, float, float, float]) -> list[float]:
    x1, y1, x2, y2 = box
    return [x1, y1, x2 - x1, y2 - y1]


def found_boxes(truth: list, cells: list) -> int:
    """RBC boxes matched one-to-one (best quality first) by a red cell's box at IoU >= 0.5."""
    if not truth or not cells:
        return 0
    boxes = [(c.polygon[:, 0].min(), c.polygon[:, 1].min(), c.polygon[:, 0].max(), c.polygon[:, 1].max())
             for c in cells]
    ious = iou_matrix(None, None, [xywh(t) for t in truth], [xywh(b) for b in boxes], use_boxes=True)
    return len(match_instances(ious, [c.quality for c in cells], FOUND_IOU))


def run_fields(root: Path, split: str, limit: int) -> dict:
    from bloodview.io.images import load_image

    images = bccd_split(root, split)
    if limit:
        images = images[:: max(1, len(images) // limit)][:limit]
    fields = []
    for image in images:
        rgb = load_image(root / "JPEGImages" / image.image_path)
        scale = estimate_scale(rgb)
        fields.append((rgb, scale.um_per_pixel if scale else BCCD_MEDIAN_UM,
                       [c.bbox for c in image.instances if c.class_name == "rbc"]))
    results = {}
    for name, change in CONDITIONS.items():
        boxes = found = cells = 0
        seconds = []
        for rgb, um, truth in fields:
            picture = change(rgb)
            start = time.perf_counter()
            red = find_red_cells(picture, um)
            seconds.append(time.perf_counter() - start)
            boxes += len(truth)
            found += found_boxes(truth, red)
            cells += len(red)
        results[name] = {"rbc_boxes": boxes, "rbc_found": found / boxes if boxes else None,
                         "red_cells_per_field": cells / len(fields), "seconds_per_field": statistics.median(seconds)}
        print(f"{name:>20}: {found} of {boxes} RBC boxes found ({results[name]['rbc_found']:.3f}), "
              f"{cells / len(fields):.1f} red cells per field, {statistics.median(seconds):.3f} s per field",
              flush=True)
    return {"split": split, "fields": len(fields), "conditions": results}


def run_big(root: Path, size: str) -> dict:
    width, height = (int(v) for v in size.lower().split("x"))
    picture = big_field(root, bccd_split(root, "test"), width, height)
    scale = estimate_scale(picture.rgb)
    um = scale.um_per_pixel if scale else BCCD_MEDIAN_UM
    find_red_cells(picture.rgb[:480, :640], um)  # warm-up
    runs = []
    for _ in range(2):
        start = time.perf_counter()
        red = find_red_cells(picture.rgb, um)
        runs.append(time.perf_counter() - start)
    print(f"{size} field: {len(red)} red cells in {statistics.median(runs):.2f} s (finder alone)", flush=True)
    return {"size": size, "red_cells": len(red), "seconds": statistics.median(runs), "seconds_runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bccd", type=Path, default=REPO.parent / "shared" / "data" / "bccd")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=0, help="at most N fields, spread over the split")
    parser.add_argument("--big-size", default="4000x3000", help="WIDTHxHEIGHT, or 0 to skip")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not (args.bccd / "Annotations").is_dir():
        print(f"skipped: BCCD not found at {args.bccd}")
        return 0
    results = {"fields": run_fields(args.bccd, args.split, args.limit)}
    if args.big_size != "0":
        results["big"] = run_big(args.bccd, args.big_size)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
