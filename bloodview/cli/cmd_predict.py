"""``bloodview predict``: find and classify cells in images with a stored model.

Writes a COCO instances file (images with ``file_name`` as given on the command
line, or relative to a given folder, with the exceptions of
:mod:`bloodview.cli.predict_inputs`; categories by class name; polygon
segmentation, bbox, area, score) or, with ``--format results``, the bare COCO
results list that COCOeval reads. With a scale-aware model each image's scale
(``--pixel-size``, else measured on its red cells) goes into the image's
``bloodview.pixel_size`` and each cell's size in µm into its annotation's
``bloodview`` record (``area_um2``, ``diameter_um``). An image that cannot be read
(truncated, empty, not an image, a decompression bomb, under 8 px a side) is skipped
with one line naming it; the others are written, and the exit code is 1 only when none
could be read. An ``--out`` that could not be written is refused before the model loads.

Finished images are kept as the run goes in ``OUT.partial`` (:mod:`bloodview.cli.predict_journal`):
a run stopped by Ctrl-C (exit 130), ``kill`` (SIGTERM, exit 143) or a failed write says how many
are kept, and the same command carries on from them (``--restart``: read all again). Everything
but ``--json``'s one summary object goes to stderr, so stdout is a script's to parse.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from bloodview.cli.log_progress import LogProgress
from bloodview.cli.options import (
    add_device_option,
    add_pixel_size_option,
    check_output_file,
    given_pixel_size,
    positive_int_arg,
)
from bloodview.cli.predict_inputs import collect_images
from bloodview.cli.predict_journal import DoneImage, PredictJournal, image_key
from bloodview.cli.run_errors import OutputError
from bloodview.cli.tensorflow_start import start_tensorflow
from bloodview.errors import BloodviewError, ImageError, ModelError

if TYPE_CHECKING:
    import numpy as np


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="find and classify cells with a trained model",
        description="Run a stored Mask R-CNN on images and write the cells as COCO.",
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="image files and/or folders")
    parser.add_argument("--model", type=Path, metavar="MODEL_DIR", help="model folder (default: the default model)")
    parser.add_argument("--out", required=True, type=Path, metavar="OUT.json")
    parser.add_argument("--format", choices=["coco", "results"], default="coco",
                        help="coco: instances file (default); results: bare COCO results list")
    parser.add_argument("--min-confidence", type=float, metavar="X",
                        help="keep cells at least this confident (default: the model's threshold)")
    parser.add_argument("--batch-size", type=positive_int_arg, metavar="N", help="images per network call")
    add_device_option(parser, "detection")
    parser.add_argument("--no-cell-classifier", action="store_true",
                        help="name cells with the detector alone, even if the model carries a cell classifier")
    parser.add_argument("--no-red-cells", action="store_true",
                        help="leave red cells out (default: the classical red-cell finder outlines them, class rbc)")
    parser.add_argument("--full-outlines", action="store_true",
                        help="keep the full traced outlines (default: simplified to ~30 points for editing)")
    add_pixel_size_option(parser, "µm per pixel of the images, when known (default: auto, measured on each "
                                  "image's red cells)")
    parser.add_argument("--json", action="store_true",
                        help="print a summary of the run on stdout as one JSON object, for scripts; on failure "
                             "{\"error\", \"kind\"} (docs/formats.md, \"Command line\")")
    parser.add_argument("--restart", action="store_true",
                        help="read every image again, setting aside the images an unfinished earlier run with this "
                             "--out kept in OUT.partial (by default the same command carries on from them)")
    parser.set_defaults(func=run)


# Below this many pixels a side the red-cell measure refuses an image (core/scale.py) and the
# red-cell finder cannot shrink it to its work scale: such a file is a thumbnail or an icon.
SMALLEST_SIDE = 8


def _readable(chunk: list[tuple[Path, Path]], skipped: list[ImageError],
              grey: list[Path] | None = None) -> tuple[list[tuple[Path, Path]], list]:
    """The images of ``chunk`` that decode, and their arrays; each unreadable one is printed and
    noted in ``skipped`` (a truncated, empty or mislabelled file, a decompression bomb refused
    from its header, an image too small to hold a cell), so one bad file does not stop the others.
    Images without colour (a grey camera or file) are noted in ``grey``."""
    from tqdm import tqdm

    from bloodview.io.images import load_image

    kept, arrays = [], []
    for path, name in chunk:
        try:
            array = load_image(path)
            if min(array.shape[:2]) < SMALLEST_SIDE:
                raise ImageError(path, f"image of {array.shape[1]}x{array.shape[0]} px is too small to hold a cell "
                                       f"(at least {SMALLEST_SIDE} px a side)")
        except ImageError as exc:
            tqdm.write(f"skipped: {exc}", file=sys.stderr)  # a line of its own, under the progress bar
            skipped.append(exc)
            continue
        if grey is not None and _is_grey(array):
            grey.append(path)
        arrays.append(array)
        kept.append((path, name))
    return kept, arrays


def _is_grey(rgb: np.ndarray) -> bool:
    """Whether the three channels of ``rgb`` are one (a grey picture repeated by the loader)."""
    import numpy as np

    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def _note_beyond_reach(annotations: list, config) -> None:
    """Name the images read at a magnification the model cannot reach (their cells need checking)."""
    from bloodview.core.scale import beyond_reach

    model_um = getattr(config, "pixel_size_um", None)
    far = [a for a in annotations if a.pixel_size is not None and beyond_reach(a.pixel_size.um_per_pixel, model_um)]
    if far:
        first = far[0]
        print(f"note: {len(far)} image(s) are magnified beyond what the model reads (first: {first.image_path}, "
              f"{first.pixel_size.um_per_pixel:.4g} µm per pixel against the model's {config.pixel_size_um:.4g}): "
              "read clipped to the model's reach, their cells may be missed or misnamed: check them, give the images' "
              "true --pixel-size, or take images nearer the model's magnification", file=sys.stderr)


def _read_at_camera_scale(predictor, annotations: list, read_at: list, args) -> None:
    """Detect again, at their camera's scale, the images whose own red cells gave none.

    The other images of the same size are taken to be from the same camera
    (:mod:`bloodview.model.camera_pass`). Costs a second detection of those images only.
    """
    from bloodview.core.annotation import ImageAnnotation
    from bloodview.core.measure import PixelSize
    from bloodview.model.camera_pass import read_again_at_camera_scale

    paths, shapes, results = ([row[k] for row in read_at] for k in range(3))
    again = read_again_at_camera_scale(predictor, paths, shapes, results, min_confidence=args.min_confidence,
                                       simplify=not args.full_outlines)
    for k in again:
        old, one = annotations[k], results[k]
        annotations[k] = ImageAnnotation(old.image_path, old.width, old.height, one.instances,
                                         pixel_size=PixelSize.from_estimate(one.scale))
    if again:
        print(f"{len(again)} image(s) without usable red cells read again at their camera's scale, measured "
              "on the other images of their size", file=sys.stderr)


def _within(bar, start: int, images: int):
    """A ``step_progress`` that moves ``bar`` (whole images, ``start`` done) through a call on ``images``
    images as their tiles run, so a big field that takes a minute reads 0.46/1 rather than 0/1 all the while."""

    def moved(done: int, total: int) -> None:
        if total:
            position = round(start + images * done / total, 2)  # shown as 0.46/1, not 0.4583333/1
            bar.n = int(position) if position.is_integer() else position  # 1/1, not 1.0/1
            bar.refresh()

    return moved


def write_coco_with_scores(dataset, path: Path) -> None:
    """COCO instances file with each annotation's ``score`` at top level too (as detection tools expect)."""
    from bloodview.io.atomic import atomic_write_json
    from bloodview.io.coco import coco_dict

    data = coco_dict(dataset, Path.cwd())
    instances = [i for image in dataset.images for i in image.instances]
    for annotation, instance in zip(data["annotations"], instances):
        annotation["score"] = instance.score
    atomic_write_json(path, data)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (BloodviewError, OSError, KeyboardInterrupt) as exc:
        if args.json and not isinstance(exc, BrokenPipeError):  # the sentence still goes to stderr (main)
            from bloodview.cli.run_errors import error_kind

            kind = error_kind(exc)
            print(json.dumps({"error": str(exc) or kind, "kind": kind}, ensure_ascii=False), flush=True)
        raise


def _run(args: argparse.Namespace) -> int:
    model_dir = _model_dir(args.model)
    if args.min_confidence is not None and not 0.0 <= args.min_confidence <= 1.0:
        raise ModelError(f"--min-confidence must be between 0 and 1, got {args.min_confidence}")
    check_output_file(args.out)
    from bloodview.io.images import is_image_file

    if is_image_file(args.out):  # `predict a.jpg --out a.jpg` wrote JSON over the picture
        raise OutputError(args.out, "is an image file name; --out names the JSON file to write (e.g. cells.json)")
    images = collect_images(args.inputs)
    journal, note = PredictJournal.open(args.out, run_settings(args, model_dir), restart=args.restart)
    finished = False
    try:
        if note:
            print(note, file=sys.stderr)
        _predict_and_write(args, model_dir, images, journal)
        finished = True
    finally:
        if finished:
            journal.finish()
        else:
            journal.close_unfinished(len(images))
    return 0


def _model_dir(given: Path | None) -> Path:
    """The model folder to load, refused before TensorFlow starts when it is missing or its
    ``model.json`` is damaged (a script's typo used to cost TensorFlow's start-up first)."""
    from bloodview.model.store import MODEL_JSON, default_model_dir, is_model_dir, read_model_info

    if given is None:
        model_dir = default_model_dir()
        if not is_model_dir(model_dir):
            raise ModelError(
                f"{model_dir}: no default model yet; train one (bloodview train ... --out DIR) and pass --model DIR"
            )
        return model_dir
    if not given.is_dir():
        raise ModelError(f"{given}: model folder does not exist")
    try:
        json.loads((given / MODEL_JSON).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        read_model_info(given)  # raises the model store's sentence for a damaged model.json
    except OSError:
        pass  # none: a model folder without it is reported when the model loads
    return given


def run_settings(args: argparse.Namespace, model_dir: Path) -> dict:
    """What a carried-over result must share with this run (:mod:`bloodview.cli.predict_journal`): the
    model (its ``model.json`` changes when it is retrained in place) and the options that change the cells."""
    import os

    from bloodview.cli.predict_journal import VERSION
    from bloodview.model.store import MODEL_JSON

    model_json = model_dir / MODEL_JSON
    stat = model_json.stat() if model_json.exists() else None
    return {
        "journal": VERSION,
        "model": os.path.abspath(model_dir),
        "model_json": None if stat is None else [stat.st_size, stat.st_mtime_ns],
        "min_confidence": args.min_confidence,
        "cell_classifier": not args.no_cell_classifier,
        "red_cells": not args.no_red_cells,
        "full_outlines": bool(args.full_outlines),
        "pixel_size": given_pixel_size(args.pixel_size),
    }


def _predict_and_write(args: argparse.Namespace, model_dir: Path, images: list[tuple[Path, Path]],
                       journal: PredictJournal) -> None:
    start_tensorflow(args)
    from tqdm import tqdm

    from bloodview.core.annotation import Dataset
    from bloodview.core.classes import ClassCatalogue
    from bloodview.io.coco import save_coco_results
    from bloodview.model.predict import Predictor

    from bloodview.model.distribute import use_devices

    print(f"device: {use_devices(args.device).describe()}", file=sys.stderr)
    predictor = Predictor.load(model_dir, cell_classifier=not args.no_cell_classifier,
                               red_cells=not args.no_red_cells)
    catalogue = ClassCatalogue([])
    for name, colour in zip(predictor.class_names, predictor.info.class_colors or [None] * len(predictor.class_names)):
        catalogue.add(name, color=tuple(colour) if colour else None)
    batch = args.batch_size or predictor.config.images_per_gpu
    results = journal.carried_over(images, catalogue)
    todo = [k for k, one in enumerate(results) if one is None]
    skipped: list[ImageError] = []
    log_lines = LogProgress("predict", len(images), already=len(images) - len(todo))
    with tqdm(total=len(images), initial=len(images) - len(todo), desc="predict", unit="image", file=sys.stderr,
              disable=None) as bar:
        for start in range(0, len(todo), batch):
            log_lines.update(len(images) - len(todo) + start)  # a line now and then, off a terminal
            indices = todo[start : start + batch]
            bar.set_postfix_str(images[indices[0]][0].name, refresh=True)  # a big field takes a while
            grey: list[Path] = []
            chunk, arrays = _readable([images[k] for k in indices], skipped, grey)
            bar.update(len(indices) - len(chunk))
            if not chunk:
                continue
            done = bar.n
            found = _detect(predictor, chunk, arrays, grey, catalogue, args, batch, _within(bar, done, len(chunk)))
            journal.add(found, catalogue)  # kept before counted: a stop from here on loses no finished image
            where = {images[k]: k for k in indices}  # each file once (collect_images)
            for item, one in zip(chunk, found):
                results[where[item]] = one
            bar.n = done  # the fraction _within showed, made whole
            bar.update(len(chunk))
    finished = [(images[k], one) for k, one in enumerate(results) if one is not None]
    annotations = [one.annotation for _, one in finished]
    read_at = [(path, (one.annotation.height, one.annotation.width), one.detections) for (path, _), one in finished]
    grey = [path for (path, _), one in finished if one.grey]
    balanced = sum(one.balanced for _, one in finished)
    if skipped:
        print(f"{len(skipped)} image(s) skipped (unreadable or too small): see the lines above", file=sys.stderr)
    if grey:
        print(f"note: {len(grey)} image(s) have no colour (first: {grey[0]}): the model tells white cells by their "
              "stain colours, so it finds few or none in grey images; take colour images for a differential",
              file=sys.stderr)
    if args.pixel_size is None:
        _read_at_camera_scale(predictor, annotations, read_at, args)
    _note_beyond_reach(annotations, predictor.config)
    if not annotations:
        raise ImageError(None, f"none of the {len(images)} image(s) could be read; nothing written")
    dataset = Dataset(annotations, catalogue, root=None)
    try:
        if args.format == "results":
            save_coco_results(dataset, args.out)
        else:
            write_coco_with_scores(dataset, args.out)
    except OSError as exc:  # a disk full by now: the finished images are kept (_keep_or_drop says where)
        raise OutputError(args.out, f"cannot be written ({exc.strerror or exc})") from exc
    _print_summary(annotations, balanced, predictor, args.out)
    if args.json:
        print(json.dumps(run_summary(args, len(images), annotations, skipped, len(images) - len(todo)),
                         ensure_ascii=False))


def run_summary(args: argparse.Namespace, found: int, annotations: list, skipped: list[ImageError],
                carried: int) -> dict:
    """``--json``: what a script checks after a run, under keys that stay (new ones may be added).

    ``images``: found in the inputs; ``written``: in ``out`` (``images`` less ``skipped``);
    ``carried_over``: of those, finished by an earlier, stopped run; ``skipped``: each unreadable
    image's ``file`` and ``reason``.
    """
    import os

    return {
        "out": os.path.abspath(args.out),
        "format": args.format,
        "images": found,
        "written": len(annotations),
        "cells": sum(len(a.instances) for a in annotations),
        "carried_over": carried,
        "skipped": [{"file": os.path.abspath(e.path) if e.path else None, "reason": e.reason} for e in skipped],
    }


def _detect(predictor, chunk: list[tuple[Path, Path]], arrays: list, grey: list[Path], catalogue, args,
            batch: int, step_progress) -> list[DoneImage]:
    """The cells of the readable images ``chunk`` (decoded as ``arrays``), one network pass."""
    from bloodview.core.annotation import ImageAnnotation
    from bloodview.core.classes import shown_name
    from bloodview.core.measure import PixelSize

    found = predictor.detect(arrays, batch_size=batch, min_confidence=args.min_confidence,
                             pixel_size=given_pixel_size(args.pixel_size), simplify=not args.full_outlines,
                             step_progress=step_progress)
    done = []
    for (path, name), array, one in zip(chunk, arrays, found):
        for cell in one.instances:  # the red-cell finder's class (rbc), which the network lacks
            if cell.class_name not in catalogue:
                catalogue.add(cell.class_name, display_name=shown_name(cell.class_name))
        scale = None if one.scale is None else PixelSize.from_estimate(one.scale)
        annotation = ImageAnnotation(name, array.shape[1], array.shape[0], one.instances, pixel_size=scale)
        done.append(DoneImage(image_key(path), annotation, one, path in grey, one.glass_gains is not None))
    return done


def _print_summary(annotations: list, balanced: int, predictor, out: Path) -> None:
    """What was written, how each image's scale was found, and what to check."""
    cells = sum(len(a.instances) for a in annotations)
    print(f"{cells} cells in {len(annotations)} images -> {out}", file=sys.stderr)
    sources = Counter(a.pixel_size.source for a in annotations if a.pixel_size is not None)
    if sources:
        print("scale: " + ", ".join(f"{n} image(s) {source}" for source, n in sorted(sources.items())),
              file=sys.stderr)
    if balanced:
        print(f"glass colour: {balanced} image(s) outside the model's training range, balanced into it for the "
              "detector (docs/model.md, \"Glass colour\")", file=sys.stderr)
    from bloodview.core.second_opinion import Agreement, second_opinion_tells_distance

    agreement = Agreement()
    for annotation in annotations:
        agreement.add(annotation.instances)
    if second_opinion_tells_distance(predictor.info.cell_classifier) and agreement.unlike_training():
        print("note: " + agreement.advice("bloodview train --init MODEL [--classes-only] (the app's Model → Retrain…)"), file=sys.stderr)
