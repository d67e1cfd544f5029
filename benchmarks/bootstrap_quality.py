"""Whole-cell IoU of the bootstrap segmenter against Zheng et al.'s expert masks.

Usage: ``.venv/bin/python benchmarks/bootstrap_quality.py [ZHENG_DATASET_1_DIR] [--limit N]``
(default ``../shared/data/zheng_wbc/Dataset 1``). Prints mean, median, 10th
percentile and minimum IoU over the images, and the worst ten. The same
algorithm as for PBC (``segment_cell`` with no class hint); the stain
normalisation (OD relative to each image's glass colour) handles the yellow
background.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bloodview.bootstrap.reference import read_pair, reference_pairs  # noqa: E402
from bloodview.bootstrap.segment_cell import segment_cell  # noqa: E402
from bloodview.core.geometry import mask_iou  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=REPO.parent / "shared" / "data" / "zheng_wbc" / "Dataset 1")
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    pairs = reference_pairs(args.folder)[: args.limit]
    if not pairs:
        print(f"no NNN.bmp + NNN.png pairs in {args.folder}", file=sys.stderr)
        return 1
    scores, names = [], []
    start = time.perf_counter()
    for pair in pairs:
        rgb, truth = read_pair(pair)
        scores.append(mask_iou(segment_cell(rgb).mask, truth))
        names.append(pair.image.stem)
    elapsed = time.perf_counter() - start
    ious = np.asarray(scores)
    print(f"images: {len(ious)}  ({len(ious) / elapsed:.1f} images/s, one process)")
    print(f"whole-cell IoU  mean {ious.mean():.3f}  median {np.median(ious):.3f}  "
          f"p10 {np.percentile(ious, 10):.3f}  min {ious.min():.3f}")
    print(f"share >= 0.85: {(ious >= 0.85).mean():.2f}   share >= 0.70: {(ious >= 0.70).mean():.2f}")
    worst = np.argsort(ious)[:10]
    print("worst:", ", ".join(f"{names[i]} {ious[i]:.2f}" for i in worst))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
