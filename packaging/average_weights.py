"""Average the weights of several epochs of one training run into a new model folder.

Usage: python packaging/average_weights.py OUT_DIR MODEL_DIR MODEL_DIR [MODEL_DIR ...]

Stochastic weight averaging (see ``bloodview.model.weights_file``): the model folders
are the same run saved after successive epochs (``bloodview train --epochs 1``, then
``--resume --epochs 2``, ... copying the folder after each). ``model.json`` comes from
the last folder, with the averaged folders' names under ``training.averaged``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bloodview.io.atomic import atomic_write_json
from bloodview.model.weights_file import write_average_weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("model_dirs", type=Path, nargs="+")
    args = parser.parse_args()

    info = json.loads((args.model_dirs[-1] / "model.json").read_text(encoding="utf-8"))
    info.setdefault("training", {})["averaged"] = [d.name for d in args.model_dirs]
    args.out.mkdir(parents=True, exist_ok=True)
    write_average_weights([d / "model.weights.h5" for d in args.model_dirs], args.out / "model.weights.h5")
    atomic_write_json(args.out / "model.json", info, backup=False)
    print(f"averaged {len(args.model_dirs)} model folders -> {args.out}")


if __name__ == "__main__":
    main()
