"""``bloodview train --init MODEL --classes-only``: the cell classifier learns the corrected cells; the detector stays.

Why: on another lab's images the shipped detector finds and outlines the white cells well (Zheng
Dataset 1: whole-cell IoU 0.87, 0.95 found) while their *types* are mostly wrong (0.43), and the
types are what a technician corrects first. Retraining the detector too takes minutes (the adapt
recipe: 2 to 7 minutes for 10 to 100 images on a 2-core CPU); refitting the cell classifier's last
layer beside its replayed training cells (:mod:`bloodview.model.classifier_replay`) takes seconds.
So a lab can correct the classes of a few cells, adapt in under a minute, detect again and see the
rest named its way, and keep the longer retrain for when the outlines need it too
(docs/adaptation.md measures both).

The new model folder holds the ``--init`` model's detector weights byte for byte, its adapted
classifier and a ``model.json`` saying so (``training.recipe`` = ``classes-only``).
"""

from __future__ import annotations

import datetime as _dt
import logging
import shutil
import time
from pathlib import Path

from bloodview.errors import ModelError
from bloodview.model.store import MODEL_JSON, WEIGHTS_FILE, ModelInfo, read_model_info, write_model_info

log = logging.getLogger(__name__)

RECIPE = "classes-only"


def adapt_classes_only(options, progress=None):
    """Write ``options.out``: ``options.init``'s detector and its classifier adapted to the data's cells.

    ``options`` is a :class:`bloodview.model.train.TrainOptions`; returns its ``TrainResult``
    (no network, no losses: nothing of the detector was trained). Raises :class:`ModelError` when
    the ``--init`` model has no cell classifier or the data hold none of its classes; the output
    folder is then left as it was.
    """
    from bloodview.model.callbacks import CHECKPOINT_DIR, STATE_FILE
    from bloodview.model.data import data_summary, split_images
    from bloodview.model.train import TrainResult, check_output_folder, load_training_data

    if options.init is None:
        raise ModelError("--classes-only adapts an existing model's cell classifier: give the model with --init")
    if options.resume:
        raise ModelError("--classes-only takes seconds and writes no checkpoint: run it again without --resume")
    if options.classifier_adapt == "whole" or not options.cell_classifier or options.reinit_heads:
        raise ModelError("--classes-only refits the cell classifier's last layer; it goes with neither "
                         "--classifier-adapt whole, --no-cell-classifier nor --reinit-heads")
    out = Path(options.out)
    if (out / CHECKPOINT_DIR / STATE_FILE).is_file() and not (out / MODEL_JSON).is_file():
        # check_output_folder would offer --resume, which a classes-only run refuses (above)
        raise ModelError(f"{out}: holds an unfinished training run of the detector; finish it with `bloodview train "
                         "--resume` (without --classes-only) or choose another --out")
    check_output_folder(out, resume=False)
    init = read_model_info(options.init)
    spec = init.classifier_spec
    if spec is None:
        raise ModelError(f"{init.path}: this model names cells with its detector alone (no cell classifier), so "
                         "there are no classes to adapt without training the detector: leave out --classes-only")
    if spec.replay_file is None:
        raise ModelError(f"{init.path}: its cell classifier has no replay file (cell_classifier_replay.npz), so "
                         "its last layer cannot learn your cells without forgetting its own: leave out --classes-only")
    dataset, data_classes = load_training_data(options)
    unknown = [name for name in data_classes if name not in spec.class_names]
    if unknown:
        log.warning("cells of %s are not learnt: the cell classifier names only %s (a new class needs the "
                    "detector trained: --reinit-heads without --classes-only, in the app “Train a new model from "
                    "a backbone”)", ", ".join(unknown), ", ".join(spec.class_names))
    train_images, val_images = split_images(dataset.images, options.val_ratio, options.seed)
    if not train_images:
        raise ModelError(f"{options.data}: no training images left after the validation split")

    started = time.time()
    staging = out.parent / f".{out.name}.classes-only-partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        entry = _adapted_classifier(init, staging, train_images, val_images, dataset, options)
        shutil.copyfile(init.path / WEIGHTS_FILE, staging / WEIGHTS_FILE)
        info = _new_info(init, options, entry, {
            "data": str(options.data),
            "images_root": str(options.images) if options.images else None,
            "train": data_summary(train_images),
            "val": data_summary(val_images),
            "epochs": 0,
            "steps_per_epoch": 0,
            "init": str(options.init),
            "recipe": RECIPE,
            "detector": f"the --init model's, unchanged ({init.origin})",
            "wall_seconds": round(time.time() - started, 1),
        })
        write_model_info(info, staging)
        out.mkdir(parents=True, exist_ok=True)
        for item in sorted(staging.iterdir(), key=lambda p: p.name == MODEL_JSON):  # model.json last
            item.replace(out / item.name)
        info.path = out
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("classes adapted in %.0f s; detector kept from %s", time.time() - started, init.path)
    if progress is not None:
        progress.emit("done", model_dir=str(out), final_losses={})
    return TrainResult(out, info, {}, 0, None)


def _adapted_classifier(init: ModelInfo, folder: Path, train_images, val_images, dataset, options) -> dict:
    from bloodview.model.classifier_adapt import adapt_cell_classifier

    entry = adapt_cell_classifier(init, folder, train_images, val_images, dataset, options.pixel_size_um,
                                  options.seed, method="last-layer")
    if entry is None:
        names = ", ".join(init.classifier_spec.class_names)
        raise ModelError(f"{options.data}: none of the training cells is of a class the cell classifier names "
                         f"({names}): nothing to adapt")
    return entry


def _new_info(init: ModelInfo, options, entry: dict, training: dict) -> ModelInfo:
    """``init``'s description with the new name, date, versions, training summary and classifier."""
    from bloodview.model.store_io import versions

    return ModelInfo(
        name=options.name or Path(options.out).name,
        backbone=init.backbone,
        class_names=list(init.class_names),
        config=dict(init.config),
        class_colors=list(init.class_colors),
        image_size=init.image_size,
        training=training,
        final_losses={},
        metrics={},
        date=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        versions=versions(),
        cell_classifier=entry,
    )
