"""Fine-tune the ``--init`` model's cell classifier on the same corrected cells as its detector.

Why: ``bloodview train --init`` (and the app's Retrain, "Adapt the current model") used to write a
detector without a classifier, so an adapted model named cells with its retrained detector alone
and the classifier's knowledge was thrown away. Measured on Zheng Dataset 1 (another lab; 50
corrected crops, the fixed 149 held out of ``benchmarks/adaptation.py``), the shipped detector
kept: the shipped classifier fine-tuned on those 50 cells alone names 0.81 (20 steps of 32 crops,
1.4 min on the 2-core CPU) or 0.82 (40 steps) of the held-out cells right, from 0.38 before; with
56 PBC crops mixed in (60 steps) 0.83, and PBC is kept far better (0.92 on 120 PBC val crops,
against 0.71 / 0.55 without them): mix the model's own images in where you have them. (Keeping
the classifier's BatchNorm statistics frozen, as the detector's adapt recipe does, was tried:
Zheng 0.83 but PBC 0.53, so they train.)

A classifier that carries a replay file (every one trained since 2026-12-07, and the shipped
default's) adapts its last layer only, beside the replayed features of its own training cells
(:mod:`bloodview.model.classifier_replay`): it learns the lab as well and keeps the classes the
lab's corrections lack. The whole fine-tune below is for classifiers without one (``method``).

The whole fine-tune is sized to the cells (:func:`adaptation_steps`): about 15 jittered passes over them,
at least 10 and at most 60 steps; the ``labs`` jitter (other stains and cameras); Adam at a fifth
of the rate the classifier was trained at. The score temperature is refitted on the validation
cells when there are enough of them to fit one number, else the classifier's own is kept.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path

from bloodview.errors import ModelError
from bloodview.model.store import ModelInfo

log = logging.getLogger(__name__)

PASSES = 15  # each training cell is seen about this many times, each time jittered
MIN_STEPS, MAX_STEPS = 10, 60
LEARNING_RATE = 2e-4
JITTER = "labs"
MIN_VAL_CELLS_FOR_TEMPERATURE = 20  # fewer cells fit a temperature to noise; keep the classifier's own


def adaptation_steps(cells: int, batch_size: int) -> int:
    """Optimizer steps for fine-tuning on ``cells`` cells: ~``PASSES`` passes, clamped."""
    return max(MIN_STEPS, min(MAX_STEPS, math.ceil(PASSES * cells / batch_size)))


class NoScaledCells(ModelError):
    """No training cell is left because their images have no pixel size: the classifier cuts its crops at
    its own µm per pixel, so an image of unknown scale cannot teach it (see ``cell_samples``)."""

    def __init__(self, skipped: int, images: int):
        self.skipped = skipped
        super().__init__(
            f"{skipped} of {images} training images were skipped because their pixel size is unknown (none recorded "
            "and no red cells to measure it from), so no cell was left to learn from; give it with --pixel-size UM "
            "(in the app: Model \N{RIGHTWARDS ARROW} Pixel size\N{HORIZONTAL ELLIPSIS})")


METHODS = ("auto", "last-layer", "whole")
"""How the classifier adapts: ``last-layer`` refits its last layer beside the replayed features of its
own training cells (:mod:`bloodview.model.classifier_replay`: it keeps the classes the lab's cells
lack); ``whole`` fine-tunes the whole network (this module); ``auto``: last-layer where the classifier
carries a replay file, else whole."""


def adapt_cell_classifier(
    init: ModelInfo,
    out: Path,
    train_images: Sequence,
    val_images: Sequence,
    dataset,
    pixel_size_um: float | None = None,
    seed: int = 0,
    method: str = "auto",
) -> dict | None:
    """Adapt ``init``'s classifier to the cells of ``train_images`` into the model folder ``out``.

    Returns the new classifier's ``model.json`` entry, or ``None`` (nothing written) when ``init``
    has no classifier or the images hold none of its classes. Raises :class:`NoScaledCells` when
    cells of its classes were there but all in images of unknown pixel size. ``dataset`` resolves
    the images. ``method``: one of :data:`METHODS`.
    """
    if method not in METHODS:
        raise ValueError(f"unknown classifier adaptation {method!r} (choose {', '.join(METHODS)})")
    spec = init.classifier_spec
    if spec is None:
        return None
    from bloodview.model.cell_crops import JITTERS
    from bloodview.model.classifier_training import (ClassifierSettings, cell_samples, scaled_cell_samples,
                                                     train_classifier)

    train, unscaled = scaled_cell_samples(dataset, spec.class_names, pixel_size_um, images=train_images)
    if not train and unscaled:
        raise NoScaledCells(unscaled, len(train_images))
    if not train:
        log.info("no cells of the cell classifier's classes among the training images: classifier left out")
        return None
    val = cell_samples(dataset, spec.class_names, pixel_size_um, images=val_images)
    if method == "last-layer" and spec.replay_file is None:
        raise ModelError(f"{init.path}: its cell classifier has no replay file, so only its whole network can "
                         "adapt (classifier adaptation 'whole' or 'auto')")
    if method != "whole" and spec.replay_file is not None:
        from bloodview.model.classifier_replay import adapt_last_layer

        return adapt_last_layer(init, out, train, val, seed)
    settings = ClassifierSettings(input_size=spec.input_size, pixel_size_um=spec.pixel_size_um, seed=seed,
                                  jitter=JITTERS[JITTER](), colour=spec.colour, views=spec.views,
                                  learning_rate=LEARNING_RATE)
    steps_per_epoch = max(1, len(train) // settings.batch_size)
    settings.epochs = max(1, round(adaptation_steps(len(train), settings.batch_size) / steps_per_epoch))
    fit_val = val if len(val) >= MIN_VAL_CELLS_FOR_TEMPERATURE else []
    log.info("adapting the cell classifier on %d cells: %d x %d steps of %d%s", len(train), settings.epochs,
             steps_per_epoch, settings.batch_size,
             "" if fit_val else f"; {len(val)} validation cells: its temperature is kept")
    started = time.time()
    summary = {"data": "the detector's training images", "pixel_size_um": pixel_size_um, "start": "classifier",
               "jitter": JITTER, "recipe": "adapt", "from": str(init.path)}
    new = train_classifier(out, None, list(spec.class_names), spec.backbone, train, fit_val, settings,
                           data_summary=summary, start_weights=init.path / spec.weights_file)
    if not fit_val:
        new.temperature = spec.temperature
    new.training["wall_seconds"] = round(time.time() - started, 1)
    return new.to_dict()
