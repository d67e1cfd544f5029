"""Per-image inference (and optionally train-step) time of the full Mask R-CNN on this machine.

Usage: python benchmarks/network_speed.py [--backbone NAME] [--sizes 256 384 512]
       [--set field=value ...] [--batch 1] [--train]
Prints one line per size: seconds per image for ``model.detect`` (median of several
runs after a warm-up), and with --train seconds per training step of ``images_per_gpu``.
The weights are random, so the number of detections is forced: "0 cells" runs with
min_confidence=1 (backbone, RPN, proposals and box head only), "N cells" with
min_confidence=0 (up to detection_max_instances detections, each through the mask head).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default=None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 384, 512])
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--train", action="store_true")
    args = parser.parse_args()

    from bloodview.model.backbones import DEFAULT_FAST_BACKBONE
    from bloodview.model.config import MaskRCNNConfig, parse_override
    from bloodview.model.maskrcnn import build_maskrcnn

    overrides = dict(parse_override(text) for text in args.set)
    for size in args.sizes:
        config = MaskRCNNConfig(image_min_dim=size, image_max_dim=size, backbone=args.backbone or DEFAULT_FAST_BACKBONE)
        config = config.with_overrides(overrides)
        model = build_maskrcnn(config)
        rng = np.random.default_rng(0)
        images = rng.uniform(0, 255, (args.batch, size, size, 3)).astype(np.float32)
        windows = np.tile(np.array([[0, 0, size, size]], np.float32), (args.batch, 1))
        line = f"{config.backbone} {size}px batch {args.batch}: detect"
        for threshold in (1.0, 0.0):
            cells, seconds = _detect_time(model, images, windows, threshold, args.repeats)
            line += f" {seconds:.3f} s/image ({cells} cells)"
        if args.train:
            line += f", train step {_train_step_time(model, config, rng):.3f} s ({config.images_per_gpu} images)"
        print(line, flush=True)


def _detect_time(model, images, windows, min_confidence: float, repeats: int) -> tuple[int, float]:
    found = model.detect(images, windows, min_confidence=min_confidence)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.detect(images, windows, min_confidence=min_confidence)
        times.append((time.perf_counter() - start) / len(images))
    return int(found["counts"].mean()), statistics.median(times)


def _train_step_time(model, config, rng) -> float:
    import tensorflow as tf

    b, s, g = config.images_per_gpu, config.image_max_dim, config.max_gt_instances
    m0, m1 = config.mini_mask_shape
    ids = np.zeros((b, g), np.int32)
    boxes = np.zeros((b, g, 4), np.float32)
    for i in range(b):
        for j in range(20):
            y, x = rng.uniform(0, s - 60, 2)
            boxes[i, j] = [y, x, y + 50, x + 50]
            ids[i, j] = 1 + j % (config.num_classes - 1)
    batch = {
        "images": rng.uniform(0, 255, (b, s, s, 3)).astype(np.float32),
        "windows": np.tile(np.array([[0, 0, s, s]], np.float32), (b, 1)),
        "gt_class_ids": ids,
        "gt_boxes": boxes,
        "gt_masks": np.ones((b, g, m0, m1), np.float32),
    }
    data = tf.data.Dataset.from_tensors(batch).repeat()
    model.fit(data, steps_per_epoch=2, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=5, epochs=1, verbose=0)
    return (time.perf_counter() - start) / 5


if __name__ == "__main__":
    main()
