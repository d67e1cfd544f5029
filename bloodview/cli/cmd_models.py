"""``bloodview models``: list the stored models (and, with ``--backbones``, the backbones to train).

Reads ``model.json`` files and opens the weights files' headers (h5py): no TensorFlow is
loaded. Every model folder is listed with whether it can be used, so IT sees why a folder
copied in from a share does not work (weights missing or half-copied, made by a newer
bloodview) before a technician meets it at Detect. ``--check`` also reads every stored
weight and exits 1 when any listed model is unusable; ``--add FOLDER`` copies a model folder
into the store (:mod:`bloodview.cli.model_add`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# Figures an evaluation stores under metrics["figures"] worth a column (all are in --json).
TABLE_FIGURES = ("mask.mAP50", "mask.mAP50_95", "mask.F1", "classification.accuracy", "classification.macro.f1")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list stored models",
        description="List the default model and the user model store (or the models in --store DIR), each with "
        "whether it can be used; --add copies a model folder into the store.",
    )
    parser.add_argument("--store", type=Path, metavar="DIR", help="list this folder instead")
    parser.add_argument("--json", action="store_true",
                        help="print each model's model.json contents plus path, usable, problems, shipped_default "
                        "and size_bytes as a JSON list")
    parser.add_argument("--check", action="store_true",
                        help="also read every weight (finds damaged copies; ~0.3 s a model) and exit 1 when a "
                        "listed model is unusable")
    parser.add_argument("--add", type=Path, metavar="FOLDER",
                        help="check the model folder FOLDER and copy it into the model store (or --store DIR)")
    parser.add_argument("--as", dest="add_as", metavar="NAME",
                        help="with --add: the folder name in the store (default: FOLDER's name)")
    parser.add_argument("--backbones", action="store_true", help="list the backbones `bloodview train` accepts")
    parser.set_defaults(func=run)


def _number(key: str, value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    integral = isinstance(value, int) or float(value).is_integer() and abs(value) >= 2
    return f"{key}={int(value)}" if integral else f"{key}={value:.3f}"


def _metrics_text(info) -> str:
    parts = [text for key, value in sorted(info.metrics.items()) if (text := _number(key, value))]
    figures = info.metrics.get("figures")
    if isinstance(figures, dict):  # what `bloodview evaluate --into-model` stores
        parts += [text for key in TABLE_FIGURES if (text := _number(key, figures.get(key)))]
    if not parts and info.final_losses:
        for key in ("loss", "val_loss"):
            if key in info.final_losses:
                parts.append(f"{key}={info.final_losses[key]:.3f}")
    return " ".join(parts) or "-"


def _training_text(info) -> str:
    """What the model learnt from, from model.json's training summary: images and cells, adapted or not."""
    train = (info.training or {}).get("train")
    if not isinstance(train, dict) or not isinstance(train.get("instances"), int):
        return "-"
    adapted = ", adapted" if (info.training or {}).get("init") else ""
    return f"{train.get('images', '?')} images, {train['instances']} cells{adapted}"


def run(args: argparse.Namespace) -> int:
    if args.backbones:
        from bloodview.model.backbones import DEFAULT_FAST_BACKBONE, available_backbones, backbone_spec

        for name in available_backbones():
            spec = backbone_spec(name)
            mark = " (default, fast)" if name == DEFAULT_FAST_BACKBONE else (" (paper)" if spec.paper else "")
            print(f"{name:<20} {spec.description}{mark}")
        return 0
    if args.add_as is not None and args.add is None:
        from bloodview.errors import ModelError

        raise ModelError("--as NAME names the folder of a model copied in with --add FOLDER; give --add too")
    if args.add is not None:
        from bloodview.cli.model_add import add_model

        return add_model(args.add, args.store, args.add_as)

    from bloodview.errors import ModelError
    from bloodview.model.store import default_model_dir, user_store_dir
    from bloodview.model.store_check import scan_store

    if args.store is not None and not args.store.is_dir():  # "no models in it" hid a mistyped path
        raise ModelError(f"{args.store}: " + ("no such folder" if not args.store.exists() else "is a file, not a folder"))
    entries = scan_store(args.store, thorough=args.check)
    if args.json:
        print(json.dumps([_entry_json(entry) for entry in entries], indent=2))
    else:
        _print_table(entries, args.store, default_model_dir(), user_store_dir())
    return 1 if args.check and any(not entry.usable for entry in entries) else 0


def _entry_json(entry) -> dict:
    from bloodview.model.store import is_shipped_default
    from bloodview.model.store_check import folder_size

    described = entry.info.to_dict() if entry.info is not None else {"name": None}
    return {**described, "path": str(entry.folder), "usable": entry.usable, "problems": list(entry.problems),
            "shipped_default": is_shipped_default(entry.folder), "size_bytes": folder_size(entry.folder)}


def _print_table(entries, store, default_dir: Path, user_store: Path) -> None:
    from bloodview.model.store import is_shipped_default
    from bloodview.model.store_check import folder_size

    if store is None:
        print(f"default model: {default_dir}")
        print(f"user store:    {user_store}")
    if not entries:
        where = store if store is not None else "the default model folder or the user store"
        print(f"no models in {where}")
        return
    rows = [("NAME", "BACKBONE", "CLASSES", "SIZE", "DATE", "METRICS", "TRAINED ON", "MB", "STATUS", "FOLDER")]
    for entry in entries:
        info = entry.info
        status = "UNUSABLE" if not entry.usable else ("shipped default" if is_shipped_default(entry.folder) else "ok")
        megabytes = f"{folder_size(entry.folder) / 1e6:.1f}"
        if info is None:
            rows.append(("?", "-", "-", "-", "-", "-", "-", megabytes, status, str(entry.folder)))
            continue
        rows.append((
            info.name, info.backbone + (" + cell classifier" if info.cell_classifier else ""),
            f"{len(info.class_names)}: {','.join(info.class_names)}",
            str(info.image_size), info.date[:10] or "-", _metrics_text(info), _training_text(info), megabytes, status,
            str(info.path),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    _print_namesakes(entries)
    broken = [entry for entry in entries if entry.problems]
    if broken:
        print("\nunusable (Detect refuses them; a model.json that cannot be read keeps its folder out of the window):")
        for entry in broken:
            for problem in entry.problems:
                print(f"  - {problem}")


def _print_namesakes(entries) -> None:
    """Models of one name in several folders: the window's selector shows names only, so say which is which."""
    folders: dict[str, list[str]] = {}
    for entry in entries:
        if entry.info is not None:
            folders.setdefault(entry.info.name, []).append(f"{entry.folder} ({entry.info.date[:10] or 'no date'})")
    for name, places in folders.items():
        if len(places) > 1:
            print(f"\n{len(places)} models are named {name} (the window's selector shows names only; its tooltip "
                  f"gives the date): " + ", ".join(places))
