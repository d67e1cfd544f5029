"""Speed of ``bloodview.evaluation``: 2,000 images x 10 cells, masks + boxes + Table 5.

Synthetic but realistic: 512x512 images, cells are 32-gon discs of radius 18–40 px
(PBC cells at the model's 512 px input), predictions are the same discs moved by
0–6 px and resized by ±10 %, 5 % of cells missed, 5 % of predictions of the wrong
class, one spurious detection per 4 images. Target: under 30 s on the 2-core CPU.

    .venv/bin/python benchmarks/evaluation.py [--images 2000] [--cells 10] [--out DIR]

``--out DIR`` also writes the full report (JSON, Markdown, PNGs) and times that.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance, Source
from bloodview.evaluation.evaluate import evaluate
from bloodview.evaluation.reports import write_report

SIZE = 512


def disc(cx: float, cy: float, r: float, sides: int = 32) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    return np.stack([cx + r * np.cos(angles), cy + r * np.sin(angles)], axis=1)


def synthetic(images: int, cells: int, seed: int = 0) -> tuple[Dataset, Dataset]:
    rng = np.random.default_rng(seed)
    names = ClassCatalogue.pbc().names
    gt_images, pred_images = [], []
    for k in range(images):
        truth, predicted = [], []
        for c in range(cells):
            cx, cy = 50 + (c % 5) * 100 + rng.uniform(-5, 5), 120 + (c // 5) * 250 + rng.uniform(-5, 5)
            r = rng.uniform(18, 40)
            name = names[rng.integers(len(names))]
            truth.append(Instance([disc(cx, cy, r)], name))
            if rng.random() < 0.05:
                continue
            shift = rng.uniform(0, 6, size=2)
            label = names[rng.integers(len(names))] if rng.random() < 0.05 else name
            outline = disc(cx + shift[0], cy + shift[1], r * rng.uniform(0.9, 1.1))
            predicted.append(Instance([outline], label, score=rng.uniform(0.75, 1.0), source=Source.MODEL))
        if k % 4 == 0:
            predicted.append(Instance([disc(256, 256, 20)], names[0], score=0.8, source=Source.MODEL))
        gt_images.append(ImageAnnotation(f"img_{k:05d}.png", SIZE, SIZE, truth))
        pred_images.append(ImageAnnotation(f"img_{k:05d}.png", SIZE, SIZE, predicted))
    return Dataset(gt_images), Dataset(pred_images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--cells", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    start = time.perf_counter()
    gt, pred = synthetic(args.images, args.cells)
    built = time.perf_counter() - start
    print(f"built {args.images} images x {args.cells} cells in {built:.1f} s")

    start = time.perf_counter()
    report = evaluate(gt, pred)
    elapsed = time.perf_counter() - start
    mask, box, cls = report["mask"], report["box"], report["classification"]
    print(
        f"evaluate: {elapsed:.1f} s for {args.images} images, {gt.instance_count} cells, "
        f"{report['counts']['predictions']} predictions (target < 30 s)"
    )
    print(
        f"  mask mAP50 {mask['mAP50']:.3f}  mAP50_95 {mask['mAP50_95']:.3f}  mAR {mask['mAR']:.3f}  "
        f"box mAP50 {box['mAP50']:.3f}  accuracy {cls['accuracy']:.3f}"
    )
    if args.out is not None:
        start = time.perf_counter()
        write_report(report, args.out)
        print(f"write_report: {time.perf_counter() - start:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
