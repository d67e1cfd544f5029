"""Adapting to another lab: the learning curve of issue #14 (accuracy, mask IoU, wall time per N).

Usage: .venv/bin/python benchmarks/adaptation.py [--model resources/models/default]
       [--zheng "../shared/data/zheng_wbc/Dataset 1"] [--data-root ../shared/data]
       [--sizes 10,25,50,100] [--rehearsal COCO [--rehearsal-images DIR] [--rehearsal-ratio 1.0]]
       [--zheng-pixel-size 0.17] [--rehearsal-pixel-size 0.1029] [--work DIR] [--resume]
       [--pbc-limit 120] [--heldout-limit K] [--train-args "..."] [--plot PNG] [--json OUT]

Protocol (what a technician in another lab would do, measured):

data      Zheng Dataset 1 (300 crops from another lab, expert whole-cell masks and 5-class labels),
          read in-process as ``bloodview convert --from mask-png --reviewed`` reads it (the expert
          outlines count as a person's corrections). Every image is given ``--zheng-pixel-size``
          (0.17 µm/px) as its known pixel size.
held out  Stratified by class: within each class (images sorted by name) a ``random.Random(0)``
          shuffle, the first half (rounded down) held out. The held-out set is fixed for every N
          and never trained on (150 images of Zheng Dataset 1).
pool      The other half, shuffled by the same generator after the split; training set N is the
          first N of the pool, so the sets are nested (10 within 25 within 50 within 100).
rehearsal With ``--rehearsal COCO`` (a bootstrap COCO of the starting model's own training data,
          e.g. ``bloodview bootstrap`` of PBC), each set also gets round(``--rehearsal-ratio`` x N)
          of that file's ``train`` images (``random.Random(1)`` order, nested too), with
          ``--rehearsal-pixel-size`` as their pixel size (0: keep what the file records). Why:
          fine-tuning on one lab alone can forget the model's own data (issue: PBC ``val``
          accuracy after N = 50 within 0.05 of the starting model's).
training  ``bloodview train --data SET --images DATA_ROOT --init MODEL --out WORK/model_N
          --val-ratio 0`` as a subprocess, no schedule flags, so the trainer picks its *adapt*
          recipe (bloodview/model/recipes.py) as the GUI's Retrain does. ``--val-ratio 0``: all N
          images teach; the held-out images are the judge. ``--train-args`` are appended (they win,
          e.g. ``--set epochs=1`` for a smoke run, ``--val-ratio 0.1`` to validate as the default
          does). Wall time = from the process start (Python and TensorFlow start-up included) to
          its exit with the model written, as a user waits for it. The recipe the trainer chose
          (epochs, steps per epoch, batch) is read back from the model's ``model.json``.
scoring   In this process, with benchmarks/fields.py's rule: for each held-out crop the detection
          overlapping the expert mask most; accuracy = its class is the expert's (none or a class
          outside the 5 = wrong), mask IoU = its whole-cell IoU (0 when none), found = IoU >= 0.5;
          confusion matrix rows = expert class. ``predict`` gets ``pixel_size=0.17`` for Zheng.
          PBC ``val`` cell-of-interest accuracy by fields.run_pbc (``--pbc-limit`` images spread
          over the sorted list, auto pixel size as in fields.py; 0 skips). N = 0 is the starting
          model, scored once.

Prints one row per N beside the issue's targets and whether each is met; ``--json`` writes
everything (confusion matrices, the held-out names, the pool order); ``--plot`` draws accuracy
and mask IoU against N (benchmarks/adaptation_plot.py) from this run's numbers. Each N's row is
also kept as WORK/row_N.json, so ``--resume`` re-uses finished models (and their rows when the
scoring settings match) after an interruption.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(Path(__file__).resolve().parent) not in sys.path:  # fields.py, field_data.py when imported
    sys.path.append(str(Path(__file__).resolve().parent))

from bloodview.io.mask_png import ZHENG_CLASSES  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DATA = REPO.parent / "shared" / "data"
HELD_OUT_SEED = 0
REHEARSAL_SEED = 1
# The targets: N -> (accuracy on the held out, whole-cell mask IoU, wall minutes).
TARGETS = {25: (0.80, 0.85, 6.0), 50: (0.90, 0.88, 10.0), 100: (0.93, 0.90, 15.0)}
TODAY = (0.10, 0.58)  # the N = 0 figures, for comparison only
PBC_FORGETTING_N = 50
PBC_FORGETTING_MAX = 0.05


# --- the sets --------------------------------------------------------------------------------


def split_held_out(images: list, seed: int = HELD_OUT_SEED) -> tuple[list, list]:
    """``(held_out, pool)``: per class (by name order) a seeded shuffle, the first half held out;
    the pool (the rest) shuffled by the same generator. Images without a cell are left out."""
    by_class: dict[str, list] = defaultdict(list)
    for image in sorted(images, key=lambda i: i.image_path.name):
        if image.instances:
            by_class[image.instances[0].class_name].append(image)
    rng = random.Random(seed)
    held, pool = [], []
    for _, members in sorted(by_class.items()):
        rng.shuffle(members)
        half = len(members) // 2
        held += members[:half]
        pool += members[half:]
    rng.shuffle(pool)
    return held, pool


def rehearsal_order(images: list, seed: int = REHEARSAL_SEED) -> list:
    """The rehearsal file's ``train`` images in a seeded order; set N takes a prefix (nested)."""
    chosen = [image for image in images if image.split == "train"]
    random.Random(seed).shuffle(chosen)
    return chosen


def write_training_set(path: Path, parts: list[tuple], classes, data_root: Path) -> Path:
    """Write ``parts`` — ``(dataset, images, pixel size µm or None)`` — as one COCO file whose image
    names are relative to ``data_root``; every image ``train``; the source datasets unchanged."""
    from bloodview.core.annotation import Dataset, ImageAnnotation
    from bloodview.core.measure import SOURCE_GIVEN, PixelSize
    from bloodview.io.coco import save_coco

    root = data_root.resolve()
    copies = []
    for dataset, images, pixel_size in parts:
        for image in images:
            path_on_disk = dataset.resolve_image(image).resolve()
            if root not in path_on_disk.parents:
                raise SystemExit(f"{path_on_disk} is not inside --data-root {root}; the training set names "
                                 "its images relative to it")
            unknown = {c.class_name for c in image.instances} - set(classes.names)
            if unknown:
                raise SystemExit(f"{path_on_disk}: class(es) {sorted(unknown)} are not among the model data's "
                                 f"classes {classes.names}")
            size = PixelSize(pixel_size, SOURCE_GIVEN) if pixel_size else image.pixel_size
            copies.append(ImageAnnotation(path_on_disk, image.width, image.height,
                                          [c.copy() for c in image.instances], image.image_label, "train",
                                          image.signed_off, pixel_size=size))
    return save_coco(Dataset(copies, classes, root), path, images_root=root)


# --- training --------------------------------------------------------------------------------


def train_command(coco: Path, data_root: Path, model: str, out: Path, extra: str) -> list[str]:
    return [sys.executable, "-m", "bloodview.cli.main", "train", "--data", str(coco), "--images", str(data_root),
            "--init", str(model), "--out", str(out), "--val-ratio", "0", *shlex.split(extra)]


def run_training(command: list[str], log_path: Path) -> float:
    """Run ``bloodview train``; its wall seconds. Its output goes to ``log_path``."""
    start = time.perf_counter()
    with open(log_path, "w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = log_path.read_text(errors="replace")[-2000:]
        raise SystemExit(f"bloodview train failed (exit {done.returncode}); the log is {log_path}:\n{tail}\n"
                         f"command: {shlex.join(command)}")
    return seconds


def training_record(model_dir: Path) -> dict:
    """What the trainer chose, from its ``model.json``: recipe, epochs, steps, batch, images."""
    training = json.loads((model_dir / "model.json").read_text())["training"]
    keys = ("recipe", "epochs", "steps_per_epoch", "batch_size")
    record = {key: training.get(key) for key in keys}
    record["steps"] = (training.get("epochs") or 0) * (training.get("steps_per_epoch") or 0)
    record["train_images"] = (training.get("train") or {}).get("images")
    record["val_images"] = (training.get("val") or {}).get("images")
    return record


# --- scoring ---------------------------------------------------------------------------------


def score_zheng(detector, pictures: list) -> dict:
    """fields.run_zheng's rule on the given held-out pictures (module doc, "scoring")."""
    from fields import score_zheng_pictures

    return score_zheng_pictures(detector, pictures)


def evaluate(model_dir: str, pictures: list, pbc_root: Path, pbc_limit: int, zheng_pixel_size: float) -> dict:
    """The held-out figures (and PBC ``val`` when ``pbc_limit``) of one model folder."""
    from fields import Detector, run_pbc

    detector = Detector(str(model_dir), {"zheng": zheng_pixel_size}, None)
    start = time.perf_counter()
    result = {"zheng": score_zheng(detector, pictures)}
    if pbc_limit and pbc_root.is_dir():
        result["pbc"] = run_pbc(detector, pbc_root, pbc_limit)
    result["scoring_seconds"] = time.perf_counter() - start
    del detector
    gc.collect()
    return result


# --- output ----------------------------------------------------------------------------------


def targets_met(row: dict, start_pbc: float | None) -> str:
    """``yes``/``no`` per target the issue sets for this N (accuracy, IoU, minutes, PBC kept)."""
    n, checks = row["n"], []
    if n in TARGETS:
        accuracy, iou, minutes = TARGETS[n]
        checks += [("acc", row["zheng"]["accuracy"] >= accuracy), ("iou", row["zheng"]["mask_iou_mean"] >= iou)]
        if row.get("wall_seconds") is not None:
            checks.append(("time", row["wall_seconds"] / 60 <= minutes))
    if n == PBC_FORGETTING_N and start_pbc is not None and "pbc" in row:
        checks.append(("pbc", row["pbc"]["accuracy"] >= start_pbc - PBC_FORGETTING_MAX))
    return " ".join(f"{name}:{'yes' if ok else 'NO'}" for name, ok in checks) or "-"


def table_lines(rows: list[dict]) -> list[str]:
    """The learning-curve table with the issue's targets beside each N."""
    from bloodview.evaluation.markdown import number, table

    start_pbc = next((r["pbc"]["accuracy"] for r in rows if r["n"] == 0 and "pbc" in r), None)
    lines = []
    for r in rows:
        train = r.get("train") or {}
        target = TARGETS.get(r["n"])
        target_text = (f">= {target[0]:.2f} / >= {target[1]:.2f} / <= {target[2]:.0f} min" if target else
                       f"today {TODAY[0]:.2f} / {TODAY[1]:.2f}" if r["n"] == 0 else "-")
        if r["n"] == PBC_FORGETTING_N and start_pbc is not None:
            target_text += f"; PBC >= {start_pbc - PBC_FORGETTING_MAX:.3f}"
        lines.append([str(r["n"]), f"{r.get('zheng_images', 0)} + {r.get('rehearsal_images', 0)}",
                      f"{train.get('epochs')} x {train.get('steps_per_epoch')}" if train else "-",
                      number(r["wall_seconds"] / 60, 1) if r.get("wall_seconds") is not None else "-",
                      number(r["zheng"]["accuracy"]), number(r["zheng"]["mask_iou_mean"]),
                      number(r["zheng"]["found"]), number(r["pbc"]["accuracy"]) if "pbc" in r else "-",
                      target_text, targets_met(r, start_pbc)])
    return table(["N", "train images (Zheng + rehearsal)", "epochs x steps", "wall min", "held-out acc",
                  "mask IoU", "found", "PBC val acc", "target acc / IoU / time", "met"], lines)


def confusion_lines(row: dict) -> list[str]:
    from bloodview.evaluation.markdown import table

    value = row["zheng"]["confusion"]
    return [f"N = {row['n']}: confusion on the held out (rows = expert class, columns = detected):",
            *table(["expert \\ detected", *value["columns"]],
                   [[name, *counts] for name, counts in zip(value["rows"], value["matrix"]) if any(counts)])]


def write_json(path: str | Path, results: dict) -> None:
    from bloodview.io.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(results, indent=2), backup=False)


# --- the run ---------------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise SystemExit(f"--sizes: expected comma-separated whole numbers, got {text!r}") from None
    if not sizes or sizes[0] < 1:
        raise SystemExit(f"--sizes: each N must be at least 1, got {text!r}")
    return sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "resources/models/default"), help="starting model folder")
    parser.add_argument("--zheng", default=str(DATA / "zheng_wbc" / "Dataset 1"))
    parser.add_argument("--data-root", default=str(DATA), help="training sets name images relative to it")
    parser.add_argument("--sizes", default="10,25,50,100", help="N corrected Zheng images per run")
    parser.add_argument("--rehearsal", default=None, metavar="COCO",
                        help="the model's own training data (bootstrap COCO)")
    parser.add_argument("--rehearsal-images", default=None, metavar="DIR",
                        help="folder the rehearsal COCO's names refer to (default: DATA_ROOT/pbc)")
    parser.add_argument("--rehearsal-ratio", type=float, default=1.0, help="rehearsal images per Zheng image")
    parser.add_argument("--zheng-pixel-size", type=float, default=0.17, help="µm per pixel of the Zheng crops")
    parser.add_argument("--rehearsal-pixel-size", type=float, default=0.1029,
                        help="µm per pixel of the rehearsal images (0: as the file records)")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "bloodview-adaptation"),
                        help="folder for the training sets, logs and models")
    parser.add_argument("--pbc-limit", type=int, default=120, help="PBC val images for the forgetting check (0 = skip)")
    parser.add_argument("--heldout-limit", type=int, default=0, help="score only the first K held-out images (0 = all)")
    parser.add_argument("--train-args", default="", help='extra `bloodview train` arguments, e.g. "--set epochs=1"')
    parser.add_argument("--resume", action="store_true", help="keep models (and rows) an earlier run finished")
    parser.add_argument("--plot", default=None, metavar="PNG", help="draw accuracy and mask IoU against N")
    parser.add_argument("--json", default=None, metavar="OUT", help="write every number to this file")
    args = parser.parse_args(argv)
    args.size_list = parse_sizes(args.sizes)
    if args.rehearsal_ratio < 0:
        parser.error("--rehearsal-ratio must be 0 or more")
    return args


def load_sets(args: argparse.Namespace) -> tuple:
    """``(zheng dataset, held out, pool, rehearsal dataset or None, rehearsal order)``."""
    from bloodview.io.coco import load_coco
    from bloodview.io.detect import load_annotations

    zheng = load_annotations(args.zheng, fmt="mask-png", reviewed=True)
    held, pool = split_held_out(zheng.images)
    if len(pool) < args.size_list[-1]:
        raise SystemExit(f"--sizes: the largest N is {args.size_list[-1]} but only {len(pool)} Zheng images are "
                         "left for training after holding out half of each class")
    rehearsal, order = None, []
    if args.rehearsal:
        images = args.rehearsal_images or str(Path(args.data_root) / "pbc")
        rehearsal = load_coco(args.rehearsal, images, add_unknown_classes=True, check_images=False)
        order = rehearsal_order(rehearsal.images)
        wanted = round(args.rehearsal_ratio * args.size_list[-1])
        if len(order) < wanted:
            raise SystemExit(f"--rehearsal: {args.rehearsal} has {len(order)} train images; N = "
                             f"{args.size_list[-1]} at ratio {args.rehearsal_ratio} needs {wanted}")
    return zheng, held, pool, rehearsal, order


def held_out_pictures(folder: Path, names: list[str], limit: int) -> list:
    """The held-out crops (expert outline and class) in name order, the first ``limit`` when given."""
    from field_data import zheng_pictures

    wanted = sorted(names)[:limit] if limit else sorted(names)
    keep = set(wanted)
    pictures = [p for p in zheng_pictures(folder) if p.name in keep]
    return sorted((p for p in pictures if p.cells and p.cells[0].class_name in ZHENG_CLASSES), key=lambda p: p.name)


def prepare_model_folder(out: Path, resume: bool) -> bool:
    """``True`` when ``out`` already holds a finished model to re-use (``--resume``); clears an
    unfinished one under ``--resume``; refuses to overwrite without it."""
    if (out / "model.json").is_file() and resume:
        return True
    if out.exists():
        if not resume:
            raise SystemExit(f"{out} exists from an earlier run; pass --resume to continue it or choose another --work")
        shutil.rmtree(out)  # an interrupted training: timed again from the start, for an honest wall time
    return False


def run_size(args, n: int, sets: tuple, work: Path) -> dict:
    """Write set N, train (unless resumed), return its row without the scores."""
    zheng, _, pool, rehearsal, order = sets
    extra = order[:round(args.rehearsal_ratio * n)] if rehearsal is not None else []
    coco = work / f"train_{n}.json"
    parts = [(zheng, pool[:n], args.zheng_pixel_size)]
    if extra:
        parts.append((rehearsal, extra, args.rehearsal_pixel_size or None))
    write_training_set(coco, parts, zheng.classes, Path(args.data_root))
    out = work / f"model_{n}"
    row = {"n": n, "zheng_images": n, "rehearsal_images": len(extra), "training_set": str(coco), "model": str(out)}
    timing_file = work / f"train_{n}.time.json"
    trained_on = {"model": str(args.model), "train_args": args.train_args,
                  "images": [[str(i.image_path), size] for _, images, size in parts for i in images]}
    if prepare_model_folder(out, args.resume):
        record = json.loads(timing_file.read_text()) if timing_file.is_file() else {}
        if record.get("trained_on") != trained_on:
            raise SystemExit(f"--resume: {out} was not trained on this run's set N = {n} (another --model, "
                             f"--rehearsal, pixel size, --train-args or no record of it); choose another --work")
        row.update(resumed=True, wall_seconds=record["wall_seconds"], command=record["command"])
    else:
        command = train_command(coco, Path(args.data_root), args.model, out, args.train_args)
        print(f"N = {n}: training on {n} Zheng + {len(extra)} rehearsal images ...", flush=True)
        row["command"] = shlex.join(command)
        row["wall_seconds"] = run_training(command, work / f"train_{n}.log")
        timing_file.write_text(json.dumps({"wall_seconds": row["wall_seconds"], "command": row["command"],
                                           "trained_on": trained_on}))
    row["train"] = training_record(out)
    return row


def scored(args, row: dict, pictures: list, work: Path, settings: dict) -> dict:
    """``row`` with its scores: re-used from WORK/row_N.json under ``--resume`` when the model was
    not retrained (the starting one, or a finished one kept) and the scoring settings are the same;
    else measured now (and kept there)."""
    kept = work / f"row_{row['n']}.json"
    if args.resume and kept.is_file() and (row["n"] == 0 or row.get("resumed")):
        old = json.loads(kept.read_text())
        if old.get("settings") == settings and old.get("model") == row.get("model"):
            return {**old, **row}
    model = row.get("model") or args.model
    row = {**row, **evaluate(model, pictures, Path(args.data_root) / "pbc", args.pbc_limit, args.zheng_pixel_size),
           "settings": settings}
    kept.write_text(json.dumps(row))
    return row


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    earlier = [work / f"model_{n}" for n in args.size_list if (work / f"model_{n}").exists()]
    if earlier and not args.resume:  # before minutes of scoring, not after
        raise SystemExit(f"{earlier[0]} exists from an earlier run; pass --resume to continue it or choose "
                         "another --work")
    sets = load_sets(args)
    zheng, held, pool = sets[:3]
    pictures = held_out_pictures(Path(args.zheng), [i.image_path.name for i in held], args.heldout_limit)
    print(f"Zheng: {len(zheng.images)} images, {len(held)} held out (scoring {len(pictures)}), pool {len(pool)}; "
          f"sizes {args.size_list}; rehearsal {args.rehearsal or 'none'} x {args.rehearsal_ratio}; work {work}",
          flush=True)
    settings = {"model": str(args.model), "heldout": [p.name for p in pictures], "pbc_limit": args.pbc_limit,
                "zheng_pixel_size": args.zheng_pixel_size}
    results = {"protocol": {key: value for key, value in vars(args).items() if key != "size_list"},
               "sizes": args.size_list, "held_out": sorted(i.image_path.name for i in held),
               "pool_order": [i.image_path.name for i in pool], "targets": TARGETS, "rows": []}
    for n in [0, *args.size_list]:
        row = {"n": 0, "model": str(args.model), "wall_seconds": None} if n == 0 else run_size(args, n, sets, work)
        row = scored(args, row, pictures, work, settings)
        results["rows"].append(row)
        print("\n".join(table_lines(results["rows"][-1:])), flush=True)
        if args.json:
            write_json(args.json, results)  # after every N: an interruption keeps what was measured
    print()
    print("\n".join(table_lines(results["rows"])))
    for row in results["rows"]:
        print("\n".join(confusion_lines(row)))
    if args.plot:
        from adaptation_plot import draw_learning_curve

        draw_learning_curve(results["rows"], TARGETS, args.plot)
        print(f"plot written to {args.plot}")


if __name__ == "__main__":
    main()
