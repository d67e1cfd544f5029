"""``bloodview models``: list the stored models (and, with ``--backbones``, the backbones to train).

Reads only ``model.json`` files: no TensorFlow is loaded.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list stored models",
        description="List the default model and the user model store (or the models in --store DIR).",
    )
    parser.add_argument("--store", type=Path, metavar="DIR", help="list this folder instead")
    parser.add_argument("--json", action="store_true", help="print model.json contents as a JSON list")
    parser.add_argument("--backbones", action="store_true", help="list the backbones `bloodview train` accepts")
    parser.set_defaults(func=run)


def _metrics_text(info) -> str:
    parts = []
    for key, value in sorted(info.metrics.items()):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        integral = isinstance(value, int) or float(value).is_integer() and abs(value) >= 2
        parts.append(f"{key}={int(value)}" if integral else f"{key}={value:.3f}")
    if not parts and info.final_losses:
        for key in ("loss", "val_loss"):
            if key in info.final_losses:
                parts.append(f"{key}={info.final_losses[key]:.3f}")
    return " ".join(parts) or "-"


def run(args: argparse.Namespace) -> int:
    if args.backbones:
        from bloodview.model.backbones import DEFAULT_FAST_BACKBONE, available_backbones, backbone_spec

        for name in available_backbones():
            spec = backbone_spec(name)
            mark = " (default, fast)" if name == DEFAULT_FAST_BACKBONE else (" (paper)" if spec.paper else "")
            print(f"{name:<20} {spec.description}{mark}")
        return 0

    from bloodview.errors import ModelError
    from bloodview.model.store import default_model_dir, list_models, user_store_dir

    if args.store is not None and not args.store.is_dir():  # "no models in it" hid a mistyped path
        raise ModelError(f"{args.store}: " + ("no such folder" if not args.store.exists() else "is a file, not a folder"))
    models = list_models(args.store)
    if args.json:
        print(json.dumps([{**m.to_dict(), "path": str(m.path)} for m in models], indent=2))
        return 0
    if args.store is None:
        print(f"default model: {default_model_dir()}")
        print(f"user store:    {user_store_dir()}")
    if not models:
        where = args.store if args.store is not None else "the default model folder or the user store"
        print(f"no models in {where}")
        return 0
    rows = [("NAME", "BACKBONE", "CLASSES", "SIZE", "DATE", "METRICS", "FOLDER")]
    for info in models:
        rows.append((
            info.name, info.backbone + (" + cell classifier" if info.cell_classifier else ""),
            f"{len(info.class_names)}: {','.join(info.class_names)}",
            str(info.image_size), info.date[:10] or "-", _metrics_text(info), str(info.path),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0
