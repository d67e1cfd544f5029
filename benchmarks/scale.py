"""The red-cell scale estimate (bloodview.core.scale) on PBC val, BCCD and Zheng images.

Usage: ``.venv/bin/python benchmarks/scale.py [DATA_DIR] [--limit N]``.

Prints, per source: images, the share with an estimate (and with a "good" one), the median / p10 /
p90 of the estimated red-cell diameter in pixels, and seconds per image (decode excluded). For
BCCD it also compares each image's estimate with the median size ((w + h) / 2) of its whole RBC
boxes (boxes 2 px or more inside the image): median and p10/p90 of estimate / boxes, and the
share within 10 %. Then a 640x480 field and a 4000x3000 field (a BCCD field and a PBC mosaic
scaled up) are timed.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bloodview.core.scale import estimate_scale  # noqa: E402
from bloodview.io.images import load_image  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=0, help="at most N images per source (0: all)")
    args = parser.parse_args()
    sources = {
        "PBC val": _pbc_val(args.data / "pbc"),
        "BCCD": sorted((args.data / "bccd" / "JPEGImages").glob("*.jpg")),
        "Zheng Dataset 1": sorted((args.data / "zheng_wbc" / "Dataset 1").glob("*.bmp")),
    }
    for name, paths in sources.items():
        if args.limit:
            paths = paths[:: max(1, len(paths) // args.limit)][: args.limit]
        if not paths:
            print(f"{name}: no images under {args.data}")
            continue
        _report(name, paths, args.data / "bccd" / "Annotations" if name == "BCCD" else None)
    _time_large(args.data)
    return 0


def _pbc_val(folder: Path) -> list[Path]:
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["split"] == "val"]
    return [folder / row["class"] / row["file"] for row in rows]


def _report(name: str, paths: list[Path], annotations: Path | None) -> None:
    diameters, good, seconds, ratios = [], 0, [], []
    for path in paths:
        image = load_image(path)
        start = time.perf_counter()
        estimate = estimate_scale(image)
        seconds.append(time.perf_counter() - start)
        if estimate is None:
            continue
        diameters.append(estimate.rbc_diameter_px)
        good += estimate.confidence == "good"
        if annotations is not None:
            reference = _box_diameter(annotations / f"{path.stem}.xml")
            if reference:
                ratios.append(estimate.rbc_diameter_px / reference)
    n = len(paths)
    print(f"{name}: {n} images, estimate on {len(diameters)} ({len(diameters) / n:.0%}), "
          f"'good' on {good} ({good / n:.0%}), {np.mean(seconds):.3f} s/image "
          f"(max {np.max(seconds):.3f})")
    if diameters:
        p10, p50, p90 = np.percentile(diameters, [10, 50, 90])
        print(f"  red-cell diameter px: median {p50:.1f}, p10 {p10:.1f}, p90 {p90:.1f}")
    if ratios:
        r = np.asarray(ratios)
        q10, q50, q90 = np.percentile(r, [10, 50, 90])
        print(f"  vs whole RBC boxes ({r.size} images): estimate/boxes median {q50:.3f}, "
              f"p10 {q10:.3f}, p90 {q90:.3f}; within 10 %: {np.mean(np.abs(r - 1) <= 0.10):.0%}")


def _box_diameter(xml_path: Path) -> float | None:
    """Median (w + h) / 2 of the RBC boxes wholly inside the image, or None."""
    root = ET.parse(xml_path).getroot()
    width, height = int(root.findtext("size/width")), int(root.findtext("size/height"))
    sizes = []
    for item in root.iter("object"):
        if item.findtext("name") != "RBC":
            continue
        x1, y1, x2, y2 = (float(item.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax"))
        if x2 <= x1 or y2 <= y1 or x1 < 2 or y1 < 2 or x2 > width - 2 or y2 > height - 2:
            continue
        sizes.append((x2 - x1 + y2 - y1) / 2)
    return float(np.median(sizes)) if sizes else None


def _time_large(data: Path) -> None:
    import cv2

    field = data / "bccd" / "JPEGImages" / "BloodImage_00100.jpg"
    if not field.is_file():
        return
    image = load_image(field)
    for label, frame in (("640x480 BCCD field", image),
                         ("4000x3000 (BCCD field scaled x6.25)", cv2.resize(image, (4000, 3000)))):
        estimate_scale(frame)
        start = time.perf_counter()
        runs = 5
        for _ in range(runs):
            estimate = estimate_scale(frame)
        took = (time.perf_counter() - start) / runs
        found = f"{estimate.rbc_diameter_px:.1f} px" if estimate else "none"
        print(f"{label}: {took:.3f} s, red-cell diameter {found}")


if __name__ == "__main__":
    sys.exit(main())
