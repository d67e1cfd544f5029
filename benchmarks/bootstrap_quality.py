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
from bloodview.bootstrap.quality import measure_cues, score  # noqa: E402
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
    scores, names, cues = [], [], []
    start = time.perf_counter()
    for pair in pairs:
        rgb, truth = read_pair(pair)
        result = segment_cell(rgb)
        scores.append(mask_iou(result.mask, truth))
        names.append(pair.image.stem)
        cues.append(measure_cues(result.mask, result.alternative))
    elapsed = time.perf_counter() - start
    ious = np.asarray(scores)
    print(f"images: {len(ious)}  ({len(ious) / elapsed:.1f} images/s, one process)")
    print(f"whole-cell IoU  mean {ious.mean():.3f}  median {np.median(ious):.3f}  "
          f"p10 {np.percentile(ious, 10):.3f}  min {ious.min():.3f}")
    print(f"share >= 0.85: {(ious >= 0.85).mean():.2f}   share >= 0.70: {(ious >= 0.70).mean():.2f}")
    worst = np.argsort(ious)[:10]
    print("worst:", ", ".join(f"{names[i]} {ious[i]:.2f}" for i in worst))
    typical = float(np.median([c.area for c in cues if c.area > 0]))
    quality = np.array([score(c, typical) for c in cues])
    low = quality <= np.percentile(quality, 10)
    print(f"quality score: mean IoU of the 10 % lowest-quality masks {ious[low].mean():.3f}, "
          f"of the rest {ious[~low].mean():.3f}; masks with IoU < 0.8: {(ious < 0.8).sum()}, "
          f"of which in the lowest-quality 10 %: {(low & (ious < 0.8)).sum()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
