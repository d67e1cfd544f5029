"""Record in a model's ``model.json`` the glass colours of the images it was trained on.

Usage: python packaging/record_glass_range.py MODEL_DIR IMAGE_OR_FOLDER [...] [--sample 1500] [--dry-run]

``bloodview train`` records ``glass_colour_range`` itself (bloodview/model/glass_balance.py); this
is for a model trained before it did, such as the shipped default (docs/model-card.md gives the
command with its training images). Folders are searched for images recursively; at most
``--sample`` images, spread evenly over the sorted list, are measured. Prints the range and the
median glass colour; ``--dry-run`` writes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from bloodview.io.atomic import atomic_write_json
from bloodview.io.images import IMAGE_SUFFIXES, load_image
from bloodview.model.data import as_rgb
from bloodview.model.glass_balance import check_range, measure_glass_range
from bloodview.model.stain_augment import glass_colour


def image_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += [p for p in sorted(path.rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]
        elif path.is_file():
            files.append(path)
        else:
            raise SystemExit(f"{path}: no such file or folder")
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("images", type=Path, nargs="+")
    parser.add_argument("--sample", type=int, default=1500)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()

    model_json = args.model_dir / "model.json"
    info = json.loads(model_json.read_text(encoding="utf-8"))
    files = image_files(args.images)
    if not files:
        print("no images found", file=sys.stderr)
        return 2
    step = max(1, len(files) // max(1, args.sample))
    images = [as_rgb(load_image(path)) for path in files[::step]]
    glass = measure_glass_range(images)
    check_range(glass)
    median = np.median([glass_colour(image) for image in images], axis=0)
    print(f"{len(images)} of {len(files)} images: glass colour range {glass[0]} .. {glass[1]}, "
          f"median {tuple(round(float(v), 1) for v in median)}")
    if not args.dry_run:
        info["config"]["glass_colour_range"] = [list(glass[0]), list(glass[1])]
        atomic_write_json(model_json, info, backup=False)
        print(f"written to {model_json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
