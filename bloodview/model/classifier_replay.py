"""Adapt a cell classifier to a lab without forgetting: a new last layer, fitted beside replayed features.

Why (measured 2026-12-07, ``benchmarks/adaptation.py``'s Zheng split, the shipped classifier alone on
the crops centred on the expert outlines): the app's Retrain has none of the model's training images,
so fine-tuning the whole classifier on a lab's corrected cells taught that lab and erased the classes
its corrections lacked (50 Zheng crops: held-out 0.85, PBC ``val`` 0.87 even with 1/3 of the start
blended back; the whole model 0.60 at a larger step). The classifier's features already carry what
tells a cell from another in that lab's stain: refitting only its last layer (one logit per class on
the pooled features) on the lab's cells names 0.87-0.89 of the 149 held-out crops from 25-100
corrected ones. What it forgets is kept by *replay*: the pooled features of a few of the classifier's
own training cells (80 per class, 640 x 960 numbers, ~1 MB as float16) are stored in the model folder
(:data:`REPLAY_FILE`, written when the classifier is trained) and fitted beside the lab's cells, half
the weight each. The backbone does not change, so the stored features stay its features, and the
next adaptation replays them again.

    N corrected Zheng crops                              25             50             100
    last layer + replay (this)                           0.872 / 0.950  0.879 / 0.948  0.893 / 0.952
    last layer alone, no replay                          0.872 / 0.385  0.893 / 0.383  0.899 / 0.379
    whole classifier fine-tuned (the recipe before)      -              0.846 / 0.867  -
    the same, as many PBC images rehearsed beside them   -              0.866 / 0.946  0.812 / 0.952

(held-out accuracy of 149 / PBC ``val``, 480 crops, which starts at 0.979). The features of the lab's
cells are taken from the crop as predicted and from :data:`LAB_VIEWS` copies with the ``labs`` jitter
(turned, zoomed, stain remixed), so 25 cells are 225 examples. Fitting is plain NumPy (softmax
regression from the classifier's own last layer, Adam, an L2 pull towards it): seconds, not the
minutes a whole fine-tune takes on the CPU. Chosen on the spare Zheng crops no N trains on; the
held-out figures moved by at most 3 cells of 149 over bank sizes of 20-80 per class, 4 or 8 views
and 150-600 steps (docs/adaptation.md).
"""

from __future__ import annotations

import io
import logging
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bloodview.errors import ModelError
from bloodview.io.atomic import atomic_write_bytes

log = logging.getLogger(__name__)

REPLAY_FILE = "cell_classifier_replay.npz"
FEATURE_LAYER = "cell_pool"
HEAD_LAYER = "cell_logits"
PER_CLASS = 80  # replayed training cells per class
LAB_VIEWS = 8  # jittered copies of each of the lab's cells, besides the plain crop
REPLAY_SHARE = 0.5  # the replayed cells' share of the loss
L2_TO_START = 1e-3  # pull of the new layer towards the classifier's own
STEPS = 300
LEARNING_RATE = 1e-2
MIN_VAL_CELLS_FOR_TEMPERATURE = 20


def choose_replay_cells(labels: Sequence[int], per_class: int = PER_CLASS, seed: int = 0) -> list[int]:
    """Indices of up to ``per_class`` cells of each class, a seeded choice (every class kept)."""
    labels = np.asarray(labels, dtype=int)
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        chosen += sorted(rng.permutation(members)[:per_class].tolist())
    return chosen


def write_replay_bank(path: str | Path, features: np.ndarray, labels: Sequence[int],
                      class_names: Sequence[str]) -> Path:
    """Store ``features`` (N, D) and their class indices as float16 in ``path`` (atomically)."""
    path = Path(path)
    features = np.asarray(features, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int16)
    if features.ndim != 2 or len(features) != len(labels) or len(features) == 0:
        raise ValueError(f"replay bank needs (N, D) features and N labels, got {features.shape} and {labels.shape}")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, features=features.astype(np.float16), labels=labels,
                        class_names=np.array(list(class_names)))
    atomic_write_bytes(path, buffer.getvalue(), backup=False)
    return path


def read_replay_bank(path: str | Path, class_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(features float32 (N, D), labels (N,))``; ModelError when missing, damaged or of other classes."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: the cell classifier's replay file is missing")
    try:
        with np.load(path, allow_pickle=False) as data:
            features = data["features"].astype(np.float32)
            labels = data["labels"].astype(int)
            names = [str(n) for n in data["class_names"]]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path}: cannot read the cell classifier's replay file ({exc})") from exc
    if names != list(class_names):
        raise ModelError(f"{path}: replay features of classes {names}, not the classifier's {list(class_names)}")
    if features.ndim != 2 or len(features) != len(labels) or labels.min() < 0 or labels.max() >= len(names):
        raise ModelError(f"{path}: malformed replay file (features {features.shape}, labels {labels.shape})")
    return features, labels


def fit_last_layer(
    start: tuple[np.ndarray, np.ndarray],
    lab: tuple[np.ndarray, np.ndarray],
    replay: tuple[np.ndarray, np.ndarray] | None,
    replay_share: float = REPLAY_SHARE,
    l2: float = L2_TO_START,
    steps: int = STEPS,
    learning_rate: float = LEARNING_RATE,
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax regression ``(W (D, C), b (C,))`` from ``start`` on the lab's ``(features, labels)`` and
    the replayed ones, which weigh ``replay_share`` of the loss together; Adam, full batch."""
    kernel, bias = (np.array(a, dtype=np.float64) for a in start)
    x_lab, y_lab = np.asarray(lab[0], np.float64), np.asarray(lab[1], int)
    parts_x, parts_y, parts_w = [x_lab], [y_lab], [np.full(len(y_lab), 1.0 / max(1, len(y_lab)))]
    if replay is not None and len(replay[1]) and replay_share > 0:
        parts_w[0] *= 1.0 - replay_share
        parts_x.append(np.asarray(replay[0], np.float64))
        parts_y.append(np.asarray(replay[1], int))
        parts_w.append(np.full(len(replay[1]), replay_share / len(replay[1])))
    x, y, weight = np.concatenate(parts_x), np.concatenate(parts_y), np.concatenate(parts_w)
    target = np.eye(kernel.shape[1])[y]
    kernel0 = kernel.copy()
    moments = [[np.zeros_like(kernel), np.zeros_like(kernel)], [np.zeros_like(bias), np.zeros_like(bias)]]
    for step in range(1, steps + 1):
        logits = x @ kernel + bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        error = (probs - target) * weight[:, None]
        grads = (x.T @ error + l2 * (kernel - kernel0), error.sum(axis=0))
        for value, grad, (m, v) in zip((kernel, bias), grads, moments):
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            value -= learning_rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return kernel.astype(np.float32), bias.astype(np.float32)


class FeatureReader:
    """The pooled features a classifier network gives crops of cells (what its last layer reads)."""

    def __init__(self, network):
        import keras
        import tensorflow as tf

        features = keras.Model(network.inputs, network.get_layer(FEATURE_LAYER).output)
        size = int(network.inputs[0].shape[1])
        self._forward = tf.function(lambda crops: features(crops, training=False),
                                    input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)])

    def __call__(self, crops: np.ndarray, batch: int = 32) -> np.ndarray:
        out = [self._forward(crops[start : start + batch]).numpy() for start in range(0, len(crops), batch)]
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def sample_features(reader: FeatureReader, samples: Sequence, settings, views: int = 0, seed: int = 0,
                    cache=None) -> tuple[np.ndarray, np.ndarray]:
    """Features of each cell's plain crop and of ``views`` jittered copies (``settings.jitter``), with labels."""
    from bloodview.model.classifier_training import _ImageCache, crop_batch

    cache = cache or _ImageCache()
    rng = np.random.default_rng(seed)
    features, labels = [], []
    for start in range(0, len(samples), 32):
        chunk = list(samples[start : start + 32])
        crops = [crop_batch(chunk, cache, settings)]
        crops += [crop_batch(chunk, cache, settings, rng) for _ in range(views)]
        features.append(reader(np.concatenate(crops)))
        labels += [s.label for s in chunk] * (1 + views)
    if not features:
        return np.zeros((0, 0), np.float32), np.zeros(0, int)
    return np.concatenate(features), np.array(labels, dtype=int)


def write_bank_for(network, spec, samples: Sequence, model_dir: Path, per_class: int = PER_CLASS,
                   seed: int = 0) -> str:
    """Write the replay file of a trained classifier from its training ``samples``; returns its file name."""
    from bloodview.model.classifier_training import ClassifierSettings

    chosen = [samples[k] for k in choose_replay_cells([s.label for s in samples], per_class, seed)]
    settings = ClassifierSettings(input_size=spec.input_size, pixel_size_um=spec.pixel_size_um, colour=spec.colour)
    features, labels = sample_features(FeatureReader(network), chosen, settings)
    write_replay_bank(Path(model_dir) / REPLAY_FILE, features, labels, spec.class_names)
    log.info("replay file written: %d cells of %d classes", len(labels), len(set(labels.tolist())))
    return REPLAY_FILE


def adapt_last_layer(init, out: Path, train: Sequence, val: Sequence, seed: int = 0) -> dict:
    """``init``'s classifier with its last layer refitted on the cells ``train`` beside its replay file.

    Writes the classifier's weights and a copy of the replay file into ``out``; returns the new
    ``model.json`` entry. The temperature is refitted on ``val`` when it holds enough cells.
    """
    import shutil

    from bloodview.model.cell_classifier import build_classifier_network, fit_temperature
    from bloodview.model.cell_crops import JITTERS
    from bloodview.model.classifier_spec import ClassifierSpec
    from bloodview.model.classifier_training import ClassifierSettings, _ImageCache, accuracy_report
    from bloodview.model.store_io import load_weights_checked, save_weights_atomic

    spec = init.classifier_spec
    started = time.time()
    replay = read_replay_bank(init.path / spec.replay_file, spec.class_names)
    network = build_classifier_network(spec)
    load_weights_checked(network, init.path / spec.weights_file)
    head = network.get_layer(HEAD_LAYER)
    start = tuple(np.array(w) for w in head.get_weights())
    reader = FeatureReader(network)
    settings = ClassifierSettings(input_size=spec.input_size, pixel_size_um=spec.pixel_size_um, colour=spec.colour,
                                  jitter=JITTERS["labs"]())
    cache = _ImageCache()
    lab = sample_features(reader, train, settings, views=LAB_VIEWS, seed=seed, cache=cache)
    kernel, bias = fit_last_layer(start, lab, replay)
    head.set_weights([kernel, bias])
    out = Path(out)
    save_weights_atomic(network, out / spec.weights_file)
    if out.resolve() != init.path.resolve():
        shutil.copyfile(init.path / spec.replay_file, out / spec.replay_file)
    new = ClassifierSpec.from_dict(spec.to_dict())
    new.metrics = {}
    if len(val) >= MIN_VAL_CELLS_FOR_TEMPERATURE:
        x_val, y_val = sample_features(reader, val, settings, cache=cache)
        logits = x_val @ kernel + bias
        new.temperature = fit_temperature(logits, y_val)
        new.metrics = {"val": accuracy_report(logits, y_val, spec.class_names)}
    new.training = {
        "data": "the detector's training images", "recipe": "adapt-last-layer", "from": str(init.path),
        "train_cells": len(train), "val_cells": len(val), "lab_views": LAB_VIEWS, "replay_cells": int(len(replay[1])),
        "replay_share": REPLAY_SHARE, "steps": STEPS, "wall_seconds": round(time.time() - started, 1),
        "start": {key: spec.training.get(key) for key in ("data", "recipe", "from", "train_cells")},
    }
    log.info("cell classifier's last layer refitted on %d cells (x%d views) beside %d replayed ones, %.0f s",
             len(train), 1 + LAB_VIEWS, len(replay[1]), time.time() - started)
    return new.to_dict()
