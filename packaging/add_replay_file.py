"""Give a model's existing cell classifier its replay file (``cell_classifier_replay.npz``).

Usage: python packaging/add_replay_file.py resources/models/default \
           --data ../shared/data/pbc --data ../shared/data/pbc_extra --pixel-size 0.1029

Why: a classifier adapts to a lab by refitting its last layer beside the pooled features of some of
its own training cells (bloodview/model/classifier_replay.py). ``bloodview train-classifier`` writes
that file for every classifier it trains; this script writes it for one trained before (the shipped
default's), from the same training data, without touching its weights: 80 cells per class of the
data's ``train`` split (a seeded choice), their features through the classifier as stored.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--data", type=Path, action="append", required=True,
                        help="the classifier's training data (class folders or an annotation file); repeatable")
    parser.add_argument("--pixel-size", type=float, required=True, help="µm per pixel of the data's images")
    parser.add_argument("--per-class", type=int, default=None)
    args = parser.parse_args()

    from bloodview.io.detect import load_annotations
    from bloodview.model.cell_classifier import build_classifier_network
    from bloodview.model.classifier_replay import PER_CLASS, write_bank_for
    from bloodview.model.classifier_training import cell_samples
    import json

    from bloodview.io.atomic import atomic_write_json
    from bloodview.model.store import read_model_info
    from bloodview.model.store_io import load_weights_checked

    info = read_model_info(args.model)
    spec = info.classifier_spec
    if spec is None:
        raise SystemExit(f"{args.model}: has no cell classifier")
    train = []
    for path in args.data:
        train += cell_samples(load_annotations(path, None), spec.class_names, args.pixel_size, splits=("train", None))
    network = build_classifier_network(spec)
    load_weights_checked(network, args.model / spec.weights_file)
    name = write_bank_for(network, spec, train, args.model, per_class=args.per_class or PER_CLASS)
    values = json.loads((args.model / "model.json").read_text(encoding="utf-8"))  # every field kept as it is
    values["cell_classifier"]["replay_file"] = name
    atomic_write_json(args.model / "model.json", values, backup=False)
    size = (args.model / name).stat().st_size
    print(f"{args.model / name}: {min(len(train), (args.per_class or PER_CLASS) * len(spec.class_names))} cells "
          f"of {len(train)} training cells, {size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
