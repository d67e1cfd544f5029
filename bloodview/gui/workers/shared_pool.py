"""A process-wide thread pool for background work of many widgets, waited for when the app quits.

Why one pool per kind of work, made on first use and never deleted: a widget (a gallery, a dialog)
deleted while its work runs must not wait for it — a destructor that waits while Python holds the
lock the worker needs would hang — so the pool outlives every widget, and :meth:`SharedPool.stop`
drops the work not started and waits for the rest when the application quits (also from ``atexit``),
so no pool thread is inside Python while the interpreter shuts down.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable

from PyQt6.QtCore import QCoreApplication, QObject, QThreadPool


class SharedPool:
    """``get()`` the pool (``threads()`` of them, asked on first use); ``relay()`` the one object whose
    signals carry results to the GUI thread (made on first use, so on the GUI thread); ``stop(wait_ms)``
    on quitting."""

    def __init__(self, threads: Callable[[], int], wait_ms: int, relay: Callable[[], QObject],
                 before_stop: Callable[[], None] | None = None):
        self._threads = threads
        self._wait_ms = wait_ms
        self._make_relay = relay
        self._before_stop = before_stop  # e.g. tell running work to end after its current item
        self.pool: QThreadPool | None = None
        self._relay: QObject | None = None

    def relay(self) -> QObject:
        if self._relay is None:
            self._relay = self._make_relay()
        return self._relay

    def get(self) -> QThreadPool:
        if self.pool is None:
            self.pool = QThreadPool()
            self.pool.setMaxThreadCount(max(1, self._threads()))
            app = QCoreApplication.instance()
            if app is not None:
                app.aboutToQuit.connect(self.stop)
            atexit.register(self.stop)
        return self.pool

    def stop(self, wait_ms: int | None = None) -> bool:
        """Drop work not started and wait for the rest; True when none is left."""
        if self._before_stop is not None:
            self._before_stop()
        if self.pool is None:
            return True
        try:
            self.pool.clear()
            return self.pool.waitForDone(self._wait_ms if wait_ms is None else wait_ms)
        except RuntimeError:  # Qt already deleted the pool (the application was torn down first): nothing runs
            return True


class CancelFlag:
    """The flag the work of one request watches; :meth:`set_all` sets it and hands out a fresh one, so
    a cancel stops the work under way and not what is asked next. Kept apart from the widget that owns
    it, so the widget's ``destroyed`` signal can still reach it (connect ``destroyed`` to ``set_all``)."""

    def __init__(self):
        self._event = threading.Event()

    def current(self) -> threading.Event:
        return self._event

    def set_all(self, *_args) -> None:
        self._event.set()
        self._event = threading.Event()
