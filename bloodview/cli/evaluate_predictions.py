"""``bloodview evaluate --model``: the ground truth's images predicted first, kept as they finish.

A lab scoring a model on a few hundred of its checked fields waits minutes before the report; a
run stopped before it (Ctrl-C, ``kill``, a scheduler's time limit, a full disk) lost every
prediction, and the next run read every image again. Now each network batch of finished images
is kept, as ``bloodview predict`` keeps its own (:mod:`bloodview.cli.predict_journal`), in the
report folder's ``predictions.json.partial/``: the journal of the ``predictions.json`` written
beside the report at the end. The same command carries on from them; the folder is removed once
the report is written.

A kept prediction is reused only by a run that would have made the same one
(:func:`open_journal`): same model folder and ``model.json``, same ``--no-cell-classifier``, the
same red-cell finder (on when the ground truth has red cells), the same ``--pixel-size`` and
the same pixel sizes the ground truth gives its images; the image file itself unchanged (path,
size, modification time). Anything else starts over. ``--min-score``, ``--gt-format`` and the
cells of the ground truth only change the scoring, so they carry on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import types
from pathlib import Path

from bloodview.cli.log_progress import LogProgress
from bloodview.cli.predict_journal import VERSION, DoneImage, PredictJournal, image_key, model_stamp
from bloodview.cli.run_errors import OutputError

PREDICTIONS_FILE = "predictions.json"
"""What ``--model`` keeps beside the report; its journal is ``predictions.json.partial/``."""


def ground_truth_images(gt) -> list[Path]:
    """The files of the ground truth's images, each there (only they are predicted: others could not
    be scored); the first missing one is named, before a model loads or a journal is made."""
    from bloodview.errors import ImageError

    paths = [Path(gt.resolve_image(i)) for i in gt.images]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise ImageError(missing[0], f"image not found ({len(missing)} of {len(paths)} ground-truth images "
                         "are missing; give their folder with --images)")
    return paths


def read_at_sizes(gt, pixel_size: float | None) -> list[float | None]:
    """µm per pixel to read each image at: ``pixel_size`` (``--pixel-size``) for all, else the one the
    ground truth gives the image, else None (measured on its red cells)."""
    from bloodview.core.measure import SOURCE_GIVEN

    return [pixel_size or (i.pixel_size_um if i.pixel_size and i.pixel_size.source == SOURCE_GIVEN else None)
            for i in gt.images]


def open_journal(out: Path, model_dir: Path, gt, paths: list[Path], sizes: list[float | None], pixel_size: float | None,
                 cell_classifier: bool, restart: bool) -> PredictJournal:
    """The locked journal in ``out`` (the report folder, made here if need be) for this model and these options.

    Raises :class:`~bloodview.cli.run_errors.OutputError` when ``out`` cannot be made and
    :class:`~bloodview.cli.run_errors.BusyError` while another run writes the same report."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(out, f"cannot be made ({exc.strerror or exc}); --out is the report folder to write") from exc
    given = sorted((os.path.abspath(path), size) for path, size in zip(paths, sizes) if size is not None)
    settings = {
        "journal": VERSION,
        "command": "evaluate",
        **model_stamp(model_dir),
        "cell_classifier": cell_classifier,
        "red_cells": bool(gt.classes.red_cell_names),
        "pixel_size": pixel_size,
        "ground_truth_pixel_sizes": None if pixel_size or not given else
        hashlib.sha256(json.dumps(given).encode("utf-8")).hexdigest(),
    }
    journal, note = PredictJournal.open(out / PREDICTIONS_FILE, settings, restart=restart, command="evaluate")
    if note:
        print(note, file=sys.stderr)
    return journal


def close_journal(journal: PredictJournal, finished: bool, images: int, out: Path, made_out: bool) -> None:
    """After the run: the journal removed once the report is written; else its images kept (and said),
    and a report folder this run made and left empty removed again."""
    if finished:
        journal.finish()
        return
    journal.close_unfinished(images)
    if made_out:
        with contextlib.suppress(OSError):
            out.rmdir()  # only when empty


def predict_ground_truth(model_dir: Path, gt, paths: list[Path], sizes: list[float | None], cell_classifier: bool,
                         journal: PredictJournal):
    """Run the model on the ground truth's images ``paths`` (read at ``sizes``) -> Dataset of its cells.

    Images an earlier, stopped run of the same command kept in ``journal`` are taken from there;
    the others are predicted one network batch at a time, each batch kept as it finishes. As
    ``bloodview predict`` does, an image read at an assumed scale (no usable red cells of its own)
    is then read again at the scale the other images of its size measured, carried over or not
    (:mod:`bloodview.model.camera_pass`), so the report scores what a user gets.
    """
    from bloodview.core.annotation import Dataset, ImageAnnotation
    from bloodview.core.classes import ClassCatalogue, is_red_cell_name
    from bloodview.core.measure import PixelSize
    from bloodview.model.predict import Predictor

    # A ground truth with red cells (a lab's checked fields) is compared with what the app gives: the
    # model plus the classical red-cell finder; without, the model alone (as every evaluation before).
    red_cells = bool(gt.classes.red_cell_names)
    predictor = Predictor.load(model_dir, cell_classifier=cell_classifier, red_cells=red_cells)
    catalogue = ClassCatalogue([])  # the journal's: the model's class names, as it gives them
    for name in getattr(predictor, "class_names", []):
        catalogue.add(name)
    carried = journal.carried_over([(path, path) for path in paths], catalogue)
    results = [None if one is None else one.detections for one in carried]
    _predict_the_rest(predictor, gt, paths, sizes, results, journal, catalogue)
    if hasattr(predictor, "detect"):
        _read_at_camera_scale(predictor, paths, [(image.height, image.width) for image in gt.images], results)
    if red_cells:  # the finder's ``rbc`` is the ground truth's red-cell class, however it is spelt
        for one in results:
            for cell in one.instances:
                if is_red_cell_name(cell.class_name):
                    cell.class_name = gt.classes.resolve(cell.class_name)
    images = [
        ImageAnnotation(path, image.width, image.height, list(one.instances),
                        pixel_size=None if one.scale is None else PixelSize.from_estimate(one.scale))
        for path, image, one in zip(paths, gt.images, results)
    ]
    return Dataset(images, gt.classes)


def _predict_the_rest(predictor, gt, paths: list[Path], sizes: list[float | None], results: list, journal, catalogue):
    """Fill the ``None`` of ``results`` (one per path) with detections, a batch at a time, each kept in ``journal``."""
    from tqdm import tqdm

    todo = [k for k, one in enumerate(results) if one is None]
    already = len(paths) - len(todo)
    # One network batch per call, as the predictor batches them anyway: the same images go through the
    # network together as in one call over all, so a carried-on report is the one an unstopped run writes.
    batch = getattr(getattr(predictor, "config", None), "images_per_gpu", None) or max(1, len(todo))
    log_lines = LogProgress("evaluate", len(paths), already=already)  # a log file gets whole lines
    with tqdm(total=len(paths), initial=already, desc="predicting", unit="image", file=sys.stderr,
              disable=None) as bar:
        for start in range(0, len(todo), batch):
            indices = todo[start : start + batch]
            before = bar.n

            def moved(done: int, _total: int, before: int = before) -> None:
                bar.update(before + done - bar.n)
                log_lines.update(before + done)

            found = _detect(predictor, [paths[k] for k in indices], [sizes[k] for k in indices], moved)
            journal.add([_done(paths[k], gt.images[k], one, catalogue) for k, one in zip(indices, found)], catalogue)
            for k, one in zip(indices, found):
                results[k] = one
            bar.update(before + len(indices) - bar.n)


def _detect(predictor, paths: list[Path], sizes: list[float | None], progress) -> list:
    """Each image's detections (``instances``, ``scale``); a predictor without ``detect`` (a stand-in) gives no scale."""
    if not hasattr(predictor, "detect"):
        return [types.SimpleNamespace(instances=list(cells), scale=None, glass_gains=None)
                for cells in predictor.predict(paths, progress=progress)]
    return predictor.detect(paths, progress=progress, pixel_size=sizes)


def _done(path: Path, image, one, catalogue) -> DoneImage:
    """One finished image as the journal keeps it; its class names added to ``catalogue``."""
    from bloodview.core.annotation import ImageAnnotation
    from bloodview.core.classes import shown_name
    from bloodview.core.measure import PixelSize

    for cell in one.instances:  # the red-cell finder's class (rbc), which the network lacks
        if cell.class_name not in catalogue:
            catalogue.add(cell.class_name, display_name=shown_name(cell.class_name))
    scale = None if one.scale is None else PixelSize.from_estimate(one.scale)
    annotation = ImageAnnotation(path, image.width, image.height, list(one.instances), pixel_size=scale)
    return DoneImage(image_key(path), annotation, one, False, getattr(one, "glass_gains", None) is not None)


def _read_at_camera_scale(predictor, paths: list[Path], shapes: list[tuple[int, int]], results: list) -> None:
    from bloodview.model.camera_pass import read_again_at_camera_scale

    again = read_again_at_camera_scale(predictor, paths, shapes, results)
    if again:
        print(f"{len(again)} image(s) without usable red cells read again at their camera's scale, measured "
              "on the other images of their size", file=sys.stderr)
