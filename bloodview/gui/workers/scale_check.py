"""The Retrain dialog's pixel-size check, measured off the GUI thread.

Why: an image without a recorded pixel size is measured on its red cells before the dialog can say
whether the cell classifier will learn from it (:mod:`bloodview.gui.training_scale`); on 300 imported
BCCD fields that froze the window for 5.8 s on opening Model → Retrain…. Here one pool thread
measures the files (:func:`bloodview.gui.training_scale.measure_file`, which touches no shared state)
and the answers come back to the GUI thread, which stores them (:func:`training_scale.remember`) and
emits :attr:`ScaleChecker.finished`; the dialog then redraws its note from the stored answers.

Each :meth:`ScaleChecker.check` that asks for files the run under way does not cover replaces that
run (another project, another model's classes); :meth:`ScaleChecker.cancel` (the dialog closed) drops
it. A replaced or cancelled run stops between two images and its answers are ignored.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from PyQt6.QtCore import QObject, QRunnable, Qt, pyqtSignal

from bloodview.gui import training_scale
from bloodview.gui.workers.shared_pool import CancelFlag, SharedPool

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_MS = 2000
"""On quitting, how long to wait for the image being measured (under 0.1 s)."""


class _Relay(QObject):
    """Carries answers from the pool thread to the GUI thread; one per process, never deleted, so a run
    that ends after its checker was deleted still emits on a live object."""

    done = pyqtSignal(int, int, object)  # checker serial, ticket, [(file version, measurable)]


class _Run(QRunnable):
    def __init__(self, serial: int, ticket: int, paths: Sequence[Path], cancelled: threading.Event):
        super().__init__()
        self.serial, self.ticket, self.paths, self.cancelled = serial, ticket, list(paths), cancelled

    def run(self) -> None:
        answers = []
        for path in self.paths:
            if self.cancelled.is_set() or _QUITTING.is_set():
                return  # replaced or dropped: nobody waits for these answers
            try:
                answer = training_scale.measure_file(path)
            except Exception:  # a bug must not take the window down from a pool thread
                log.exception("measuring the pixel size of %s failed", path)
                answer = None
            if answer is not None:
                answers.append(answer)
        _POOLS.relay().done.emit(self.serial, self.ticket, answers)


_QUITTING = threading.Event()
_POOLS = SharedPool(lambda: 1, SHUTDOWN_WAIT_MS, _Relay, before_stop=_QUITTING.set)  # one thread for every dialog
_SERIALS = itertools.count(1)


def stop_checking(wait_ms: int = SHUTDOWN_WAIT_MS) -> bool:
    """Stop every run after its current image and wait for it; True when none is left."""
    return _POOLS.stop(wait_ms)


class ScaleChecker(QObject):
    """Measures files' pixel sizes in the background for one dialog; ``finished`` when the answers asked
    for last are stored (never for a replaced or cancelled run)."""

    finished = pyqtSignal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._serial = next(_SERIALS)
        self._ticket = 0
        self._wanted: frozenset[Path] | None = None  # the files of the run under way
        self._cancelled = CancelFlag()
        _POOLS.relay().done.connect(self._done, Qt.ConnectionType.QueuedConnection)
        self.destroyed.connect(self._cancelled.set_all)  # a deleted dialog's run stops

    def busy(self) -> bool:
        return self._wanted is not None

    def check(self, paths: Sequence[Path]) -> None:
        """Measure ``paths``; a run under way that covers them all goes on, any other is replaced."""
        wanted = frozenset(paths)
        if self._wanted is not None and wanted <= self._wanted:
            return
        self.cancel()
        _QUITTING.clear()
        self._wanted = wanted
        _POOLS.get().start(_Run(self._serial, self._ticket, paths, self._cancelled.current()))

    def cancel(self) -> None:
        """Stop the run under way after its current image; its answers are ignored."""
        self._cancelled.set_all()
        self._ticket += 1
        self._wanted = None

    def _done(self, serial: int, ticket: int, answers: list) -> None:
        if serial != self._serial or ticket != self._ticket:
            return  # another dialog's, or a run replaced since
        for key, measurable in answers:
            training_scale.remember(key, measurable)
        self._wanted = None
        self.finished.emit()

