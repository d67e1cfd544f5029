"""Training a model's cell classifier (``bloodview train-classifier``).

Samples are cells of known class: each outlined or boxed cell of a training
annotation (crop centred on its box), or each image of a class-per-folder set
such as PBC (one centred cell per image: crop centred on the image). Every
sample has its image's pixel size, so crops are cut at the classifier's own
pixel size whatever the source (:func:`bloodview.model.cell_crops.cell_crop`).

The classifier starts from the detector's backbone weights (it already knows
these cells), trains with Adam on a cosine-decayed learning rate and label
smoothing, writes a checkpoint every epoch (``--resume`` goes on from it),
fits the score temperature on the validation cells, and is stored in the model
folder next to the detector (``cell_classifier.weights.h5`` + ``model.json``), with the
pooled features of 80 training cells per class (``cell_classifier_replay.npz``) that its
adaptation to a lab replays (:mod:`bloodview.model.classifier_replay`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from bloodview.core.annotation import Dataset
from bloodview.core.scale import estimate_scale
from bloodview.errors import ModelError
from bloodview.io.images import load_image
from bloodview.model.cell_classifier import build_classifier_network, fit_temperature, init_from_detector, softmax
from bloodview.model.cell_crops import CropJitter, cell_crop
from bloodview.model.classifier_spec import CLASSIFIER_WEIGHTS_FILE, ClassifierSpec
from bloodview.model.data import as_rgb

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_WEIGHTS = "cell_classifier.weights.h5"
CHECKPOINT_STATE = "cell_classifier_state.json"
Progress = Callable[[dict], None]


@dataclass
class ClassifierSettings:
    """How to train the classifier (defaults: what the shipped one used; see docs/model-card.md)."""

    input_size: int = 224
    pixel_size_um: float = 0.146
    epochs: int = 6
    batch_size: int = 32
    learning_rate: float = 1e-3
    label_smoothing: float = 0.1
    dropout: float = 0.2
    seed: int = 0
    jitter: CropJitter = field(default_factory=CropJitter.training)
    colour: str = "raw"
    views: int = 1  # crops per cell averaged when validating and predicting (test-time flips and turns)


@dataclass(frozen=True)
class CellSample:
    """One cell to learn from: its image, centre (y, x) in image pixels, pixel size and class index."""

    image: Path
    centre: tuple[float, float]
    um_per_px: float
    label: int


def cell_samples(
    dataset: Dataset,
    class_names: Sequence[str],
    pixel_size: float | None = None,
    splits: Sequence[str | None] = ("train", None),
    images_root: Path | None = None,
    images: Sequence | None = None,
) -> list[CellSample]:
    """Cells of ``class_names`` in the images of ``dataset`` whose split is in ``splits``
    (or in ``images``, images of ``dataset`` chosen by the caller, whatever their split).

    Pixel size per image: ``pixel_size`` if given, else the image's own recorded
    one, else measured from its red cells; an image with none of these is skipped
    with a warning (a crop at a guessed scale would teach the wrong sizes).
    ``images_root`` overrides the dataset's own image folder.
    """
    return scaled_cell_samples(dataset, class_names, pixel_size, splits, images_root, images)[0]


def scaled_cell_samples(
    dataset: Dataset,
    class_names: Sequence[str],
    pixel_size: float | None = None,
    splits: Sequence[str | None] = ("train", None),
    images_root: Path | None = None,
    images: Sequence | None = None,
) -> tuple[list[CellSample], int]:
    """:func:`cell_samples` and how many images with cells of ``class_names`` were skipped for want of
    a pixel size: when no cell is left, that count is the cause a person must be told (not "no cells")."""
    index = {name: k for k, name in enumerate(class_names)}
    samples: list[CellSample] = []
    unscaled = 0
    chosen = list(images) if images is not None else [i for i in dataset.images if i.split in splits]
    for image in chosen:
        cells = [(one.bbox, index[one.class_name]) for one in image.instances if one.class_name in index]
        if not cells and not image.instances and image.image_label in index:
            cells = [((0.0, 0.0, float(image.width), float(image.height)), index[image.image_label])]
        if not cells:
            continue
        path = images_root / image.image_path if images_root is not None else dataset.resolve_image(image)
        um = pixel_size or (image.pixel_size.um_per_pixel if image.pixel_size else None)
        if um is None:
            found = estimate_scale(as_rgb(load_image(path)))
            um = found.um_per_pixel if found is not None else None
        if um is None:
            unscaled += 1
            continue
        for (x1, y1, x2, y2), label in cells:
            samples.append(CellSample(path, ((y1 + y2) / 2.0, (x1 + x2) / 2.0), float(um), label))
    if unscaled:
        log.warning("%d images skipped: no pixel size given and no red cells to measure it from", unscaled)
    return samples, unscaled


class _ImageCache:
    """Decoded images, each read once (PBC's 8,300 crops are ~3 GB as RGB)."""

    def __init__(self):
        self._images: dict[Path, np.ndarray] = {}

    def __call__(self, path: Path) -> np.ndarray:
        if path not in self._images:
            self._images[path] = as_rgb(load_image(path))
        return self._images[path]


def crop_batch(samples: Sequence[CellSample], cache, settings: ClassifierSettings,
               rng: np.random.Generator | None = None) -> np.ndarray:
    jitter = settings.jitter if rng is not None else None
    return np.stack([
        cell_crop(cache(s.image), s.centre, s.um_per_px, settings.pixel_size_um, settings.input_size, jitter, rng,
                  colour=settings.colour)
        for s in samples
    ])


class _CropSequence(keras.utils.PyDataset):
    def __init__(self, samples: Sequence[CellSample], cache, settings: ClassifierSettings, classes: int, epoch: int):
        super().__init__()
        self.samples, self.cache, self.settings, self.classes = list(samples), cache, settings, classes
        self.epoch = epoch
        self._order()

    def _order(self) -> None:
        self.order = np.random.default_rng((self.settings.seed, self.epoch)).permutation(len(self.samples))

    def __len__(self) -> int:
        return max(1, len(self.samples) // self.settings.batch_size)

    def __getitem__(self, step: int):
        size = self.settings.batch_size
        rows = self.order[step * size : (step + 1) * size]
        rng = np.random.default_rng((self.settings.seed, self.epoch, step))
        x = crop_batch([self.samples[k] for k in rows], self.cache, self.settings, rng)
        y = np.zeros((len(rows), self.classes), np.float32)
        y[np.arange(len(rows)), [self.samples[k].label for k in rows]] = 1.0
        return x, y

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order()


def evaluate_logits(network, samples: Sequence[CellSample], cache, settings: ClassifierSettings,
                    views: int = 1) -> np.ndarray:
    """Logits of the un-jittered crops of ``samples`` (what prediction sees), averaged over ``views``."""
    from bloodview.model.cell_classifier import view_logits

    out = []
    forward = lambda x: keras.ops.convert_to_numpy(network(x, training=False))  # noqa: E731
    for start in range(0, len(samples), 64):
        out.append(view_logits(forward, crop_batch(samples[start : start + 64], cache, settings), views, 64))
    return np.concatenate(out) if out else np.zeros((0, int(network.outputs[0].shape[-1])))


def accuracy_report(logits: np.ndarray, labels: np.ndarray, class_names: Sequence[str]) -> dict:
    predicted = np.argmax(logits, axis=1) if len(logits) else np.zeros(0, int)
    per_class = {}
    for k, name in enumerate(class_names):
        mine = labels == k
        if mine.any():
            per_class[name] = round(float((predicted[mine] == k).mean()), 4)
    return {
        "cells": int(len(labels)),
        "accuracy": round(float((predicted == labels).mean()), 4) if len(labels) else None,
        "per_class_accuracy": per_class,
    }


def train_classifier(
    model_dir: Path,
    detector,
    class_names: Sequence[str],
    backbone: str,
    train: Sequence[CellSample],
    val: Sequence[CellSample],
    settings: ClassifierSettings,
    resume: bool = False,
    progress: Progress | None = None,
    data_summary: dict | None = None,
    start_weights: Path | None = None,
) -> ClassifierSpec:
    """Train, checkpoint every epoch, fit the temperature; return the spec (weights written to ``model_dir``).

    The network starts from ``start_weights`` (an existing classifier's weights file of the
    same shape: fine-tuning it) or else from the ``detector``'s backbone.
    """
    if not train:
        raise ModelError("no training cells: none of the images holds a cell of the classifier's classes")
    spec = ClassifierSpec(backbone, list(class_names), settings.input_size, settings.pixel_size_um,
                          colour=settings.colour, views=settings.views)
    keras.utils.set_random_seed(settings.seed)
    network = build_classifier_network(spec, dropout=settings.dropout)
    checkpoints = Path(model_dir) / CHECKPOINT_DIR
    state_path = checkpoints / CHECKPOINT_STATE
    start_epoch, history = 0, []
    if resume and state_path.is_file():
        state = json.loads(state_path.read_text(encoding="utf-8"))
        network.load_weights(checkpoints / CHECKPOINT_WEIGHTS)
        start_epoch, history = int(state["epoch"]), list(state.get("history", []))
        log.info("resuming the cell classifier after epoch %d", start_epoch)
    elif start_weights is not None:
        from bloodview.model.store_io import load_weights_checked

        load_weights_checked(network, start_weights)
        log.info("classifier starts from %s", start_weights)
    elif detector is not None:
        log.info("classifier backbone from the detector's (%d arrays)", init_from_detector(network, detector))
    cache = _ImageCache()
    steps = max(1, len(train) // settings.batch_size)
    total = max(1, settings.epochs * steps)
    schedule = keras.optimizers.schedules.CosineDecay(settings.learning_rate, total)
    optimizer = keras.optimizers.Adam(schedule)
    network.compile(
        optimizer,
        keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=settings.label_smoothing),
        metrics=["accuracy"],
    )
    labels_val = np.array([s.label for s in val], dtype=int)
    started = time.time()
    for epoch in range(start_epoch, settings.epochs):
        optimizer.iterations.assign(epoch * steps)  # the schedule goes on where the checkpoint left it
        sequence = _CropSequence(train, cache, settings, len(class_names), epoch)
        fit = network.fit(sequence, epochs=1, verbose=0)
        row = {"epoch": epoch + 1, "epochs": settings.epochs, "loss": round(float(fit.history["loss"][-1]), 4),
               "train_accuracy": round(float(fit.history["accuracy"][-1]), 4),
               "seconds": round(time.time() - started, 1)}
        if len(val):
            row["val_accuracy"] = accuracy_report(evaluate_logits(network, val, cache, settings), labels_val,
                                                  class_names)["accuracy"]
        history.append(row)
        checkpoints.mkdir(parents=True, exist_ok=True)
        network.save_weights(checkpoints / CHECKPOINT_WEIGHTS)
        state_path.write_text(json.dumps({"epoch": epoch + 1, "history": history}), encoding="utf-8")
        if progress is not None:
            progress(row)
    from bloodview.model.store_io import save_weights_atomic

    save_weights_atomic(network, Path(model_dir) / CLASSIFIER_WEIGHTS_FILE)
    from bloodview.model.classifier_replay import write_bank_for

    # a few of its training cells' features, replayed when it is adapted to a lab (classifier_replay.py)
    spec.replay_file = write_bank_for(network, spec, train, Path(model_dir), seed=settings.seed)
    if len(val):
        logits = evaluate_logits(network, val, cache, settings, views=settings.views)
        spec.temperature = fit_temperature(logits, labels_val)
        report = accuracy_report(logits, labels_val, class_names)
        probs = softmax(logits, spec.temperature)
        right = probs.argmax(1) == labels_val
        report["mean_score_right"] = round(float(probs.max(1)[right].mean()), 4) if right.any() else None
        spec.metrics = {"val": report}
    spec.training = (data_summary or {}) | {
        "train_cells": len(train), "val_cells": len(val), "settings": _settings_dict(settings), "history": history,
    }
    return spec


def _settings_dict(settings: ClassifierSettings) -> dict:
    values = asdict(settings)
    values["jitter"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in values["jitter"].items()}
    return values

