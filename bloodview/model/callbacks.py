"""Keras callbacks of ``bloodview train``: progress lines, checkpoints, TensorBoard, clean stops.

Progress (``--progress jsonl``) is one JSON object per line on stdout, flushed at
once (the GUI reads them from a ``QProcess``); events and keys are fixed by
notes/MODEL_CONTRACT.md: ``start``, ``step``, ``epoch``, ``done``, ``error``.
Epoch numbers are 1-based. Non-finite numbers are written as ``null`` (JSON has no NaN).

A checkpoint (``<out>/checkpoints``) is written after every epoch and when a stop
is requested (SIGINT/SIGTERM): ``last.weights.h5`` (model weights),
``optimizer.npz`` (the optimizer's variables, plain arrays) and ``state.json``
(``epoch`` = epochs completed, ``optimizer_step``, ``interrupted``, losses).
``state.json`` is written last, so it never names weights that are not there.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO, Any

import keras
import numpy as np

from bloodview.errors import ModelError
from bloodview.io.atomic import atomic_write_json
from bloodview.model.store_io import load_weights_checked, save_weights_atomic

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_WEIGHTS = "last.weights.h5"
OPTIMIZER_FILE = "optimizer.npz"
STATE_FILE = "state.json"
CONFIG_FILE = "config.json"


class TrainingInterrupted(Exception):
    """Raised inside ``fit`` after a stop request's checkpoint has been written."""

    def __init__(self, epoch: int, step: int):
        super().__init__(f"stopped during epoch {epoch} after step {step}")
        self.epoch = epoch
        self.step = step


def clean_losses(logs: dict[str, Any] | None, prefix: str = "") -> dict[str, float | None]:
    """Plain floats (``None`` for NaN/inf) of the entries of ``logs``; ``prefix`` selects and strips ``val_``."""
    out: dict[str, float | None] = {}
    for key, value in (logs or {}).items():
        if prefix and not key.startswith(prefix):
            continue
        if not prefix and key.startswith("val_"):
            continue
        try:
            number = float(np.asarray(value))
        except (TypeError, ValueError):
            continue
        out[key[len(prefix):]] = number if math.isfinite(number) else None
    return out


class ProgressWriter:
    """Writes progress events as JSON lines to a stream, flushing each."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream if stream is not None else sys.stdout
        self._lock = threading.Lock()

    def emit(self, event: str, **values: Any) -> None:
        line = json.dumps({"event": event, **values}, allow_nan=False, default=_jsonable)
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class StepClock:
    """Step and validation timing for ``images_per_s`` and ``eta_s`` (first step, with tracing, excluded)."""

    def __init__(self, epochs: int, steps: int, batch_size: int, initial_epoch: int = 0):
        self.epochs, self.steps, self.batch_size = epochs, steps, batch_size
        self.initial_epoch = initial_epoch
        self.durations: deque[float] = deque(maxlen=50)
        self.val_seconds = 0.0
        self._last: float | None = None
        self._val_start: float | None = None

    def batch_begin(self) -> None:
        if self._last is None:
            self._last = time.perf_counter()

    def batch_end(self, first_of_run: bool) -> None:
        now = time.perf_counter()
        if self._last is not None and not first_of_run:
            self.durations.append(now - self._last)
        self._last = now

    def pause(self) -> None:
        """Validation or checkpointing: not a training step."""
        self._last = None

    def val_begin(self) -> None:
        self._val_start = time.perf_counter()
        self.pause()

    def val_end(self) -> None:
        if self._val_start is not None:
            self.val_seconds = time.perf_counter() - self._val_start

    @property
    def step_seconds(self) -> float | None:
        return float(np.median(self.durations)) if self.durations else None

    def images_per_s(self) -> float | None:
        seconds = self.step_seconds
        return round(self.batch_size / seconds, 3) if seconds else None

    def eta(self, epoch: int, step: int) -> float | None:
        """Seconds left after ``step`` (1-based) of ``epoch`` (1-based)."""
        seconds = self.step_seconds
        if seconds is None:
            return None
        steps_left = (self.epochs - epoch) * self.steps + (self.steps - step)
        return round(steps_left * seconds + (self.epochs - epoch + (step < self.steps)) * self.val_seconds, 1)


class ProgressLines(keras.callbacks.Callback):
    """``start``/``step``/``epoch`` events (``done``/``error`` come from the caller)."""

    def __init__(self, writer: ProgressWriter, clock: StepClock, backbone: str, model_dir: Path):
        super().__init__()
        self.writer, self.clock = writer, clock
        self.backbone, self.model_dir = backbone, str(model_dir)
        self.epoch = clock.initial_epoch + 1
        self._steps_seen = 0

    def on_train_begin(self, logs=None):
        self.writer.emit("start", epochs=self.clock.epochs, steps=self.clock.steps, backbone=self.backbone,
                         model_dir=self.model_dir)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.clock.pause()

    def on_train_batch_begin(self, batch, logs=None):
        self.clock.batch_begin()

    def on_train_batch_end(self, batch, logs=None):
        self.clock.batch_end(first_of_run=self._steps_seen == 0)
        self._steps_seen += 1
        step = batch + 1
        self.writer.emit(
            "step", epoch=self.epoch, epochs=self.clock.epochs, step=step, steps=self.clock.steps,
            losses=clean_losses(logs), images_per_s=self.clock.images_per_s(), eta_s=self.clock.eta(self.epoch, step),
        )

    def on_test_begin(self, logs=None):
        self.clock.val_begin()

    def on_test_end(self, logs=None):
        self.clock.val_end()

    def on_epoch_end(self, epoch, logs=None):
        val = clean_losses(logs, prefix="val_")
        self.writer.emit(
            "epoch", epoch=epoch + 1, epochs=self.clock.epochs, losses=clean_losses(logs),
            val_losses=val or None, eta_s=self.clock.eta(epoch + 1, self.clock.steps),
        )


LOG_LINE_EVERY_S = 60.0
"""Off a terminal, seconds between two progress lines within an epoch."""


class TqdmProgress(keras.callbacks.Callback):
    """A tqdm bar per epoch on stderr with the running losses (the CLI without ``--progress``).

    Off a terminal (``train ... 2>> train.log``) the bar's ``\\r`` redraws filled the log with one
    unreadable line per epoch; there it writes whole lines instead: one at most every
    :data:`LOG_LINE_EVERY_S` seconds within an epoch and one at its end, with the losses."""

    def __init__(self, epochs: int, steps: int, stream=None, clock=time.monotonic):
        super().__init__()
        self.epochs, self.steps = epochs, steps
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.lines = not (isatty is not None and isatty())
        self.clock = clock
        self.bar = None
        self._epoch = 0
        self._started = self._last = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._started = self._last = self.clock()
        if self.lines:
            return
        from tqdm import tqdm

        self.bar = tqdm(total=self.steps, desc=f"epoch {epoch + 1}/{self.epochs}", file=self.stream, leave=True,
                        dynamic_ncols=True)

    def _line(self, text: str) -> None:
        print(f"epoch {self._epoch + 1}/{self.epochs}: {text}", file=self.stream, flush=True)

    def on_train_batch_end(self, batch, logs=None):
        if self.lines:
            now = self.clock()
            if now - self._last >= LOG_LINE_EVERY_S:
                self._last = now
                loss = clean_losses(logs).get("loss")
                per_step = (now - self._started) / (batch + 1)
                self._line(f"step {batch + 1} of {self.steps}, {per_step:.2f} s per step"
                           + (f", loss {loss:.3f}" if loss is not None else ""))
            return
        if self.bar is not None:
            losses = clean_losses(logs)
            self.bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items() if v is not None and k in ("loss", "mask_loss")})
            self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        if self.lines:
            loss, val = clean_losses(logs).get("loss"), clean_losses(logs, prefix="val_").get("loss")
            text = f"done in {self.clock() - self._started:.0f} s"
            text += f", loss {loss:.3f}" if loss is not None else ""
            text += f", val_loss {val:.3f}" if val is not None else ""
            self._line(text)
            return
        if self.bar is not None:
            val = clean_losses(logs, prefix="val_").get("loss")
            if val is not None:
                self.bar.set_postfix_str(f"loss={clean_losses(logs).get('loss') or float('nan'):.3f} val_loss={val:.3f}")
            self.bar.close()
            self.bar = None


class LossGuard(keras.callbacks.Callback):
    """Stop with a clear error when the loss becomes NaN or infinite (a diverged run is never saved as a model)."""

    def on_train_batch_end(self, batch, logs=None):
        value = clean_losses(logs).get("loss", 0.0)
        if value is None:
            raise ModelError(
                f"training diverged (the loss became NaN or infinite at step {batch + 1}); "
                "try a lower learning_rate (--set learning_rate=0.0005) or check the annotations"
            )


class EventFile:
    """A TensorBoard event file of scalars, written without the ``tensorboard`` package.

    The format is TFRecord of ``Event`` protos (TensorFlow ships both); TensorBoard
    reads it like its own. ``tf.summary`` would need ``tensorboard`` installed.
    """

    def __init__(self, log_dir: Path):
        import socket

        import tensorflow as tf
        from tensorflow.core.util import event_pb2

        log_dir = Path(log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.bloodview"
        self.path = log_dir / name
        self._writer = tf.io.TFRecordWriter(str(self.path))
        self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def _write(self, event) -> None:
        self._writer.write(event.SerializeToString())
        self._writer.flush()

    def scalars(self, step: int, values: dict[str, float]) -> None:
        from tensorflow.core.framework import summary_pb2
        from tensorflow.core.util import event_pb2

        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=k, simple_value=float(v)) for k, v in values.items()]
        )
        self._write(event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def close(self) -> None:
        self._writer.close()


def read_event_scalars(path: Path) -> dict[str, list[tuple[int, float]]]:
    """``tag -> [(step, value), ...]`` from one event file (tests, reports)."""
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    out: dict[str, list[tuple[int, float]]] = {}
    for record in tf.data.TFRecordDataset(str(path)):
        event = event_pb2.Event.FromString(record.numpy())
        for value in event.summary.value:
            out.setdefault(value.tag, []).append((int(event.step), float(value.simple_value)))
    return out


class TensorBoardLosses(keras.callbacks.Callback):
    """Per-epoch scalars ``loss``, ``val_loss``, ``rpn_class_loss``, ... in ``log_dir`` (the paper's curves)."""

    def __init__(self, log_dir: Path):
        super().__init__()
        self.log_dir = Path(log_dir)
        self._events: EventFile | None = None

    def on_train_begin(self, logs=None):
        self._events = EventFile(self.log_dir)

    def on_epoch_end(self, epoch, logs=None):
        if self._events is None:
            return
        values = {k: v for k, v in clean_losses(logs).items() if v is not None}
        values.update({f"val_{k}": v for k, v in clean_losses(logs, prefix="val_").items() if v is not None})
        self._events.scalars(epoch + 1, values)

    def on_train_end(self, logs=None):
        if self._events is not None:
            self._events.close()
            self._events = None


class Checkpointer(keras.callbacks.Callback):
    """Checkpoint after each epoch; on a stop request, checkpoint and raise :class:`TrainingInterrupted`."""

    def __init__(self, folder: Path, epochs: int, stop: threading.Event | None = None, clock: StepClock | None = None):
        super().__init__()
        self.folder = Path(folder)
        self.epochs = epochs
        self.stop = stop or threading.Event()
        self.clock = clock
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        if self.stop.is_set():
            save_checkpoint(self.model, self.folder, self.epoch - 1, self.epochs, clean_losses(logs), interrupted=True)
            raise TrainingInterrupted(self.epoch, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.clock is not None:
            self.clock.pause()
        save_checkpoint(self.model, self.folder, epoch + 1, self.epochs, clean_losses(logs),
                        clean_losses(logs, prefix="val_") or None)
        if self.stop.is_set():
            raise TrainingInterrupted(epoch + 1, -1)


def save_checkpoint(model, folder: Path, epoch: int, epochs: int, losses: dict, val_losses: dict | None = None,
                    interrupted: bool = False) -> Path:
    """Write weights, optimizer variables and ``state.json`` (``epoch`` = epochs completed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_weights_atomic(model, folder / CHECKPOINT_WEIGHTS)
    optimizer = getattr(model, "optimizer", None)
    step = 0
    if optimizer is not None and optimizer.built:
        arrays = {f"v{i:04d}": np.asarray(v) for i, v in enumerate(optimizer.variables)}
        tmp = folder / f".{OPTIMIZER_FILE}.{os.getpid()}.tmp.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, folder / OPTIMIZER_FILE)
        step = int(np.asarray(optimizer.iterations))
    state = {"epoch": int(epoch), "epochs": int(epochs), "optimizer_step": step, "interrupted": bool(interrupted),
             "losses": losses, "val_losses": val_losses, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    atomic_write_json(folder / STATE_FILE, state, backup=False)
    log.info("checkpoint: %d epoch(s) done%s -> %s", epoch, " (interrupted)" if interrupted else "", folder)
    return folder


def read_checkpoint_state(folder: Path) -> dict:
    path = Path(folder) / STATE_FILE
    if not path.is_file():
        raise ModelError(f"{path}: no checkpoint to resume from (train without --resume first)")
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        int(state["epoch"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path}: checkpoint state is damaged ({exc})") from exc
    return state


def restore_checkpoint(model, folder: Path) -> dict:
    """Load a checkpoint's weights and optimizer variables into ``model`` (built in the right scope)."""
    folder = Path(folder)
    state = read_checkpoint_state(folder)
    load_weights_checked(model, folder / CHECKPOINT_WEIGHTS)
    path = folder / OPTIMIZER_FILE
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and path.is_file():
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        try:
            with np.load(path, allow_pickle=False) as saved:
                arrays = [saved[k] for k in sorted(saved.files)]
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: optimizer state is damaged ({exc})") from exc
        variables = optimizer.variables
        if len(arrays) != len(variables) or any(a.shape != tuple(v.shape) for a, v in zip(arrays, variables)):
            raise ModelError(f"{path}: optimizer state does not match this network")
        for variable, array in zip(variables, arrays):
            variable.assign(array)
    return state
