"""``bootstrap --pixel-size`` on BCCD fields at another magnification (bloodview.bootstrap.scale).

Usage: ``.venv/bin/python benchmarks/bootstrap_scale.py [--shrink 0.33] [--images 20] [DATA_DIR]``.

Each BCCD field is segmented in its boxes at full size (the reference), then shrunk by
``--shrink`` (a lower-magnification camera; > 1: a higher one) with its boxes and segmented
three ways: as it is, with its pixel size given (BCCD's 0.0825 µm / shrink) and with
``auto`` (measured on its red cells). Prints, per way, the masks made, the IoU of each
reference cell with its best mask (mean, median, share >= 0.7) and seconds. This measures
agreement with the full-size segmentation, not accuracy (BCCD has boxes only).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from bloodview.bootstrap.inputs import WorkItem, scan_boxes
from bloodview.bootstrap.runner import process_item
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import polygons_to_mask

BCCD_PIXEL_SIZE_UM = 0.0825  # 7.5 µm / BCCD's 90.9-px median red cell (docs/scale.md)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data")
    parser.add_argument("--shrink", type=float, default=1 / 3)
    parser.add_argument("--images", type=int, default=20)
    args = parser.parse_args()
    bccd = args.data / "bccd"
    if not (bccd / "Annotations").is_dir():
        print(f"no BCCD data in {bccd}", file=sys.stderr)
        return 1
    ways = {"as is": None, "given": BCCD_PIXEL_SIZE_UM / args.shrink, "auto": "auto"}
    ious: dict[str, list[float]] = {k: [] for k in ways}
    masks_made = dict.fromkeys(ways, 0)
    seconds = dict.fromkeys(ways, 0.0)
    cells = 0
    with tempfile.TemporaryDirectory() as work:
        scan = scan_boxes(bccd / "Annotations", bccd / "JPEGImages", ClassCatalogue.pbc())
        for item in sorted(scan.items, key=lambda i: i.relative)[: args.images]:
            name, boxes = item.relative.name, item.boxes
            image = cv2.imread(str(item.path))
            full = process_item(item)
            h, w = round(image.shape[0] * args.shrink), round(image.shape[1] * args.shrink)
            interpolation = cv2.INTER_AREA if args.shrink < 1 else cv2.INTER_LINEAR
            cv2.imwrite(str(Path(work) / name), cv2.resize(image, (w, h), interpolation=interpolation),
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            small = WorkItem(Path(work) / name, Path(name), None,
                             boxes=tuple((c, tuple(v * args.shrink for v in b)) for c, b in boxes))
            references = [polygons_to_mask([p * args.shrink for p in c.polygons], h, w) for c in full.cells]
            cells += len(references)
            for way, option in ways.items():
                started = time.perf_counter()
                result = process_item(small, pixel_size=option)
                seconds[way] += time.perf_counter() - started
                masks = [polygons_to_mask(c.polygons, h, w) for c in result.cells]
                masks_made[way] += len(masks)
                ious[way].extend(max([(r & m).sum() / max(1, (r | m).sum()) for m in masks] or [0.0])
                                 for r in references)
    print(f"shrink {args.shrink:.3g}: {args.images} BCCD fields, {cells} cells segmented at full size")
    for way, values in ious.items():
        a = np.array(values)
        print(f"  {way:6s} masks {masks_made[way]:4d}  IoU with the full-size mask: mean {a.mean():.3f} "
              f"median {np.median(a):.3f}  >= 0.7: {(a >= 0.7).mean():.2f}  {seconds[way]:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
