"""``bloodview train``: train or fine-tune a Mask R-CNN on a COCO instances file.

With ``--progress jsonl`` stdout carries only JSON lines (see
bloodview.model.callbacks); everything else goes to stderr. SIGINT/SIGTERM stop
after the current step with a checkpoint (exit code 130); ``--resume`` goes on.
``--no-resume-hint`` is for a caller that removes an unfinished run's folder once the
trainer has exited (the app's Retrain dialog): the stop message then offers no
``--resume`` of a folder that will be gone.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bloodview.cli.options import add_device_option, add_pixel_size_option, given_pixel_size
from bloodview.cli.tensorflow_start import start_tensorflow
from bloodview.errors import BloodviewError

log = logging.getLogger(__name__)

EXIT_STOPPED = 130


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a Mask R-CNN on annotated images (COCO instances file)",
        description="Train or fine-tune a Mask R-CNN. Writes the model folder (weights + model.json), "
        "TensorBoard logs in OUT/logs and a checkpoint every epoch in OUT/checkpoints.",
    )
    parser.add_argument("--data", required=True, type=Path, metavar="COCO.json", help="COCO instances file")
    parser.add_argument("--images", type=Path, metavar="DIR", help="image folder (default: the COCO file's folder)")
    parser.add_argument("--backbone", metavar="NAME", help="backbone (see `bloodview models --backbones`)")
    parser.add_argument("--epochs", type=int, metavar="N")
    parser.add_argument("--steps-per-epoch", type=int, metavar="N")
    parser.add_argument("--init", type=Path, metavar="MODEL_DIR", help="fine-tune from this model's weights")
    parser.add_argument("--reinit-heads", action="store_true",
                        help="with --init: take the classes from the data and start the class-specific outputs afresh")
    parser.add_argument("--config", type=Path, metavar="FILE", help="JSON config (all or some fields)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override one config field, e.g. --set image_max_dim=256 (repeatable)")
    parser.add_argument("--out", required=True, type=Path, metavar="MODEL_DIR", help="model folder to write")
    parser.add_argument("--name", help="model name (default: the --out folder's name)")
    parser.add_argument("--progress", choices=["jsonl"], help="machine-readable progress on stdout")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints")
    parser.add_argument("--no-resume-hint", action="store_true",
                        help="a stopped run's message does not offer --resume: for a caller that removes the "
                             "unfinished OUT folder when the trainer exits (the app's Retrain dialog)")
    parser.add_argument("--val-ratio", type=float, metavar="R",
                        help="share of images for validation (default: the data's own split, else 0.1 from 10 images)")
    parser.add_argument("--backbone-weights", metavar="imagenet|FILE",
                        help="initial backbone weights (imagenet needs internet once)")
    parser.add_argument("--recipe", choices=["adapt", "inherit"],
                        help="adapt: a schedule sized to the images (default with --init and no --epochs/"
                             "--steps-per-epoch/--config; ~16 passes over them, at most 600 steps); "
                             "inherit: the --init model's own schedule")
    parser.add_argument("--no-cell-classifier", action="store_true",
                        help="with --init: write the detector only; by default the --init model's cell classifier, "
                             "if it has one, adapts to the same cells (see --classifier-adapt)")
    parser.add_argument("--classifier-adapt", choices=["auto", "last-layer", "whole"], default="auto",
                        help="with --init: how its cell classifier adapts. last-layer: its last layer is refitted on "
                             "the cells beside the stored features of its own training cells, so it keeps the "
                             "classes your cells lack (seconds); whole: the whole network is fine-tuned (about 2 "
                             "minutes for 50 cells; forgets more); auto (default): last-layer when the classifier "
                             "carries those features (cell_classifier_replay.npz), else whole")
    parser.add_argument("--classes-only", action="store_true",
                        help="with --init: adapt only its cell classifier (last layer, beside its own training "
                             "cells) to the cells' classes and keep its detector as it is: under a minute instead "
                             "of the detector's minutes; the outlines stay the --init model's")
    parser.add_argument("--keep-start", type=float, metavar="SHARE",
                        help="with --init: blend this share of the --init model's weights back into the trained "
                             "ones (the detector, and a wholly fine-tuned cell classifier), so the model forgets "
                             "less of what it knew "
                             "(default: 0.33 when the adapt recipe trains on 50 images or more, else 0; 0 switches it off)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ignore-class", action="append", default=[], metavar="NAME[,NAME]",
                        help="leave the cells of these classes out (they count as background), e.g. rbc for BCCD "
                             "boxes and a model without a red-cell class; WBC boxes train as 'a white cell of "
                             "unknown type' when the model has white classes")
    add_device_option(parser, "training")
    add_pixel_size_option(parser, "µm per pixel of the training images (default: auto, each image's own "
                                  "as recorded in its annotation, else measured on its red cells)")
    parser.set_defaults(func=run)


def _options(args: argparse.Namespace):
    from bloodview.model.config import parse_override
    from bloodview.model.train import TrainOptions

    overrides = {}
    for text in args.set:
        try:
            key, value = parse_override(text)
        except ValueError as exc:
            raise BloodviewError(f"--set {text}: {exc}") from exc
        overrides[key] = value
    return TrainOptions(
        data=args.data, out=args.out, images=args.images, backbone=args.backbone, epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch, init=args.init, config_file=args.config, overrides=overrides,
        resume=args.resume, val_ratio=args.val_ratio, reinit_heads=args.reinit_heads, name=args.name,
        seed=args.seed, backbone_weights=args.backbone_weights, pixel_size_um=given_pixel_size(args.pixel_size),
        recipe=args.recipe, cell_classifier=not args.no_cell_classifier, keep_start=_share(args.keep_start),
        classifier_adapt=args.classifier_adapt, classes_only=args.classes_only,
        ignore_classes=[n.strip() for text in args.ignore_class for n in text.split(",") if n.strip()],
    )


def _share(value: float | None) -> float | None:
    if value is not None and not 0.0 <= value < 1.0:
        raise BloodviewError(f"--keep-start {value}: give a share from 0 (off) up to, not including, 1")
    return value


def run(args: argparse.Namespace) -> int:
    start_tensorflow(args)
    if not args.progress:
        return _run_plain(args)
    # JSON lines only on the real stdout; anything else printed goes to stderr.
    stream, sys.stdout = sys.stdout, sys.stderr
    from bloodview.model.callbacks import ProgressWriter

    writer = ProgressWriter(stream)
    try:
        return _train(args, writer)
    except BloodviewError as exc:
        writer.emit("error", message=str(exc))
        print(f"bloodview: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        kept = "" if args.no_resume_hint else "; the last epoch's checkpoint is kept"
        writer.emit("error", message=f"training aborted (second interrupt){kept}")
        return EXIT_STOPPED
    except Exception as exc:
        writer.emit("error", message=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        sys.stdout = stream


def _run_plain(args: argparse.Namespace) -> int:
    return _train(args, None)


def _train(args: argparse.Namespace, writer) -> int:
    from bloodview.model.callbacks import TrainingInterrupted
    from bloodview.model.distribute import use_devices
    from bloodview.model.train import train

    options = _options(args)
    plan = use_devices(args.device)
    options.devices = plan.replica_devices
    print(f"device: {plan.describe()}", file=sys.stderr)
    try:
        result = train(options, progress=writer, show_bar=writer is None)
    except TrainingInterrupted as exc:
        message = stopped_message(exc.epoch, options.out, resume_hint=not args.no_resume_hint)
        if writer is not None:
            writer.emit("error", message=message)
        print(f"bloodview: {message}", file=sys.stderr)
        return EXIT_STOPPED
    if writer is None:
        losses = ", ".join(f"{k}={v:.4f}" for k, v in result.final_losses.items() if v is not None)
        print(f"model written to {result.model_dir}" + (f" ({losses})" if losses else ""))
    return 0


def stopped_message(epoch: int, out: Path, resume_hint: bool = True) -> str:
    """What a run stopped by SIGINT/SIGTERM says: where its checkpoint is and how to go on, or, for a
    caller that removes ``out`` (``--no-resume-hint``), only that no model was written."""
    if not resume_hint:
        return f"training stopped during epoch {epoch}; no model was written"
    return f"training stopped during epoch {epoch}; checkpoint saved in {out / 'checkpoints'}; continue with --resume"
