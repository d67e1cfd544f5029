"""Cell detection off the GUI thread.

:class:`DetectWorker` runs in a :class:`QThread`; it imports :mod:`bloodview.model`
(and so TensorFlow) only inside :meth:`DetectWorker.run`, so the window shows
before TensorFlow loads. The loaded predictor is cached per model folder for
the next run. Tests (and anyone without a model) pass ``predictor_factory``, a
callable ``model_dir -> object with .predict(images, min_confidence=...)``
returning one list of :class:`Instance` per image, exactly like
``bloodview.model.predict.Predictor``. When the object also has
``.detect(images, min_confidence=..., pixel_size=...)`` (results with
``.instances`` and ``.scale``), that is used: each job's pixel size is passed
on and the scale each image was read at is reported (:attr:`imageScale`; an image without usable red
cells is read again at its camera's scale, measured on the project's other images of its size), and so are the glass
colour gains of an image whose glass lay outside the model's training range (:attr:`imageGlass`).
Either method is also given ``step_progress``, which the predictor calls with (steps done, steps in
all) as the image's tiles run (``Predictor.detect``); the worker passes them on as :attr:`imageSteps`,
so a big field that takes a minute moves the bar instead of seeming hung. Signals only: the
worker never touches a widget, and Qt queues each signal to the GUI thread in the order emitted.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

from bloodview.errors import BloodviewError
from bloodview.gui.workers.loaded_models import load_predictor  # noqa: F401 - the app's predictor_factory

log = logging.getLogger(__name__)

PredictorFactory = Callable[[Path], Any]
PREDICTOR_IN_USE = threading.Lock()
"""Held by whoever uses a predictor (a detection run, the background warm-up): a predictor is not
thread-safe, and a run started during the warm-up waits for it, then finds the model loaded."""


def predictor_device(predictor: Any) -> str | None:
    """Where ``predictor`` runs, for people: its own ``device`` (test fakes), else TensorFlow's answer.

    Asks TensorFlow only once it is loaded (never loads it for a fake predictor).
    """
    device = getattr(predictor, "device", None)
    if isinstance(device, str) and device:
        return device
    if "tensorflow" not in sys.modules:
        return None
    from bloodview.model.distribute import current_plan

    return current_plan().describe()


@dataclass(frozen=True)
class DetectJob:
    image_index: int
    path: Path
    pixel_size: float | None = None  # µm per pixel when the user gives it; None: measured


MAX_WAITING = 5
"""Images of one size held back for their camera's scale at a time; past that, each is shown at once
(a folder of crops without red cells, whose camera never gets a scale, still appears image by image)."""
KnownScale = tuple[int, tuple[int, int], Any]  # image index, (height, width), ScaleEstimate or None


def _detect_one(predictor: Any, pixels, job: DetectJob, min_confidence: float | None,
                known: dict[int, tuple] | None = None, steps: Callable[[int, int], None] | None = None,
                ) -> tuple[list, Any, Any]:
    """``(cells, ScaleEstimate or None, glass gains or None)`` for one image; ``steps`` hears its first
    reading's progress (a second reading, below, is not reported: the bar would run back).

    ``known``: image index -> ((height, width), ScaleEstimate or None) of the project's images
    measured so far. An image read at an assumed scale (no usable red cell of its own) is read
    again at its camera's, where the other images of its size agree on one
    (:mod:`bloodview.core.camera_scale`, as ``bloodview predict`` does).
    """
    if not hasattr(predictor, "detect"):
        return list(predictor.predict([pixels], min_confidence=min_confidence, step_progress=steps)[0]), None, None
    found = predictor.detect([pixels], min_confidence=min_confidence, pixel_size=job.pixel_size,
                             step_progress=steps)[0]
    if job.pixel_size is None and known is not None:
        from bloodview.core.camera_scale import needs_camera_scale

        if needs_camera_scale(found.scale):
            found = _at_camera_scale(predictor, pixels, job, min_confidence, known) or found
        known[job.image_index] = (tuple(int(v) for v in pixels.shape[:2]), found.scale)
    return list(found.instances), found.scale, getattr(found, "glass_gains", None)


def _at_camera_scale(predictor: Any, pixels, job: DetectJob, min_confidence: float | None,
                     known: dict[int, tuple]) -> Any | None:
    """The image detected again at its camera's scale, or ``None`` while its camera has none."""
    from bloodview.core.camera_scale import camera_scales

    size = tuple(int(v) for v in pixels.shape[:2])
    camera = camera_scales(entry for index, entry in known.items() if index != job.image_index).get(size)
    if camera is None:
        return None
    return predictor.detect([pixels], min_confidence=min_confidence, pixel_size=[camera])[0]


class DetectWorker(QObject):
    """Runs a list of :class:`DetectJob`; emits per-image results; cancellable between images."""

    status = pyqtSignal(str)
    device = pyqtSignal(str)  # where the model runs ("CPU", "GPU: ..."), once it has loaded
    progress = pyqtSignal(int, int)  # images done, images in the job
    imageSteps = pyqtSignal(int, int)  # steps done, steps in all of the image under way (its tiles, ...)
    imageDone = pyqtSignal(int, list)  # image index, list[Instance]
    imageScale = pyqtSignal(int, object)  # image index, PixelSize it was read at (just before imageDone)
    imageGlass = pyqtSignal(int, object)  # image index, (r, g, b) gains of its glass balance (just before imageDone)
    imageFailed = pyqtSignal(int, str)
    failed = pyqtSignal(str)  # the whole run failed (model would not load)
    finished = pyqtSignal(bool)  # True when cancelled

    def __init__(
        self,
        jobs: Sequence[DetectJob],
        model_dir: Path,
        min_confidence: float | None = None,
        predictor_factory: PredictorFactory | None = None,
        known_scales: Sequence[KnownScale] = (),
    ):
        super().__init__()
        self.jobs = list(jobs)
        # the scales the project's images were read at, updated as this run measures more
        self.known: dict[int, tuple] = {index: (tuple(size), scale) for index, size, scale in known_scales}
        self.model_dir = Path(model_dir)
        self.min_confidence = min_confidence
        self.predictor_factory = predictor_factory or load_predictor
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @pyqtSlot()
    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - reported to the user; the editor carries on
            log.exception("detection failed")
            message = str(exc) if isinstance(exc, BloodviewError) else f"{type(exc).__name__}: {exc}"
            self.failed.emit(message)
            self.finished.emit(self._cancel.is_set())

    def _run(self) -> None:
        self.status.emit(f"Loading model {self.model_dir.name} (first time loads TensorFlow)…")
        with PREDICTOR_IN_USE:
            self._run_with_predictor()

    def _run_with_predictor(self) -> None:
        started = time.perf_counter()
        predictor = self.predictor_factory(self.model_dir)
        log.info("model ready in %.1f s", time.perf_counter() - started)
        device = predictor_device(predictor)
        if device:
            self.device.emit(device)
        from bloodview.core.camera_scale import needs_camera_scale
        from bloodview.io.images import load_image

        total = len(self.jobs)
        self.progress.emit(0, total)
        # An image read at an assumed scale before its camera's was known (the first images of a run)
        # is held back, at most MAX_WAITING per image size, and read again as soon as the run's other
        # images of its size agree on a scale (at the latest when the run ends).
        waiting: list[tuple[DetectJob, tuple, tuple]] = []  # job, first result, (height, width)
        for done, job in enumerate(self.jobs, start=1):
            if self._cancel.is_set():
                break
            self.status.emit(f"Detecting cells in {job.path.name} ({done}/{total})…")
            try:
                pixels = load_image(job.path)
                result = _detect_one(predictor, pixels, job, self.min_confidence, self.known, self.imageSteps.emit)
            except BloodviewError as exc:
                self.imageFailed.emit(job.image_index, str(exc))
            else:
                size = tuple(int(v) for v in pixels.shape[:2])
                if (job.pixel_size is None and needs_camera_scale(result[1]) and hasattr(predictor, "detect")
                        and sum(1 for *_, other in waiting if other == size) < MAX_WAITING):
                    waiting.append((job, result, size))
                else:
                    self._emit(job, result)
                waiting = self._read_waiting(predictor, waiting, final=False)
            self.progress.emit(done, total)
        self._read_waiting(predictor, waiting, final=True)
        self.finished.emit(self._cancel.is_set())

    def _read_waiting(self, predictor: Any, waiting: list, final: bool) -> list:
        """Emit the held-back images whose camera now has a scale, read again at it (all of them when
        ``final``: the first reading stands where none came, or when the run was cancelled).
        Returns those still waiting."""
        from bloodview.core.camera_scale import camera_scales
        from bloodview.io.images import load_image

        if not waiting:
            return waiting
        scales = camera_scales(self.known.values())
        left = []
        for job, result, size in waiting:
            if size in scales and not self._cancel.is_set():
                self.status.emit(f"Reading {job.path.name} again at its camera's scale…")
                try:
                    found = _at_camera_scale(predictor, load_image(job.path), job, self.min_confidence, self.known)
                except BloodviewError:
                    found = None  # the first reading stands
                if found is not None:
                    result = (list(found.instances), found.scale, getattr(found, "glass_gains", None))
                self._emit(job, result)
            elif final or self._cancel.is_set():
                self._emit(job, result)  # never lost
            else:
                left.append((job, result, size))
        return left

    def _emit(self, job: DetectJob, result: tuple) -> None:
        from bloodview.core.measure import PixelSize

        instances, estimate, gains = result
        if estimate is not None:
            self.imageScale.emit(job.image_index, PixelSize.from_estimate(estimate))
        if gains is not None:
            self.imageGlass.emit(job.image_index, tuple(gains))
        self.imageDone.emit(job.image_index, instances)


class DetectRunner(QObject):
    """Owns the thread of the current detection run (one at a time)."""

    status = pyqtSignal(str)
    device = pyqtSignal(str)
    progress = pyqtSignal(int, int)
    imageSteps = pyqtSignal(int, int)
    imageDone = pyqtSignal(int, list)
    imageScale = pyqtSignal(int, object)
    imageGlass = pyqtSignal(int, object)
    imageFailed = pyqtSignal(int, str)
    failed = pyqtSignal(str)
    finished = pyqtSignal(bool)

    def __init__(self, parent: QObject | None = None,
                 predictor_factory: PredictorFactory | None = None):
        super().__init__(parent)
        self.predictor_factory = predictor_factory
        self._thread: QThread | None = None
        self._worker: DetectWorker | None = None

    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, jobs: Sequence[DetectJob], model_dir: Path,
              min_confidence: float | None = None, known_scales: Sequence[KnownScale] = ()) -> bool:
        if self.is_running():
            return False
        worker = DetectWorker(jobs, model_dir, min_confidence, self.predictor_factory, known_scales)
        thread = thread_for(worker, self)
        worker.status.connect(self.status)
        worker.device.connect(self.device)
        worker.progress.connect(self.progress)
        worker.imageSteps.connect(self.imageSteps)
        worker.imageScale.connect(self.imageScale)
        worker.imageGlass.connect(self.imageGlass)
        worker.imageDone.connect(self.imageDone)
        worker.imageFailed.connect(self.imageFailed)
        worker.failed.connect(self.failed)
        worker.finished.connect(self._finish)
        self._thread, self._worker = thread, worker
        thread.start()
        return True

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def wait(self, ms: int | None = 30000) -> bool:
        """Block until the run's thread has ended (``ms=None``: however long); True when it has.

        The thread's event loop is told to quit first: it would otherwise keep running after the
        run, until the GUI thread (blocked here) handled the run's end, and every wait lasted its
        full ``ms`` (closing the window during a detection took 5 s, and when the image under way
        took longer Qt aborted the process on the thread destroyed while it ran).
        """
        if self._thread is None:
            return True
        self._thread.quit()  # takes effect once the run returns: a run is never interrupted
        return self._thread.wait() if ms is None else self._thread.wait(ms)

    def _finish(self, cancelled: bool) -> None:
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        end_thread(thread, worker)
        self.finished.emit(cancelled)


def thread_for(worker: QObject, parent: QObject) -> QThread:
    """A thread (not started) that runs ``worker.run`` once started; ``worker`` lives in it."""
    thread = QThread(parent)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    return thread


def end_thread(thread: QThread | None, worker: QObject | None) -> None:
    """Stop a worker's finished thread and let Qt delete both (on the GUI thread, after its run)."""
    if thread is not None:
        thread.quit()
        thread.wait(10000)
        thread.deleteLater()
    if worker is not None:
        worker.deleteLater()
