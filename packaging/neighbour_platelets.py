"""Give the PBC crops of a training file their neighbouring platelets, as the current model sees them.

Usage: python packaging/neighbour_platelets.py --data train_data.json --images ../shared/data
       --model resources/models/default --out train_data_platelets.json [--min-score 0.8]

Why: PBC labels one centred cell per image; the platelets lying round it are background to the
trainer, so every PBC crop teaches the detector that a platelet is *not* a cell, against the BCCD
fields that teach it is. A detector trained on both found 0.55 of BCCD's test platelets and did not
improve with more epochs (docs/model-card.md, stage 7). This script runs MODEL on each image of
the file that has a pixel size ``given`` and one outline (the PBC crops; BCCD fields are left as
they are) and adds its platelet detections with a score of at least ``--min-score`` that lie
outside the centred cell's outline (less than 20 % of the platelet on it) as ``platelet`` cells,
marked ``"bloodview": {"source": "model", "score": …}`` so they can be told apart. Platelets the
model misses stay background: this lessens the conflict, it does not end it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OVERLAP = 0.2
"""Share of a platelet that may lie on the centred cell's outline (else it is part of that cell)."""


def outline_mask(segmentation: list, height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    for flat in segmentation:
        points = np.round(np.asarray(flat, np.float64).reshape(-1, 2)).astype(np.int32)
        if len(points) >= 3:
            cv2.fillPoly(mask, [points], 1)
    return mask.astype(bool)


def read_training_file(path: Path) -> tuple[dict, int, dict[int, list]]:
    """A COCO training file, its ``platelet`` category id and its annotations by image id."""
    data = json.loads(path.read_text())
    platelet_id = next(c["id"] for c in data["categories"] if c["name"] == "platelet")
    by_image: dict[int, list] = {}
    for annotation in data["annotations"]:
        by_image.setdefault(annotation["image_id"], []).append(annotation)
    return data, platelet_id, by_image


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--model", default="resources/models/default")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--min-score", type=float, default=0.8)
    args = parser.parse_args()

    from bloodview.io.images import load_image
    from bloodview.model.predict import Predictor

    data, platelet_id, by_image = read_training_file(args.data)
    predictor = Predictor.load(args.model, cell_classifier=False)
    next_id = max((a["id"] for a in data["annotations"]), default=0) + 1
    added: Counter[str] = Counter()
    start = time.perf_counter()
    for image in data["images"]:
        cells = by_image.get(image["id"], [])
        pixel = image.get("bloodview", {}).get("pixel_size", {})
        if pixel.get("source") != "given" or len(cells) != 1 or not image["file_name"].startswith("pbc"):
            continue
        rgb = load_image(args.images / image["file_name"])
        height, width = rgb.shape[:2]
        centre = outline_mask(cells[0]["segmentation"], height, width)
        found = predictor.predict([rgb], pixel_size=pixel["um_per_pixel"], min_confidence=args.min_score)[0]
        for cell in found:
            if cell.class_name != "platelet":
                continue
            own = outline_mask([p.ravel().tolist() for p in cell.polygons], height, width)
            if not own.any() or (own & centre).sum() > OVERLAP * own.sum():
                continue
            x0, y0, x1, y1 = cell.bbox
            data["annotations"].append({
                "id": next_id, "image_id": image["id"], "category_id": platelet_id,
                "segmentation": [p.ravel().round(1).tolist() for p in cell.polygons],
                "bbox": [round(x0, 1), round(y0, 1), round(x1 - x0, 1), round(y1 - y0, 1)],
                "area": float(own.sum()), "iscrowd": 0,
                "bloodview": {"source": "model", "score": round(float(cell.score or 0.0), 3)},
            })
            next_id += 1
            added[image["file_name"].split("/")[1]] += 1
        added["images seen"] += 1
    args.out.write_text(json.dumps(data))
    print(f"{sum(v for k, v in added.items() if k != 'images seen')} neighbour platelets added on "
          f"{added['images seen']} PBC crops in {time.perf_counter() - start:.0f} s; per class folder: "
          f"{dict((k, v) for k, v in added.items() if k != 'images seen')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
