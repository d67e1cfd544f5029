"""Overfit check: can the engine learn a handful of real PBC cells? (prints figures; not a test)

Takes N real PBC images (one per class, ``train`` split, first by name) from
``../shared/data/pbc``, outlines the centred cell of each with the classical
bootstrap segmenter (``bloodview.bootstrap.segment_cell``; PBC has no expert
masks, so these outlines are the project's own, not ground truth), trains the
fast default backbone on them with augmentation off, then predicts the same
images and reports, per image, the mask IoU (in original pixels) of the
detection that best overlaps the outlined cell, and whether its class is right.

    .venv/bin/python benchmarks/overfit.py [--images 6] [--epochs 30] [--steps 10] [--size 256]

Target (issue "Mask R-CNN engine"): mean mask IoU >= 0.8 within a few minutes of CPU.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bloodview.core.annotation import Dataset, ImageAnnotation  # noqa: E402
from bloodview.core.classes import ClassCatalogue  # noqa: E402
from bloodview.core.geometry import mask_iou, mask_to_polygons  # noqa: E402
from bloodview.core.instance import Instance  # noqa: E402
from bloodview.io.coco import save_coco  # noqa: E402
from bloodview.io.images import load_image  # noqa: E402

CLASSES = ["neutrophil", "lymphocyte", "eosinophil", "monocyte", "basophil", "platelet", "erythroblast", "ig"]


def pick_images(pbc: Path, count: int) -> list[tuple[Path, str]]:
    rows = [line.split(",") for line in (pbc / "manifest.csv").read_text().splitlines()[1:]]
    chosen = []
    for name in CLASSES[:count]:
        files = sorted(r[0] for r in rows if r[1] == name and r[2].strip() == "train")
        chosen.append((pbc / name / files[0], name))
    return chosen


def outline(image: np.ndarray, class_name: str) -> np.ndarray:
    """The centred cell's mask from the bootstrap segmenter (a stain threshold if that is unavailable)."""
    try:
        from bloodview.bootstrap.segment_cell import segment_cell

        found = segment_cell(image, class_name)
        if found.found:
            return found.mask
    except ImportError:
        pass
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    _, dark = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    count, labels = cv2.connectedComponents(dark.astype(np.uint8))
    centre = labels[image.shape[0] // 2, image.shape[1] // 2]
    return labels == centre if centre else dark > 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pbc", type=Path, default=REPO.parent / "shared" / "data" / "pbc")
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.005)
    parser.add_argument("--backbone", default=None)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--model", type=Path, default=None, help="evaluate this trained model instead of training")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from bloodview.model.backbones import DEFAULT_FAST_BACKBONE
    from bloodview.model.predict import Predictor
    from bloodview.model.train import TrainOptions, train

    work = args.work or Path(tempfile.mkdtemp(prefix="bloodview-overfit-"))
    chosen = pick_images(args.pbc, args.images)
    catalogue = ClassCatalogue.pbc()
    images, truth = [], []
    for path, name in chosen:
        rgb = load_image(path)
        mask = outline(rgb, name)
        truth.append((rgb, mask, name))
        polygons = mask_to_polygons(mask)[:1]
        images.append(ImageAnnotation(path, rgb.shape[1], rgb.shape[0], [Instance(polygons, name)]))
    data = save_coco(Dataset(images, catalogue, args.pbc), work / "overfit.json", images_root=args.pbc)

    overrides = {
        "image_min_dim": args.size, "image_max_dim": args.size, "learning_rate": args.lr,
        "augment_flips": False, "augment_rot90": False, "augment_scale_range": [1.0, 1.0],
        "augment_color_jitter": 0.0, "detection_min_confidence": 0.5,
        "rpn_anchor_scales": [16, 32, 64, 128, 256] if args.size <= 256 else [32, 64, 128, 256, 512],
    }
    start = time.perf_counter()
    if args.model is None:
        train(TrainOptions(
            data=data, images=args.pbc, out=work / "model", backbone=args.backbone or DEFAULT_FAST_BACKBONE,
            epochs=args.epochs, steps_per_epoch=args.steps, val_ratio=0.0, overrides=overrides,
        ), show_bar=True)
    train_seconds = time.perf_counter() - start

    predictor = Predictor.load(args.model or work / "model")
    info = predictor.info
    found = predictor.predict([rgb for rgb, _, _ in truth], batch_size=2, min_confidence=0.3)
    rows = []
    for (path, _), (rgb, mask, name), cells in zip(chosen, truth, found):
        best_iou, best_class = 0.0, None
        for cell in cells:
            iou = mask_iou(cell.to_mask(rgb.shape[0], rgb.shape[1]), mask)
            if iou > best_iou:
                best_iou, best_class = iou, cell.class_name
        rows.append({"image": path.name, "class": name, "mask_iou": round(best_iou, 3),
                     "predicted_class": best_class, "detections": len(cells)})
    summary = {
        "backbone": info.backbone, "image_size": info.image_size, "images": len(rows),
        "epochs": info.training.get("epochs"), "steps_per_epoch": info.training.get("steps_per_epoch"),
        "train_seconds": round(train_seconds, 1) if args.model is None else None,
        "final_losses": {k: round(v, 4) for k, v in info.final_losses.items()},
        "mean_mask_iou": round(float(np.mean([r["mask_iou"] for r in rows])), 3),
        "class_accuracy": round(float(np.mean([r["class"] == r["predicted_class"] for r in rows])), 3),
        "masks": "bootstrap segment_cell outlines (not expert masks)",
    }
    for row in rows:
        print(json.dumps(row))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
