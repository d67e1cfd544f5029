"""Where a detection's time goes: the detector's stages timed one after another, on this CPU.

Usage: .venv/bin/python benchmarks/detector_stages.py [--model resources/models/default]
       [--batch 1] [--repeats 30] [--set FIELD=VALUE ...] [--json OUT.json]

Each line is a compiled graph that runs the detector up to and including one more stage, on a
random input of the model's size (the work does not depend on the pixels, except NMS and the
heads, which see at most ``post_nms_rois_inference`` proposals): backbone; + feature pyramid;
+ RPN head; + proposals (top-k, decode, NMS); + box head (ROI Align, two FC layers); the whole
``detect`` (+ refinement, per-class NMS, mask head on the kept detections). Prints the median wall
seconds and the mean CPU seconds per image, and the stage's own share (its line minus the line
before), with the load average before the run: a busy machine is said, not hidden. ``--set``
changes inference settings (``post_nms_rois_inference``, ``rpn_inference_skip_levels``, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]


def timed(function, args, repeats: int) -> tuple[float, float]:
    """(median wall seconds, mean CPU seconds) of ``function(*args)`` after two warm-up calls."""
    function(*args)
    function(*args)
    walls = []
    cpu = time.process_time()
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls), (time.process_time() - cpu) / repeats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "resources/models/default"))
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import tensorflow as tf

    from bloodview.model.config import parse_override
    from bloodview.model.proposals import generate_proposals
    from bloodview.model.store import read_model_info
    from bloodview.model.store_io import load_model

    overrides = dict(parse_override(text) for text in args.set)
    config = read_model_info(args.model).to_config()
    model, _ = load_model(args.model, config.with_overrides(overrides) if overrides else None)
    rpn, size = model.settings.rpn, model.settings.image_size
    skip = rpn.inference_skip_levels
    load = os.getloadavg()

    def pyramid(images):
        return model._pyramid(images, training=False)

    def proposals(images, windows):
        levels = pyramid(images)
        logits, deltas = model._rpn(levels[skip:])
        rois, _ = generate_proposals(logits, deltas, model.anchors[model._anchors_before_level(skip):], windows,
                                     pre_nms_limit=rpn.pre_nms_limit, count=rpn.post_nms_inference,
                                     nms_threshold=rpn.nms_threshold, std_dev=rpn.std_dev)
        return levels, rois

    stages = [
        ("backbone", lambda i, w: model.backbone(i, training=False)),
        ("+ feature pyramid", lambda i, w: pyramid(i)),
        ("+ RPN head", lambda i, w: model._rpn(pyramid(i)[skip:])),
        ("+ proposals", lambda i, w: proposals(i, w)[1]),
        ("+ box head", lambda i, w: model._box_head(*proposals(i, w))),
    ]
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (args.batch, size, size, 3)).astype(np.float32)
    windows = np.tile(np.array([[0, 0, size, size]], np.float32), (args.batch, 1))
    print(f"model {args.model}, input {size} px, batch {args.batch}, settings {overrides or 'as stored'}, "
          f"load average before {load[0]:.2f} {load[1]:.2f}, {os.cpu_count()} CPUs")
    rows, before = [], 0.0
    for name, stage in stages:
        wall, cpu = timed(tf.function(stage), (images, windows), args.repeats)
        rows.append({"stage": name, "wall_s": wall / args.batch, "cpu_s": cpu / args.batch,
                     "own_wall_s": (wall - before) / args.batch})
        before = wall
    wall, cpu = timed(lambda i, w: model.detect(i, w), (images, windows), args.repeats)
    rows.append({"stage": "whole detect", "wall_s": wall / args.batch, "cpu_s": cpu / args.batch,
                 "own_wall_s": (wall - before) / args.batch})
    print("| up to | wall s/image | CPU s/image | the stage's own wall s |")
    print("|:---|---:|---:|---:|")
    for row in rows:
        print(f"| {row['stage']} | {row['wall_s']:.4f} | {row['cpu_s']:.4f} | {row['own_wall_s']:.4f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": args.model, "batch": args.batch, "settings": overrides,
                                               "load_average": load, "stages": rows}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
