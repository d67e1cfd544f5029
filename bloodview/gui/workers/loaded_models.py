"""The loaded models (predictors, one per model folder), and only the one in use kept.

Why: :func:`load_predictor` keeps each model it loads for the next run (a TensorFlow model loads in
seconds, once), and before 2026-12-07 nothing let one go, so every model chosen in a session stayed in memory. Measured 2026-12 on
the 2-core CPU with three copies of the default model, one Detect with each: 911, 1016, 1147 MB RSS;
a lab comparing its own models (or retraining in a loop: retrain, switch, correct, retrain) ran out of
memory on a laptop. Switching back to a model let go loads it again (seconds, in the background warm-up).

A predictor is let go only while no detection run and no warm-up is under way (the caller waits for
them, :class:`bloodview.gui.model_choice.ModelChoice`): the threads hold the predictor they use, so
dropping the cache's reference could never free it under them, but memory would only come back once
they end, and a run must never find its model half gone. Then Python's cycles are collected and the
C heap trimmed, so the memory goes back to the system, not only to Python.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import sys
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_PREDICTORS: dict[str, Any] = {}  # model folder (resolved) -> loaded predictor
_LOCK = threading.Lock()


def load_predictor(model_dir: Path) -> Any:
    """The real predictor (imports TensorFlow): cached per folder."""
    key = str(Path(model_dir).resolve())
    with _LOCK:
        if key not in _PREDICTORS:
            from bloodview.model.predict import Predictor

            _PREDICTORS[key] = Predictor.load(model_dir, red_cells=True)
        return _PREDICTORS[key]


def loaded_models() -> list[str]:
    """The model folders (resolved) whose predictor is in memory."""
    with _LOCK:
        return list(_PREDICTORS)


def release_all_but(keep: Path | None) -> list[str]:
    """Let go of every loaded predictor except ``keep``'s; returns the folders let go.

    Call only while no thread uses a predictor (see the module doc)."""
    key = str(Path(keep).resolve()) if keep is not None else None
    with _LOCK:
        gone = [folder for folder in _PREDICTORS if folder != key]
        dropped = [_PREDICTORS.pop(folder) for folder in gone]
    if not gone:
        return []
    del dropped
    gc.collect()  # Keras layers and traced functions refer to each other: freed by the collector only
    _return_heap_to_system()
    log.info("let go of %d model(s) no longer in use: %s", len(gone), ", ".join(Path(g).name for g in gone))
    return gone


def _return_heap_to_system() -> None:
    """glibc keeps freed memory for the process; ``malloc_trim`` hands it back (Linux only, harmless elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
