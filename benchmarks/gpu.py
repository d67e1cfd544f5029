"""Speed on the GPU(s): detection with the default model and training steps (prints; not a test).

For a machine with an NVIDIA GPU (e.g. a lent one). Without a GPU it prints one "no GPU" line
and stops, unless ``--device cpu`` asks for the same measurements on the CPU (for comparison).

* inference: the default model (``resources/models/default``) on the bundled sample smears
  (8 PBC crops, 2 BCCD fields), after a warm-up pass; images per second and seconds per image;
* training: ``model.fit`` steps on synthetic smears through the real pipeline
  (``benchmarks/train_step.py``), under a ``MirroredStrategy`` when there are several GPUs,
  in float32 and, where it helps (Tensor Cores), mixed float16.

    .venv/bin/python benchmarks/gpu.py [--device auto|gpu|cpu] [--repeats 3] [--size 512] [--steps 6]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def measure_inference(repeats: int) -> dict:
    from bloodview.bundled import samples_dir
    from bloodview.io.images import list_images, load_image
    from bloodview.model.predict import Predictor
    from bloodview.model.store import default_model_dir

    started = time.perf_counter()
    predictor = Predictor.load(default_model_dir())
    load_s = time.perf_counter() - started
    images = [load_image(p) for p in list_images(samples_dir())]
    predictor.detect(images[:2], batch_size=1)  # warm-up: graph tracing
    times, cells = [], 0
    for _ in range(repeats):
        for pixels in images:
            started = time.perf_counter()
            found = predictor.detect([pixels], batch_size=1)
            times.append(time.perf_counter() - started)
            cells += len(found[0].instances)
    per_image = sorted(times)[len(times) // 2]
    return {"model": predictor.info.name, "images": len(images), "repeats": repeats, "load_s": round(load_s, 2),
            "median_s_per_image": round(per_image, 4), "images_per_s": round(1 / per_image, 2),
            "cells_per_pass": cells // repeats}


def measure_training(backbone: str, size: int, steps: int, mixed: bool, plan) -> dict:
    from bloodview.model.distribute import configure_precision, select_strategy
    from train_step import measure_one

    policy = configure_precision(mixed, plan)
    with select_strategy(plan.replica_devices).scope():
        result = measure_one(backbone, size, steps)
    configure_precision(False, plan)
    return result | {"policy": policy, "replicas": max(1, len(plan.gpus))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("auto", "gpu", "cpu"), default="auto")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the samples for inference")
    parser.add_argument("--backbone", default=None, help="training backbone (default: the default model's)")
    parser.add_argument("--size", type=int, default=512, help="training input side in pixels")
    parser.add_argument("--steps", type=int, default=6, help="timed training steps (after 2 warm-up steps)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from bloodview.model.distribute import find_gpus, use_devices
    from bloodview.model.store import default_model_dir, read_model_info

    if args.device == "auto" and not find_gpus():
        print("no GPU: TensorFlow sees none on this machine (see `bloodview doctor --devices`); "
              "nothing measured (use --device cpu to measure the CPU)")
        return 0
    plan = use_devices(args.device)
    print(f"device: {plan.describe()}")
    inference = measure_inference(args.repeats)
    print(f"inference: {inference['images_per_s']} images/s ({inference['median_s_per_image']} s per image, "
          f"median over {inference['images']} samples x {inference['repeats']}; model load {inference['load_s']} s)")
    backbone = args.backbone or read_model_info(default_model_dir()).backbone
    runs = [measure_training(backbone, args.size, args.steps, False, plan)]
    if plan.mixed_precision_helps:
        runs.append(measure_training(backbone, args.size, args.steps, True, plan))
    for run in runs:
        print(f"training ({run['policy']}, {run['replicas']} replica(s), {backbone} {args.size}px, batch "
              f"{run['batch']}): {run['s_per_step']} s/step, {run['images_per_s']} images/s")
    print(json.dumps({"device": plan.describe(), "inference": inference, "training": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
