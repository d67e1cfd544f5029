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
import os
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
    diameters, good, seconds, ratios, looseness, good_ratio = [], 0, [], [], [], []
    for path in paths:
        image = load_image(path)
        start = time.perf_counter()
        estimate = estimate_scale(image)
        seconds.append(time.perf_counter() - start)
        if annotations is not None:
            looseness += _isolated_cell_per_box(image, annotations / f"{path.stem}.xml")
        if estimate is None:
            continue
        diameters.append(estimate.rbc_diameter_px)
        good += estimate.confidence == "good"
        if annotations is not None:
            reference = _box_diameter(annotations / f"{path.stem}.xml")
            if reference:
                ratios.append(estimate.rbc_diameter_px / reference)
                good_ratio.append(estimate.confidence == "good")
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
    if ratios and looseness:
        cell = float(np.median(looseness))
        r = np.asarray(ratios) / cell
        print(f"  the boxes are loose: an isolated round cell's equivalent diameter is {cell:.3f} x its "
              f"box's (w + h) / 2 (median of {len(looseness)} cells); estimate / (box x {cell:.3f}): "
              f"median {np.median(r):.3f}, within 10 %: {np.mean(np.abs(r - 1) <= 0.10):.0%}")
        flags = np.asarray(good_ratio)
        for label, pick in (("good", flags), ("weak", ~flags)):
            if pick.any():
                print(f"    '{label}' estimates ({pick.sum()}): within 10 %: {np.mean(np.abs(r[pick] - 1) <= 0.10):.0%}, "
                      f"p10 {np.percentile(r[pick], 10):.3f}, p90 {np.percentile(r[pick], 90):.3f}")


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


def _isolated_cell_per_box(image: np.ndarray, xml_path: Path) -> list[float]:
    """Equivalent diameter / box size of the image's isolated, round, whole blobs that one RBC box
    is centred on (within 15 px): how much larger than its cell a BCCD box is drawn. Blobs are
    the green optical density thresholded 40 % of the way from the glass to the cells."""
    import cv2

    green = -np.log10((image[:, :, 1].astype(np.float32) + 1) / (np.percentile(image[:, :, 1], 99) + 1))
    glass, cells = np.percentile(green, 10), np.percentile(green, 80)
    mask = cv2.morphologyEx((green > glass + 0.4 * (cells - glass)).astype(np.uint8), cv2.MORPH_OPEN,
                            np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    root = ET.parse(xml_path).getroot()
    boxes = [[float(item.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")]
             for item in root.iter("object") if item.findtext("name") == "RBC"]
    h, w = mask.shape
    ratios = []
    for contour in contours:
        area = cv2.contourArea(contour)
        x, y, bw, bh = cv2.boundingRect(contour)
        if area < 1500 or x <= 1 or y <= 1 or x + bw >= w - 1 or y + bh >= h - 1:
            continue
        if area / cv2.contourArea(cv2.convexHull(contour)) < 0.94 or 4 * np.pi * area / cv2.arcLength(contour, True) ** 2 < 0.78:
            continue
        cx, cy = x + bw / 2, y + bh / 2
        near = [b for b in boxes if np.hypot((b[0] + b[2]) / 2 - cx, (b[1] + b[3]) / 2 - cy) < 15]
        if near:
            b = near[0]
            ratios.append(2 * np.sqrt(area / np.pi) / ((b[2] - b[0] + b[3] - b[1]) / 2))
    return ratios


def _time_large(data: Path) -> None:
    """Seconds for a 640x480 field and for two 4000x3000 frames: a BCCD field scaled up (big
    cells, measured on the 512-px copy) and a mosaic of PBC images at their own scale (72-px
    cells, 9 px on the first copy, so measured again on a larger one)."""
    import cv2

    field = data / "bccd" / "JPEGImages" / "BloodImage_00100.jpg"
    crops = _pbc_val(data / "pbc")[::4][:108]
    if not field.is_file() or not crops:
        return
    image = load_image(field)
    tiles = [cv2.resize(load_image(path), (360, 360)) for path in crops]
    rows = [np.hstack(tiles[i * 12:(i + 1) * 12]) for i in range(9)]
    mosaic = np.ascontiguousarray(np.vstack(rows)[:3000, :4000])
    frames = (("640x480 BCCD field", image),
              ("4000x3000 BCCD field scaled x6.25", cv2.resize(image, (4000, 3000))),
              ("4000x3000 mosaic of 108 PBC val images", mosaic))
    for label, frame in frames:
        estimate_scale(frame)
        runs = 3
        start = time.perf_counter()
        for _ in range(runs):
            estimate = estimate_scale(frame)
        took = (time.perf_counter() - start) / runs
        found = f"{estimate.rbc_diameter_px:.1f} px from {estimate.cells_measured} cells" if estimate else "none"
        print(f"{label}: {took:.3f} s, red-cell diameter {found}")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    sys.exit(main())
