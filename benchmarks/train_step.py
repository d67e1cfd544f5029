"""Training throughput per backbone: images per second through ``model.fit`` (prints a table; not a test).

Synthetic smears (360x363, a few disc-shaped cells each) go through the real
pipeline (:func:`bloodview.model.data.make_dataset`, augmentation on) into the
network at the configured size (default 512), ``images_per_gpu`` 2. The first
steps (graph tracing) are not counted. Each backbone runs in its own subprocess.

    .venv/bin/python benchmarks/train_step.py [--backbones mobilenetv3large resnet50] [--size 512] [--steps 6]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def measure_one(backbone: str, size: int, steps: int) -> dict:
    sys.path.insert(0, str(REPO))
    import keras
    import numpy as np
    from PIL import Image

    from bloodview.core.annotation import ImageAnnotation
    from bloodview.core.instance import Instance
    from bloodview.model.config import MaskRCNNConfig
    from bloodview.model.data import make_dataset
    from bloodview.model.maskrcnn import build_maskrcnn

    folder = Path(tempfile.mkdtemp(prefix="bloodview-bench-"))
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    images = []
    for k in range(4):
        pixels = np.full((363, 360, 3), (230, 210, 220), np.uint8)
        cells = []
        for _ in range(int(rng.integers(2, 6))):
            cx, cy, r = rng.uniform(40, 320), rng.uniform(40, 320), rng.uniform(10, 40)
            yy, xx = np.mgrid[0:363, 0:360]
            pixels[(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = (140, 80, 170)
            cells.append(Instance(np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1), "neutrophil"))
        path = folder / f"s{k}.png"
        Image.fromarray(pixels).save(path)
        images.append(ImageAnnotation(path, 360, 363, cells))
    config = MaskRCNNConfig(image_min_dim=size, image_max_dim=size, backbone=backbone)
    model = build_maskrcnn(config)
    data = make_dataset(images, None, config, training=True)

    class Times(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    times = Times()
    warm = 2
    model.fit(data, epochs=1, steps_per_epoch=warm + steps, callbacks=[times], verbose=0)
    durations = np.diff(times.ends[warm - 1:])
    step = float(np.median(durations))
    return {"backbone": backbone, "size": size, "batch": config.batch_size, "s_per_step": round(step, 3),
            "images_per_s": round(config.batch_size / step, 3),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", nargs="*")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, args.size, args.steps)))
        return 0
    sys.path.insert(0, str(REPO))
    from bloodview.model.backbones import DEFAULT_FAST_BACKBONE

    rows = []
    for name in args.backbones or [DEFAULT_FAST_BACKBONE, "resnet50", "resnet101"]:
        print(f"{name} ...", file=sys.stderr, flush=True)
        run = subprocess.run([sys.executable, __file__, "--one", name, "--size", str(args.size), "--steps",
                              str(args.steps)], cwd=REPO, capture_output=True, text=True,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if run.returncode != 0:
            print(run.stderr[-1500:], file=sys.stderr)
            continue
        rows.append(json.loads(run.stdout.strip().splitlines()[-1]))
    print(f"\ntraining at {args.size}x{args.size}, {os.cpu_count()} CPUs")
    print(f"{'backbone':<20}{'batch':>6}{'s/step':>10}{'images/s':>10}{'peak RSS MiB':>14}")
    for row in rows:
        print(f"{row['backbone']:<20}{row['batch']:>6}{row['s_per_step']:>10.3f}{row['images_per_s']:>10.3f}"
              f"{row['peak_rss_mib']:>14}")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
