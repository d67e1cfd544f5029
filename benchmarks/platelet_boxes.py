"""BCCD's platelet boxes against the model's platelet outlines: is a platelet missed, or boxed loosely?

Usage: .venv/bin/python benchmarks/platelet_boxes.py [--model resources/models/default]
       [--bccd ../shared/data/bccd] [--split test] [--png OUT.png] [--json OUT.json]

Issue #13 counts a BCCD platelet found when a platelet detection's box reaches box IoU >= 0.5 with
it (benchmarks/fields.py, ``platelets_found``). BCCD's annotators drew their platelet boxes with a
margin, so a correct outline of the platelet can sit wholly inside its box and still score below
0.5 (a box 1.5 times the outline's side gives IoU 0.44). This script separates the two: each
platelet box is paired with the platelet detection whose box centre it holds (fields.py's
``centre_pairs``, one-to-one, best score first, as the app would count it), and for each pair it
prints the box IoU, the box's side against the outline's (square root of the area ratio) and the
share of the outline's box that lies inside the BCCD box. Boxes with no detection centre in them are
the platelets the model did not find. ``--png`` draws every pair below IoU 0.5 (green: BCCD's box,
yellow: the model's outline, the IoU in the corner; the crop 4x enlarged) to look at by eye.

The images are read as ``fields.py --only bccd`` reads them (the camera's scale where a field's
own red cells give none).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for path in (str(HERE), str(REPO)):
    if path not in sys.path:
        sys.path.insert(0, path)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from field_data import bccd_split  # noqa: E402
from fields import FOUND_IOU, Detector, centre_pairs  # noqa: E402

DATA = REPO.parent / "shared" / "data"
ZOOM = 4
MARGIN_PX = 20
TILE_PX = 240


def box_iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def pair_row(box, detection) -> dict:
    d = detection.bbox
    area_d = max(1e-6, (d[2] - d[0]) * (d[3] - d[1]))
    area_b = (box[2] - box[0]) * (box[3] - box[1])
    ix = max(0.0, min(d[2], box[2]) - max(d[0], box[0]))
    iy = max(0.0, min(d[3], box[3]) - max(d[1], box[1]))
    return {"iou": box_iou(box, d), "side_ratio": float(np.sqrt(area_b / area_d)),
            "outline_inside": ix * iy / area_d, "outline_side_px": float(np.sqrt(area_d)),
            "box_side_px": float(np.sqrt(area_b))}


def tile(rgb: np.ndarray, box, detection, iou: float) -> np.ndarray:
    import cv2

    x0, y0 = int(max(0, box[0] - MARGIN_PX)), int(max(0, box[1] - MARGIN_PX))
    x1, y1 = int(min(rgb.shape[1], box[2] + MARGIN_PX)), int(min(rgb.shape[0], box[3] + MARGIN_PX))
    crop = cv2.resize(np.ascontiguousarray(rgb[y0:y1, x0:x1]), None, fx=ZOOM, fy=ZOOM,
                      interpolation=cv2.INTER_NEAREST)
    corner = (int((box[0] - x0) * ZOOM), int((box[1] - y0) * ZOOM))
    cv2.rectangle(crop, corner, (int((box[2] - x0) * ZOOM), int((box[3] - y0) * ZOOM)), (0, 160, 0), 2)
    for polygon in detection.polygons:
        points = ((np.asarray(polygon) - [x0, y0]) * ZOOM).astype(np.int32)
        cv2.polylines(crop, [points], True, (255, 255, 0), 2)
    cv2.putText(crop, f"{iou:.2f}", (4, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 2)
    return cv2.resize(crop, (TILE_PX, TILE_PX))


def write_gallery(tiles: list[np.ndarray], path: Path, per_row: int = 5) -> None:
    import cv2

    blank = np.full((TILE_PX, TILE_PX, 3), 255, np.uint8)
    rows = [np.hstack(tiles[k:k + per_row] + [blank] * (per_row - len(tiles[k:k + per_row])))
            for k in range(0, len(tiles), per_row)]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))


def main() -> int:
    from bloodview.io.images import load_image

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(REPO / "resources" / "models" / "default"))
    parser.add_argument("--bccd", type=Path, default=DATA / "bccd")
    parser.add_argument("--split", default="test")
    parser.add_argument("--png", type=Path, help="draw the pairs below IoU 0.5 into this picture")
    parser.add_argument("--json", type=Path, help="write every pair's numbers")
    args = parser.parse_args()
    if not (args.bccd / "JPEGImages").is_dir():
        print(f"no BCCD data in {args.bccd}: nothing to measure")
        return 1

    detector = Detector(args.model, {}, None)
    images = bccd_split(args.bccd, args.split)
    detector.use_camera_scale(load_image(args.bccd / "JPEGImages" / i.image_path) for i in images)
    rows, tiles, boxes_total = [], [], 0
    for image in images:
        rgb = load_image(args.bccd / "JPEGImages" / image.image_path)
        predicted, _ = detector.detect(rgb, "bccd")
        platelets = [d for d in predicted if d.class_name == "platelet"]
        boxes = [c for c in image.instances if c.class_name == "platelet"]
        boxes_total += len(boxes)
        for cell, k in sorted(centre_pairs(boxes, platelets).items()):
            row = pair_row(boxes[cell].bbox, platelets[k]) | {"image": image.image_path.name}
            rows.append(row)
            if row["iou"] < FOUND_IOU and args.png:
                tiles.append(tile(rgb, boxes[cell].bbox, platelets[k], row["iou"]))

    low = [r for r in rows if r["iou"] < FOUND_IOU]
    median = lambda rs, key: float(np.median([r[key] for r in rs])) if rs else float("nan")  # noqa: E731
    print(f"BCCD {args.split}: {boxes_total} platelet boxes; {len(rows)} hold a platelet detection's centre "
          f"({len(rows) / max(1, boxes_total):.3f}), {boxes_total - len(rows)} hold none (not found)")
    print(f"  of the {len(rows)}: box IoU >= {FOUND_IOU} {len(rows) - len(low)} "
          f"({(len(rows) - len(low)) / max(1, boxes_total):.3f} of the boxes), below it {len(low)}")
    print(f"  box side / outline side: median {median(rows, 'side_ratio'):.2f} over all pairs, "
          f"{median(low, 'side_ratio'):.2f} over those below IoU {FOUND_IOU}")
    print(f"  share of the outline's box inside the BCCD box, pairs below IoU {FOUND_IOU}: median "
          f"{median(low, 'outline_inside'):.2f}, lowest {min((r['outline_inside'] for r in low), default=float('nan')):.2f}")
    print(f"  sides in pixels, median: outline {median(rows, 'outline_side_px'):.1f}, BCCD box {median(rows, 'box_side_px'):.1f}")
    if args.png and tiles:
        write_gallery(tiles, args.png)
        print(f"  {len(tiles)} pairs below IoU {FOUND_IOU} drawn in {args.png}")
    if args.json:
        args.json.write_text(json.dumps({"boxes": boxes_total, "pairs": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
