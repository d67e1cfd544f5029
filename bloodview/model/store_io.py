"""Saving and loading a model folder's weights (the TensorFlow half of the model store).

A model is rebuilt from the config in ``model.json`` by :func:`build_maskrcnn`
and then only numbers are read from ``model.weights.h5`` (Keras 3 HDF5 weights):
no pickles, no deserialised code. Every failure a user can cause (missing,
truncated or foreign files, a weights file of another architecture) is a
:class:`ModelError` naming the file.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bloodview.errors import BloodviewError, ModelError
from bloodview.model.config import MaskRCNNConfig
from bloodview.model.store import WEIGHTS_FILE, ModelInfo, read_model_info, write_model_info

log = logging.getLogger(__name__)


def versions() -> dict[str, str]:
    """bloodview, Keras, TensorFlow and Python versions, for ``model.json``."""
    import keras
    import tensorflow as tf

    from bloodview import __version__

    return {"bloodview": __version__, "keras": keras.__version__, "tensorflow": tf.__version__,
            "python": platform.python_version()}


def class_colours(class_names: Sequence[str]) -> list[tuple[int, int, int]]:
    """Display colours for the classes: the PBC catalogue's where known, else the catalogue's palette."""
    from bloodview.core.classes import ClassCatalogue

    catalogue = ClassCatalogue.pbc()
    return [catalogue.add(name).color for name in class_names]


def _without_optimizer(model) -> list:
    optimizer = getattr(model, "optimizer", None)
    return [optimizer] if optimizer is not None else []


def _save_weights(model, path: Path) -> None:
    """The network's weights only: a compiled model's ``save_weights`` would add the optimizer's
    slots (twice the size); those live in the training checkpoint's ``optimizer.npz`` instead."""
    try:
        from keras.src.saving import saving_lib  # Keras 3's own weights writer, with a skip list
    except ImportError:  # a Keras without it: the file just holds the optimizer's variables too
        model.save_weights(str(path))
        return
    saving_lib.save_weights_only(model, str(path), objects_to_skip=_without_optimizer(model))


def _load_weights(model, path: Path) -> None:
    try:
        from keras.src.saving import saving_lib
    except ImportError:
        model.load_weights(str(path))
        return
    saving_lib.load_weights_only(model, str(path), objects_to_skip=_without_optimizer(model))


def save_weights_atomic(model, path: str | Path) -> Path:
    """Save the weights to a temporary file in the same folder, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.weights.h5")
    try:
        _save_weights(model, tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def load_weights_checked(model, path: str | Path) -> None:
    """``model.load_weights`` with every failure turned into a :class:`ModelError` naming ``path``."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: weights file missing")
    if path.stat().st_size == 0:
        raise ModelError(f"{path}: weights file is empty")
    try:
        _load_weights(model, path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(
            f"{path}: cannot load the weights (truncated, damaged, or made for another network: {reason[:200]})"
        ) from exc


def save_model(
    model,
    config: MaskRCNNConfig,
    model_dir: str | Path,
    name: str | None = None,
    training: dict[str, Any] | None = None,
    final_losses: dict[str, float] | None = None,
    metrics: dict[str, Any] | None = None,
    class_colors: Sequence[tuple[int, int, int]] | None = None,
    write_info: bool = True,
) -> ModelInfo:
    """Write ``model.weights.h5`` then ``model.json`` into ``model_dir``; return the new :class:`ModelInfo`.

    The weights are written first, so a folder with a ``model.json`` always has
    its weights (a crash in between leaves the previous ``model.json``, if any).
    ``write_info=False`` leaves ``model.json`` to the caller, who has more to add before the
    model is finished (training: the cell classifier), so a run stopped meanwhile is not listed.
    """
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    save_weights_atomic(model, model_dir / WEIGHTS_FILE)
    info = ModelInfo(
        name=name or model_dir.name,
        backbone=config.backbone,
        class_names=list(config.class_names),
        config=config.to_dict(),
        class_colors=list(class_colors or class_colours(config.class_names)),
        image_size=config.image_max_dim,
        training=dict(training or {}),
        final_losses={k: float(v) for k, v in (final_losses or {}).items()},
        metrics=dict(metrics or {}),
        date=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        versions=versions(),
    )
    info.path = model_dir
    if write_info:
        write_model_info(info, model_dir)
    log.info("saved model %s to %s", info.name, model_dir)
    return info


def build_from_info(info: ModelInfo, config: MaskRCNNConfig | None = None):
    """A freshly built network of the architecture ``info`` describes (random weights)."""
    from bloodview.model.maskrcnn import build_maskrcnn

    config = config or info.to_config()
    try:
        return build_maskrcnn(config)
    except BloodviewError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise ModelError(f"{info.path}: cannot build the network model.json describes ({exc})") from exc


def load_model(model_dir: str | Path, config: MaskRCNNConfig | None = None):
    """``(model, info)`` from a model folder: build from ``model.json``, then load the weights.

    ``config`` may override settings that do not change the weights' shapes
    (e.g. ``detection_min_confidence``, ``images_per_gpu``).
    """
    from bloodview.model.store_check import weights_problem

    info = read_model_info(model_dir)
    problem = weights_problem(info.weights_path, "weights file")  # before seconds of building the network
    if problem:
        raise ModelError(problem)
    model = build_from_info(info, config)
    load_weights_checked(model, info.weights_path)
    return model, info
