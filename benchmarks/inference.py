"""Inference speed and memory per backbone (prints a table; not a test).

For each backbone: seconds per 360x363 smear image (the PBC size) through
``Predictor.predict`` (resize, network, paste-back, polygons) at the configured
input size (default 512, the paper's), batch 1 and batch 8, and the peak RSS of
the process. Each backbone runs in its own subprocess so peak RSS is its own.
Weights are random, so every backbone is run with threshold 0 and at most
``--max-detections`` cells per image (default 20; a PBC image holds about 1-20):
the mask head's work, which grows with the number of cells, is then the same for
all. Wall seconds and CPU seconds (this process, all threads; less disturbed by
other programs on a shared machine) are both printed. Optionally compares with torchvision's
``maskrcnn_resnet50_fpn(weights=None)`` at the same input size, run from a
separate virtual environment that has torch (never a bloodview dependency).

    .venv/bin/python benchmarks/inference.py [--backbones mobilenetv3large resnet50] [--size 512] [--max-detections 20]
        [--torch-python /work/benchvenv/bin/python] [--threads 2]
        [--tuned FIELD=VALUE ...] [--baseline DIR ...]

``--tuned`` adds, for each backbone, a row with those inference settings changed (e.g. the
shipped model's ``post_nms_rois_inference=300 rpn_inference_skip_levels=1 pre_nms_limit=2000``;
they keep the weights' shapes). ``--baseline DIR`` adds, for each backbone, a row measured on an
older checkout of bloodview (``git worktree add DIR COMMIT``): its code, timed by this script, in the
same run, so "faster than before" is measured side by side.

Equal work: random weights may call most proposals background (one run of a random ResNet50 returned
0 cells per image, so its mask head never ran and its time meant nothing). Every model here has its
box head's background logit pushed far down (:func:`equal_work`), so each keeps ``--max-detections``
cells per image as torchvision does at threshold 0, and the predictor's merging of overlapping
detections (``detection_duplicate_iou``, code after 2026-12-01) is turned off so that ``dets/img``
counts the cells the network outlined; the column shows it held.

Reproducible figures: the rows run in fresh subprocesses, ``--rounds`` times (default 2), the
order reversed every other round so a slow spell of the machine does not fall on one row; each row
reports the median over its rounds and the spread between them (``spread``: (max - min) / median of
the batch-1 wall seconds). The load average before each measurement is printed.

Targets (issue "Mask R-CNN engine"): the fast default backbone >= 3x faster than
torchvision R50-FPN; our ResNet50 within 1.3x of it; peak RSS < 2 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TORCH_SCRIPT = Path(__file__).with_name("torchvision_reference.py")
HEIGHT, WIDTH = 363, 360


def smears(count: int, seed: int = 0):
    """Real PBC images when ../shared/data is there (realistic content), else noise of the same size."""
    import numpy as np

    pbc = REPO.parent / "shared" / "data" / "pbc" / "neutrophil"
    if pbc.is_dir():
        from bloodview.io.images import load_image

        files = sorted(pbc.glob("*.jpg"))[:count]
        images = [load_image(f)[:HEIGHT, :WIDTH] for f in files]
        images = [i for i in images if i.shape[:2] == (HEIGHT, WIDTH)]
        if len(images) == count:
            return images
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8) for _ in range(count)]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def equal_work(model, background_logit: float = -50.0, mask_logit: float = 2.0) -> None:
    """Make a random-weight model outline as many cells as torchvision does at threshold 0.

    The background column of the box head's ``class_logits`` is zeroed and its bias set far below
    the others' (random kernels of stddev 0.01 give logits within about +-1), so ``argmax`` picks a
    cell class for every proposal and ``detection_max_instances`` cells reach the mask head. The
    mask head's last layer is made to say "cell" everywhere (``mask_logits`` kernel zeroed, bias
    ``mask_logit``): random mask logits hover round 0.5 after the sigmoid and often left an empty
    mask, a cell the postprocessing drops (one run of a random ResNet50 kept 0 cells per image).
    The network's work is unchanged; only its numbers are.
    """
    import numpy as np

    for weight in model.weights:
        path = weight.path
        values = np.array(weight.numpy())
        if path.endswith("class_logits/kernel") and "rpn" not in path:
            values[:, 0] = 0.0
        elif path.endswith("class_logits/bias") and "rpn" not in path:
            values[0] = background_logit
        elif path.endswith("mask_logits/kernel"):
            values[:] = 0.0
        elif path.endswith("mask_logits/bias"):
            values[:] = mask_logit
        else:
            continue
        weight.assign(values)


def measure_one(backbone: str, size: int, repeats: int, min_confidence: float, max_detections: int,
                settings: dict | None = None, code: Path = REPO) -> dict:
    """Runs inside the subprocess: build, warm up, time batch 1 and batch 8 (``code``: the bloodview it imports)."""
    sys.path.insert(0, str(code))
    from bloodview.model.config import MaskRCNNConfig
    from bloodview.model.maskrcnn import build_maskrcnn
    from bloodview.model.predict import Predictor
    from bloodview.model.store import ModelInfo

    settings = dict(settings or {})
    if "detection_duplicate_iou" in MaskRCNNConfig.__dataclass_fields__:
        # the predictor's one-detection-per-cell step would merge random boxes the mask head already
        # outlined; off, dets/img counts the cells the network did the work for (older code has no such step)
        settings.setdefault("detection_duplicate_iou", 1.0)
    config = MaskRCNNConfig(image_min_dim=size, image_max_dim=size, backbone=backbone,
                            detection_max_instances=max_detections, **settings)
    import keras

    keras.utils.set_random_seed(0)  # the same random network in every round and for every checkout
    start = time.perf_counter()
    model = build_maskrcnn(config)
    build_s = time.perf_counter() - start
    equal_work(model)
    info = ModelInfo(name=f"bench-{backbone}", backbone=backbone, class_names=config.class_names,
                     config=config.to_dict(), image_size=size)
    predictor = Predictor(model, info, config)
    images = smears(8)
    start = time.perf_counter()
    predictor.predict(images[:1], batch_size=1, min_confidence=min_confidence)  # traces the graph
    warm_s = time.perf_counter() - start
    one, one_cpu = [], []
    for k in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        found1 = predictor.predict([images[k % 8]], batch_size=1, min_confidence=min_confidence)
        one.append(time.perf_counter() - start)
        one_cpu.append(time.process_time() - cpu)
    rss_batch1 = peak_rss_mib()
    start, cpu = time.perf_counter(), time.process_time()
    found8 = predictor.predict(images, batch_size=8, min_confidence=min_confidence)
    eight = (time.perf_counter() - start) / 8
    eight_cpu = (time.process_time() - cpu) / 8
    return {
        "backbone": backbone, "size": size, "build_s": round(build_s, 2), "first_call_s": round(warm_s, 2),
        "s_per_image_batch1": round(sorted(one)[len(one) // 2], 3), "s_per_image_batch8": round(eight, 3),
        "cpu_s_per_image_batch1": round(sorted(one_cpu)[len(one_cpu) // 2], 3), "cpu_s_per_image_batch8": round(eight_cpu, 3),
        "detections_per_image": round(sum(len(f) for f in found8) / 8, 1), "peak_rss_mib_batch1": round(rss_batch1),
        "peak_rss_mib": round(peak_rss_mib()), "detections_batch1": len(found1[0]),
        "weights_m": round(sum(int(w.numpy().size) for w in model.weights) / 1e6, 1)
    }


def combine(runs: list[dict]) -> dict:
    """One row from a row's rounds: medians of the times, the largest RSS, the fewest cells, each round kept."""
    def median(key: str) -> float:
        values = sorted(run[key] for run in runs)
        middle = len(values) // 2
        return round(values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2, 3)

    row = dict(runs[0])
    for key in ("s_per_image_batch1", "s_per_image_batch8", "cpu_s_per_image_batch1", "cpu_s_per_image_batch8"):
        row[key] = median(key)
    walls = [run["s_per_image_batch1"] for run in runs]
    row["spread"] = (max(walls) - min(walls)) / row["s_per_image_batch1"] if row["s_per_image_batch1"] else 0.0
    row["peak_rss_mib"] = max(run["peak_rss_mib"] for run in runs)
    row["detections_per_image"] = min(run["detections_per_image"] for run in runs)
    row["rounds"] = [{key: run[key] for key in ("s_per_image_batch1", "cpu_s_per_image_batch1", "peak_rss_mib",
                                                 "detections_per_image") if key in run} for run in runs]
    return row


def run_subprocess(command: list[str], threads: int | None, code: Path = REPO) -> dict | None:
    """One measurement in a fresh process; ``code``: the bloodview checkout it imports."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(code)}
    if threads:
        env.update({"OMP_NUM_THREADS": str(threads), "TF_NUM_INTRAOP_THREADS": str(threads)})
    print(f"  load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", file=sys.stderr, flush=True)
    run = subprocess.run(command, cwd=code, capture_output=True, text=True, env=env)
    if run.returncode != 0:
        print(f"  failed: {' '.join(command[-3:])}\n{run.stderr[-1500:]}", file=sys.stderr)
        return None
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", nargs="*")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5, help="batch-1 calls timed per measurement (median)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="times every row is measured, the order reversed every other round (median reported)")
    parser.add_argument("--torch-python", default="/work/benchvenv/bin/python")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for both frameworks")
    parser.add_argument("--min-confidence", type=float, default=0.0,
                        help="score threshold for both (default 0: with random weights every model then returns "
                        "its maximum number of cells per image, so the mask-head work is equal)")
    parser.add_argument("--max-detections", type=int, default=20,
                        help="cells per image for both (detection_max_instances / box_detections_per_img); "
                        "a PBC image holds about 1-20 cells, a whole field more")
    parser.add_argument("--tuned", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="also measure each backbone with these inference settings changed")
    parser.add_argument("--baseline", nargs="*", default=[], metavar="DIR",
                        help="also measure each backbone with an older bloodview checkout's code")
    parser.add_argument("--set", action="append", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--code", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        sys.path.insert(0, str(args.code))
        from bloodview.model.config import parse_override

        settings = dict(parse_override(text) for text in args.set) if args.set else None
        print(json.dumps(measure_one(args.one, args.size, args.repeats, args.min_confidence, args.max_detections,
                                     settings, args.code)))
        return 0

    sys.path.insert(0, str(REPO))
    from bloodview.model.backbones import DEFAULT_FAST_BACKBONE, available_backbones

    backbones = args.backbones or [DEFAULT_FAST_BACKBONE] + [b for b in available_backbones() if b != DEFAULT_FAST_BACKBONE]
    common = ["--size", str(args.size), "--repeats", str(args.repeats), "--min-confidence", str(args.min_confidence),
              "--max-detections", str(args.max_detections)]
    jobs: list[tuple[str, list[str], Path]] = []  # (label, command, code)
    if Path(args.torch_python).exists():
        jobs.append(("torchvision-r50-fpn", [args.torch_python, str(TORCH_SCRIPT), *common], REPO))
    else:
        print(f"note: {args.torch_python} not found; torchvision comparison skipped", file=sys.stderr)
    for name in backbones:
        variants = [(name, REPO, [])]
        variants += [(f"{name} @ {Path(d).name}", Path(d).resolve(), []) for d in args.baseline]
        if args.tuned:
            variants.append((f"{name} tuned", REPO, [x for text in args.tuned for x in ("--set", text)]))
        for label, code, extra in variants:
            command = [sys.executable, str(Path(__file__).resolve()), "--one", name, "--code", str(code), *common, *extra]
            jobs.append((label, command, code))
    measured: dict[str, list[dict]] = {label: [] for label, _, _ in jobs}
    for round_ in range(max(1, args.rounds)):
        order = jobs if round_ % 2 == 0 else jobs[::-1]
        for label, command, code in order:
            print(f"round {round_ + 1}: {label} ...", file=sys.stderr, flush=True)
            row = run_subprocess(command, args.threads, code)
            if row:
                measured[label].append({**row, "backbone": label})
    rows = [combine(runs) for runs in measured.values() if runs]
    reference = next((row for row in rows if row["backbone"] == "torchvision-r50-fpn"), None)
    rows = [row for row in rows if row is not reference] + ([reference] if reference else [])

    base = reference["s_per_image_batch1"] if reference else None
    print(f"\ninput {args.size}x{args.size}, image {WIDTH}x{HEIGHT}, {os.cpu_count()} CPUs"
          + (f", {args.threads} threads" if args.threads else ""))
    cpu_base = reference["cpu_s_per_image_batch1"] if reference else None
    if args.tuned:
        print(f"tuned: {' '.join(args.tuned)}")
    header = (f"{'backbone':<30}{'s/img b1':>9}{'spread':>7}{'s/img b8':>9}{'cpu-s b1':>9}{'cpu-s b8':>9}{'vs tv-R50':>10}"
              f"{'cpu vs tv':>10}{'RSS b1 MiB':>11}{'RSS b8 MiB':>11}{'params M':>9}{'dets/img':>9}")
    print(header)
    for row in rows:
        ratio = f"{base / row['s_per_image_batch1']:.2f}x" if base else "-"
        cpu_ratio = f"{cpu_base / row['cpu_s_per_image_batch1']:.2f}x" if cpu_base else "-"
        print(f"{row['backbone'][:30]:<30}{row['s_per_image_batch1']:>9.3f}{row['spread']:>7.0%}{row['s_per_image_batch8']:>9.3f}"
              f"{row['cpu_s_per_image_batch1']:>9.3f}{row['cpu_s_per_image_batch8']:>9.3f}{ratio:>10}{cpu_ratio:>10}"
              f"{row.get('peak_rss_mib_batch1', '-'):>11}{row['peak_rss_mib']:>11}{row.get('weights_m', '-'):>9}"
              f"{row['detections_per_image']:>9}")
    print("(medians over the rounds; spread = (max - min) / median of the rounds' batch-1 wall seconds; "
          "vs tv-R50 = torchvision R50-FPN wall seconds / ours at batch 1, cpu vs tv the same in CPU seconds "
          "(less disturbed by other processes): >1 means ours is faster; RSS and dets/img: the largest over the rounds, "
          "the fewest)")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
