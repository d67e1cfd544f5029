"""``bloodview train-classifier``: give a model a cell classifier (a second look at each cell's class).

Reads one or more training sets (any annotation format bloodview reads, or a
class-per-folder set such as PBC), trains the classifier from the model's own
backbone weights, and writes it into ``--out`` next to a copy of the detector.
``--resume`` continues from ``OUT/checkpoints``. See docs/model.md, "Cell classifier".
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import shutil
import sys
import time
from pathlib import Path

from bloodview.cli.options import add_pixel_size_option, given_pixel_size
from bloodview.cli.tensorflow_start import start_tensorflow
from bloodview.errors import BloodviewError

log = logging.getLogger(__name__)

# Fine-tuning a trained classifier (--start classifier) moves it gently: a fifth of the rate it was trained at.
FINE_TUNE_LEARNING_RATE = 2e-4


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train-classifier",
        help="train a model's cell classifier (names each detected cell's class from a crop)",
        description="Train the cell classifier of a model on cells of known class and store it in the model "
        "folder. Training data: COCO/MakeSense/... annotations (a crop centred on each cell) or a "
        "class-per-folder set like PBC (one centred cell per image); their own train/val split is used.",
    )
    parser.add_argument("--model", required=True, type=Path, metavar="MODEL_DIR",
                        help="the model (detector) to add the classifier to; its backbone starts the classifier")
    parser.add_argument("--data", required=True, type=Path, action="append", metavar="PATH",
                        help="annotations or a class-per-folder image set (repeatable)")
    parser.add_argument("--images", type=Path, metavar="DIR", help="image folder for annotation files that name images")
    parser.add_argument("--out", required=True, type=Path, metavar="MODEL_DIR",
                        help="model folder to write (the detector is copied there; may be --model itself)")
    parser.add_argument("--name", help="model name (default: the --model's name)")
    parser.add_argument("--epochs", type=int, default=None, metavar="N")
    parser.add_argument("--input-size", type=int, default=None, metavar="PX", help="crop side in pixels (default 224)")
    parser.add_argument("--crop-pixel-size", type=float, default=None, metavar="UM",
                        help="µm per crop pixel (default 0.146: a 224-px crop covers 33 µm)")
    parser.add_argument("--learning-rate", type=float, default=None, metavar="LR",
                        help="peak learning rate (default 1e-3; 2e-4 with --start classifier)")
    parser.add_argument("--start", choices=["detector", "classifier"], default="detector",
                        help="detector: start from the model's detector backbone (default); classifier: "
                             "fine-tune the --model's own cell classifier (e.g. on a lab's corrected cells)")
    parser.add_argument("--jitter", choices=["mild", "stains", "labs", "tones"], default="mild",
                        help="training's random changes: mild (light and white balance), stains (also hue "
                             "and saturation, for other labs' stains) or labs (stronger: the stain remixed, "
                             "blur, grey crops; for other labs' stains and cameras) or tones (labs plus random tone "
                             "curves on the CIELAB axes: another lab's colour relations)")
    parser.add_argument("--colour", choices=["raw", "stretch"], default=None,
                        help="crop colours as the camera gave them (raw, default) or each channel stretched "
                             "between its darkest and brightest percentiles (stretch: another camera's white "
                             "balance and a paler stain look alike)")
    parser.add_argument("--views", type=int, choices=[1, 2, 4, 8], default=None,
                        help="crops per cell averaged when validating and predicting: the crop, mirrored, flipped "
                             "and turned copies (default 1; with --resume of a finished run, refits the "
                             "temperature for them without training again)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", choices=["jsonl"], help="one JSON line per epoch on stdout")
    add_pixel_size_option(parser, "µm per pixel of the training images (default: each image's own as recorded, "
                                  "else measured on its red cells)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    start_tensorflow(args)
    from bloodview.model.store import read_model_info

    info = read_model_info(args.model)
    if not info.to_config().scale_aware:
        raise BloodviewError(f"{args.model}: this model records no pixel size; a cell classifier needs one "
                             "(train a scale-aware model first)")
    from bloodview.io.detect import load_annotations

    sets = [load_annotations(path, args.images) for path in args.data]
    present = set().union(*(set(d.class_counts()) | set(d.image_label_counts()) for d in sets))
    class_names = [name for name in info.class_names if name in present]
    if not class_names:
        raise BloodviewError(f"no cells of the model's classes ({', '.join(info.class_names)}) in the data")
    settings = _settings(args)
    out = _prepare_out(args.model, args.out, args.resume)
    from bloodview.model.store_io import load_model

    start_weights = None
    if args.start == "classifier" and not args.resume:
        old = info.classifier_spec
        if old is None:
            raise BloodviewError(f"{args.model}: has no cell classifier to start from (use --start detector)")
        if old.backbone != info.backbone:
            raise BloodviewError(f"{args.model}: its cell classifier's backbone is {old.backbone}, not "
                                 f"{info.backbone}; use --start detector")
        # Fine-tuning keeps the classifier's classes (the data may hold only some) and, unless asked
        # otherwise, its crop size and scale. A new crop size is allowed: the network is convolutional
        # up to a global average, so its weights do not depend on the input size (e.g. 320 px at
        # PBC's own 0.1029 µm/px instead of 224 px at 0.146: the same 33 µm, not resampled).
        class_names = list(old.class_names)
        settings.input_size = old.input_size if args.input_size is None else settings.input_size
        settings.pixel_size_um = old.pixel_size_um if args.crop_pixel_size is None else settings.pixel_size_um
        settings.colour = old.colour if args.colour is None else settings.colour
        settings.views = old.views if args.views is None else settings.views
        if settings.colour != old.colour:
            raise BloodviewError(f"--colour {settings.colour}: the classifier to fine-tune was trained on "
                                 f"{old.colour} colours")
        start_weights = args.model / old.weights_file
        if args.learning_rate is None:
            settings.learning_rate = FINE_TUNE_LEARNING_RATE
    from bloodview.model.classifier_training import cell_samples, train_classifier

    pixel = given_pixel_size(args.pixel_size)
    train, val = [], []
    for dataset in sets:
        train += cell_samples(dataset, class_names, pixel, splits=("train", None), images_root=args.images)
        val += cell_samples(dataset, class_names, pixel, splits=("val",), images_root=args.images)
    print(f"{len(train)} training cells, {len(val)} validation cells, classes: {', '.join(class_names)}",
          file=sys.stderr)
    detector = None if (args.resume or start_weights is not None) else load_model(args.model)[0]
    stream = sys.stdout
    started = time.time()

    def progress(row: dict) -> None:
        if args.progress:
            stream.write(json.dumps({"event": "epoch"} | row) + "\n")
            stream.flush()
        else:
            print(f"epoch {row['epoch']}/{row['epochs']}: loss {row['loss']}, val accuracy "
                  f"{row.get('val_accuracy')}, {row['seconds']:.0f} s", file=sys.stderr)

    summary = {"data": [str(p) for p in args.data], "pixel_size_um": pixel}
    summary["start"] = args.start
    summary["jitter"] = args.jitter
    spec = train_classifier(out, detector, class_names, info.backbone, train, val, settings,
                            resume=args.resume, progress=progress, data_summary=summary,
                            start_weights=start_weights)
    spec.training["wall_seconds"] = round(time.time() - started, 1)
    from bloodview.model.store import read_model_info as reread, write_model_info

    written = reread(out)
    written.cell_classifier = spec.to_dict()
    # cells it names are told apart from the detector-only model's by the origin "<name>@<date>"
    written.date = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    if args.name:
        written.name = args.name
    write_model_info(written, out)
    val_figure = spec.metrics.get("val", {}).get("accuracy")
    print(f"cell classifier written to {out} (validation accuracy {val_figure}, temperature {spec.temperature:.3f})")
    return 0


def _settings(args: argparse.Namespace):
    from bloodview.model.classifier_training import ClassifierSettings

    from bloodview.model.cell_crops import JITTERS

    settings = ClassifierSettings(seed=args.seed, jitter=JITTERS[args.jitter](), colour=args.colour or "raw")
    for attribute, value in (("epochs", args.epochs), ("input_size", args.input_size), ("views", args.views),
                             ("pixel_size_um", args.crop_pixel_size), ("learning_rate", args.learning_rate)):
        if value is not None:
            if not value > 0:
                raise BloodviewError(f"--{attribute.replace('_', '-')} must be positive")
            setattr(settings, attribute, value)
    return settings


def _prepare_out(model: Path, out: Path, resume: bool) -> Path:
    """``out`` holding the detector: a copy of ``model``'s model.json and weights unless they are the same."""
    from bloodview.model.classifier_spec import CLASSIFIER_WEIGHTS_FILE
    from bloodview.model.store import MODEL_JSON, WEIGHTS_FILE

    if out.resolve() == model.resolve():
        return out
    if out.exists() and any(out.iterdir()) and not resume:
        if (out / MODEL_JSON).is_file():
            log.info("%s exists: its detector is replaced by %s's", out, model)
        else:
            raise BloodviewError(f"{out}: folder exists and is not a model folder; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    if not resume or not (out / MODEL_JSON).is_file():
        # the classifier's weights too, so the copy is a whole model until the new classifier replaces it
        for name in (WEIGHTS_FILE, CLASSIFIER_WEIGHTS_FILE, MODEL_JSON):
            if (model / name).is_file() or name != CLASSIFIER_WEIGHTS_FILE:
                shutil.copy2(model / name, out / name)
    return out
