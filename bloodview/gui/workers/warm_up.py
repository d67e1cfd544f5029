"""Loading the model in the background once the window is up, so the first Detect starts at once.

Why: the first detection of a session paid TensorFlow's import (~2 s on the 2-core CPU), the model's
load (~2 s) and the tracing of its network (~2 s) before it looked at a single image: measured
2026-12-07, a 640 x 480 field took 8.2 s from the app's start to its cells, 0.2 s of it detection.
A technician opens images and looks at them first; the model loads meanwhile. The window still
shows before TensorFlow loads (the warm-up starts after it, from :func:`bloodview.gui.app.run`).

The warm-up and a detection run never use the predictor at once
(:data:`bloodview.gui.workers.detect_worker.PREDICTOR_IN_USE`): a Detect pressed during the warm-up
waits for it ("Loading model …") and then finds the model loaded. A model that fails to load is
only logged here; the detection run reports it to the user as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from PyQt6.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

from bloodview.errors import BloodviewError
from bloodview.gui.workers.detect_worker import (
    PREDICTOR_IN_USE,
    PredictorFactory,
    end_thread,
    load_predictor,
    predictor_device,
    thread_for,
)

log = logging.getLogger(__name__)


def warm_up_predictor(model_dir: Path, factory: PredictorFactory | None = None, images: Sequence[Path] = ()):
    """Load ``model_dir``'s predictor (cached by the factory) and trace its networks; returns it.

    A predictor with a ``warm_up(images)`` method (``bloodview.model.predict.Predictor``) builds and
    traces, on blank inputs, the networks ``images`` need; others (test fakes without one) are only
    loaded. An image that cannot be read is left out (its detection will say why).
    """
    with PREDICTOR_IN_USE:
        predictor = (factory or load_predictor)(Path(model_dir))
        warm = getattr(predictor, "warm_up", None)
        if callable(warm):
            warm(_readable(images))
        return predictor


def _readable(paths: Sequence[Path]) -> list:
    from bloodview.io.images import load_image

    arrays = []
    for path in paths:
        try:
            arrays.append(load_image(path))
        except BloodviewError as exc:
            log.info("warm-up leaves out %s: %s", path, exc)
    return arrays


class _WarmUpWorker(QObject):
    device = pyqtSignal(str)
    finished = pyqtSignal(str, float, str)  # model folder, seconds, error ("" when it loaded)

    def __init__(self, model_dir: Path, factory: PredictorFactory | None, images: Sequence[Path]):
        super().__init__()
        self.model_dir = Path(model_dir)
        self.factory = factory
        self.images = list(images)

    @pyqtSlot()
    def run(self) -> None:
        started = time.perf_counter()
        error = ""
        try:
            predictor = warm_up_predictor(self.model_dir, self.factory, self.images)
            device = predictor_device(predictor)
            if device:
                self.device.emit(device)
        except Exception as exc:  # noqa: BLE001 - the detection run reports a broken model to the user
            error = f"{type(exc).__name__}: {exc}"
            log.info("warming up %s failed (detection will say why): %s", self.model_dir, error)
        seconds = time.perf_counter() - started
        log.info("model %s warmed up in %.1f s", self.model_dir.name, seconds)
        self.finished.emit(str(self.model_dir), seconds, error)


class ModelWarmUp(QObject):
    """Owns the thread of one background warm-up at a time."""

    device = pyqtSignal(str)
    finished = pyqtSignal(str, float, str)

    def __init__(self, parent: QObject | None = None, predictor_factory: PredictorFactory | None = None):
        super().__init__(parent)
        self.predictor_factory = predictor_factory
        self._thread: QThread | None = None
        self._worker: _WarmUpWorker | None = None
        self.started: set[str] = set()  # model folders warmed up (or tried) and still loaded

    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, model_dir: Path, images: Sequence[Path] = ()) -> bool:
        """Warm ``model_dir`` up in the background for ``images`` (the networks their sizes need);
        False when one is running or this model was tried already."""
        key = str(Path(model_dir).resolve())
        if self.is_running() or key in self.started:
            return False
        self.started.add(key)
        worker = _WarmUpWorker(Path(model_dir), self.predictor_factory, images)
        thread = thread_for(worker, self)
        worker.device.connect(self.device)
        worker.finished.connect(self._finish)
        self._thread, self._worker = thread, worker
        thread.start()
        return True

    def forget(self, model_dir: Path) -> None:
        """``model_dir``'s predictor was let go (:mod:`bloodview.gui.workers.loaded_models`): chosen again,
        it is warmed up again."""
        self.started.discard(str(Path(model_dir).resolve()))

    def wait(self, ms: int = 30000) -> None:
        """Block until the running warm-up ends (closing the app: a thread importing TensorFlow
        cannot be stopped, and Qt aborts on a thread destroyed while it runs)."""
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(ms)

    def _finish(self, model_dir: str, seconds: float, error: str) -> None:
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        end_thread(thread, worker)
        self.finished.emit(model_dir, seconds, error)
