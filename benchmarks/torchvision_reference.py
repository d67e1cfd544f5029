"""torchvision's Mask R-CNN R50-FPN timed like benchmarks/inference.py (run with a Python that has torch).

Never imported by bloodview; torch is not a bloodview dependency. Prints one JSON line.
Random weights (``weights=None``), 9 classes, input resized to ``--size`` (min and
max size), the same 360x363 images, score threshold ``--min-confidence``, at most
``--max-detections`` cells, masks pasted into the image (torchvision's own post-processing).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--min-confidence", type=float, default=0.75)
    parser.add_argument("--max-detections", type=int, default=100)
    args = parser.parse_args()

    import numpy as np
    import torch
    from PIL import Image
    from torchvision.models.detection import maskrcnn_resnet50_fpn

    pbc = REPO.parent / "shared" / "data" / "pbc" / "neutrophil"
    files = sorted(pbc.glob("*.jpg"))[:8] if pbc.is_dir() else []
    if len(files) == 8:
        arrays = [np.asarray(Image.open(f).convert("RGB"))[:363, :360] for f in files]
    else:
        rng = np.random.default_rng(0)
        arrays = [rng.integers(0, 255, (363, 360, 3), dtype=np.uint8) for _ in range(8)]
    images = [torch.from_numpy(a.copy()).permute(2, 0, 1).float() / 255.0 for a in arrays]

    start = time.perf_counter()
    model = maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=9, min_size=args.size,
                                  max_size=args.size, box_score_thresh=args.min_confidence,
                                  box_detections_per_img=args.max_detections).eval()
    build_s = time.perf_counter() - start
    with torch.inference_mode():
        start = time.perf_counter()
        model(images[:1])
        warm_s = time.perf_counter() - start
        one, one_cpu = [], []
        for k in range(args.repeats):
            start, cpu = time.perf_counter(), time.process_time()
            model([images[k % 8]])
            one.append(time.perf_counter() - start)
            one_cpu.append(time.process_time() - cpu)
        rss_batch1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        start, cpu = time.perf_counter(), time.process_time()
        out = model(images)
        eight = (time.perf_counter() - start) / 8
        eight_cpu = (time.process_time() - cpu) / 8
    print(json.dumps({
        "backbone": "torchvision-r50-fpn", "size": args.size, "build_s": round(build_s, 2),
        "first_call_s": round(warm_s, 2), "s_per_image_batch1": round(sorted(one)[len(one) // 2], 3),
        "s_per_image_batch8": round(eight, 3), "cpu_s_per_image_batch1": round(sorted(one_cpu)[len(one_cpu) // 2], 3),
        "cpu_s_per_image_batch8": round(eight_cpu, 3),
        "detections_per_image": round(sum(len(o["boxes"]) for o in out) / 8, 1),
        "peak_rss_mib_batch1": round(rss_batch1), "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0),
        "weights_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
        "threads": torch.get_num_threads(), "torch": torch.__version__,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
