"""The default model's targets on the PBC val split (issue "Default model and first run").

Usage: python benchmarks/default_model.py [--model resources/models/default]
       [--gt pbc_bootstrap.json] [--pbc ../shared/data/pbc] [--limit N] [--out FILE.json]

Prints, for the val split of the PBC folders (manifest.csv; never trained on):
- 8-class accuracy of the cell of interest over all val images (the image's folder label vs
  the class of the prediction chosen by the evaluation's cell-of-interest rule; no prediction
  = wrong),
- mask IoU of that cell vs the image's outline in the bootstrap COCO file, for the images
  that have one (mean, median, p10; no prediction = 0),
- inference seconds per image (batch 1, after a warm-up) and peak RSS.
Targets: accuracy >= 0.95, mean IoU >= 0.85, <= 0.3 s per image on the 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "resources/models/default"))
    parser.add_argument("--gt", required=True, help="bootstrap COCO file of ../shared/data/pbc")
    parser.add_argument("--pbc", default=str(REPO.parent / "shared/data/pbc"))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--min-confidence", type=float, default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    from bloodview.core.geometry import mask_iou
    from bloodview.evaluation.matching import cell_of_interest
    from bloodview.io.class_folders import load_class_folders
    from bloodview.io.coco import load_coco
    from bloodview.io.images import load_image
    from bloodview.model.predict import Predictor

    # Every val image of the PBC folders counts for accuracy (480); mask IoU needs the image's
    # bootstrap outline, which a few pale platelets lack (they are left out of the IoU only).
    val = [img for img in load_class_folders(args.pbc) if img.split == "val"]
    val.sort(key=lambda img: img.image_path.as_posix())
    outlines = {img.image_path.as_posix(): img.instances[0]
                for img in load_coco(args.gt, images_root=args.pbc) if img.instances}
    if args.limit:
        val = [val[i] for i in np.linspace(0, len(val) - 1, args.limit).round().astype(int)]
    predictor = Predictor.load(args.model)
    root = Path(args.pbc)
    predictor.predict([load_image(root / val[0].image_path)])  # warm-up (graph tracing)

    correct, ious, seconds = 0, [], []
    confusion: Counter[tuple[str, str]] = Counter()
    for image in val:
        array = load_image(root / image.image_path)
        start = time.perf_counter()
        cells = predictor.predict([array], min_confidence=args.min_confidence)[0]
        seconds.append(time.perf_counter() - start)
        truth = image.image_label
        pick = cell_of_interest(cells, image.width, image.height)
        guess = cells[pick].class_name if pick is not None else "(none)"
        confusion[(truth, guess)] += 1
        correct += guess == truth
        outline = outlines.get(image.image_path.as_posix())
        if outline is None:
            continue
        if pick is not None:
            ious.append(mask_iou(cells[pick].to_mask(image.height, image.width),
                                 outline.to_mask(image.height, image.width)))
        else:
            ious.append(0.0)

    n = len(val)
    per_class = {}
    for name in sorted({t for t, _ in confusion}):
        total = sum(v for (t, _), v in confusion.items() if t == name)
        per_class[name] = confusion[(name, name)] / total if total else None
    result = {
        "images": n,
        "images_with_outline": len(ious),
        "accuracy": correct / n,
        "per_class_accuracy": per_class,
        "mask_iou_mean": float(np.mean(ious)),
        "mask_iou_median": float(np.median(ious)),
        "mask_iou_p10": float(np.percentile(ious, 10)),
        "seconds_per_image_median": statistics.median(seconds),
        "seconds_per_image_mean": statistics.fmean(seconds),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "confusions": {f"{t}->{g}": v for (t, g), v in sorted(confusion.items()) if t != g},
    }
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
