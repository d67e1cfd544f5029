"""Copy a trained model folder into resources/models/default, small enough for git.

Usage: python packaging/ship_default_model.py MODEL_DIR [--min-confidence X] [--metrics REPORT_JSON]

Writes ``model.json`` (optionally with a different detection threshold and the
evaluation summary in ``metrics``), ``model.weights.h5`` and, when the model has one, its cell
classifier's weights, all with float16 storage (see ``bloodview.model.weights_file``), and the
classifier's replay file (``bloodview.model.classifier_replay``);
checkpoints and logs are left behind.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from bloodview.io.atomic import atomic_write_json
from bloodview.model.weights_file import write_float16_weights

DEFAULT = Path(__file__).resolve().parents[1] / "resources" / "models" / "default"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT)
    parser.add_argument("--min-confidence", type=float, default=None)
    parser.add_argument("--metrics", type=Path, default=None, help="report.json of `bloodview evaluate`")
    args = parser.parse_args()

    info = json.loads((args.model_dir / "model.json").read_text(encoding="utf-8"))
    if args.min_confidence is not None:
        info["config"]["detection_min_confidence"] = args.min_confidence
    if args.metrics is not None:
        from bloodview.evaluation.reports import summary_for_model_json

        info["metrics"] = summary_for_model_json(json.loads(args.metrics.read_text(encoding="utf-8")))
    info["weights_storage"] = "float16"
    args.out.mkdir(parents=True, exist_ok=True)
    write_float16_weights(args.model_dir / "model.weights.h5", args.out / "model.weights.h5")
    atomic_write_json(args.out / "model.json", info, backup=False)
    written = [args.out / "model.weights.h5"]
    classifier = info.get("cell_classifier")
    if classifier:
        name = classifier.get("weights_file", "cell_classifier.weights.h5")
        write_float16_weights(args.model_dir / name, args.out / name, drop_optimizer=True)
        written.append(args.out / name)
        replay = classifier.get("replay_file")
        if replay:  # already float16 (bloodview.model.classifier_replay)
            shutil.copyfile(args.model_dir / replay, args.out / replay)
            written.append(args.out / replay)
    for stale in ("cell_classifier.weights.h5", "cell_classifier_replay.npz"):
        if (args.out / stale).exists() and args.out / stale not in written:
            (args.out / stale).unlink()  # a stale classifier must not outlive its model.json
    size = sum(path.stat().st_size for path in written) / 2**20
    print(f"shipped {args.model_dir} -> {args.out} ({size:.1f} MiB in {len(written)} file(s))")


if __name__ == "__main__":
    main()
