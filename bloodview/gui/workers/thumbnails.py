"""Cell thumbnails cut from their images off the GUI thread.

Why: decoding one 4000 x 3000 camera JPEG costs 0.1–0.3 s; the gallery did it on the GUI thread as
its thumbnails scrolled into view, so scrolling a slide of camera fields froze the window image by
image. Here a pool thread decodes the image with the project's own loader
(:func:`bloodview.io.images.load_image`: EXIF turn, 16-bit, grey… exactly as the canvas shows it),
cuts each requested square and shrinks it to a small RGB array; only those arrays (a few KB each)
come back, so at most one full picture per thread is in memory at a time.

Contract: the worker touches no widget and builds no QImage; results arrive on the GUI thread
through :attr:`ThumbnailLoader.ready`, where the panel turns them into icons. Requests are a
wish list (:meth:`ThumbnailLoader.want`, most wanted first) that each call replaces, so images that
scrolled out of view before their turn are never decoded; :meth:`ThumbnailLoader.cancel` drops the
list and the results of every decode under way (the image set changed: indices mean other files).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PyQt6.QtCore import QObject, QRunnable, Qt, QThread, pyqtSignal

from bloodview.errors import BloodviewError
from bloodview.gui.workers.shared_pool import CancelFlag, SharedPool
from bloodview.io.images import load_image

log = logging.getLogger(__name__)

Square = tuple[int, int, int]  # x, y of the top-left corner and the side, in image pixels
Decode = Callable[[Path], np.ndarray]  # path -> uint8 (H, W, 3) RGB, raising on an unreadable file

SHUTDOWN_WAIT_MS = 3000
"""On quitting, how long to wait for the decodes under way (one image each: well under a second)."""


@dataclass(frozen=True)
class ThumbnailRequest:
    """Squares to cut from one image: ``squares`` pairs a caller's key with its :data:`Square`."""

    image_index: int
    path: Path
    squares: tuple[tuple[Hashable, Square], ...]


@dataclass(frozen=True)
class ThumbnailBatch:
    """What came of one request: each key's ``(size, size, 3)`` uint8 RGB crop, or why the image
    could not be read (``error``, one sentence naming the file; ``crops`` then empty)."""

    image_index: int
    crops: dict[Hashable, np.ndarray] = field(default_factory=dict)
    error: str | None = None


def cut_squares(picture: np.ndarray, squares: tuple[tuple[Hashable, Square], ...],
                size: int) -> dict[Hashable, np.ndarray]:
    """Each square of ``picture`` (``(H, W, 3)`` RGB) shrunk (or grown) to ``size`` x ``size``.

    Parts of a square outside the picture are black, as ``QImage.copy`` gives them, so a cell at
    the edge keeps its place in its thumbnail.
    """
    height, width = picture.shape[:2]
    crops = {}
    for key, (x, y, side) in squares:
        side = max(int(side), 1)
        square = np.zeros((side, side, 3), dtype=np.uint8)
        left, top = max(x, 0), max(y, 0)
        right, bottom = min(x + side, width), min(y + side, height)
        if right > left and bottom > top:
            square[top - y:bottom - y, left - x:right - x] = picture[top:bottom, left:right, :3]
        shrink = cv2.INTER_AREA if side >= size else cv2.INTER_LINEAR
        crops[key] = cv2.resize(square, (size, size), interpolation=shrink)
    return crops


def read_thumbnails(request: ThumbnailRequest, size: int, decode: Decode = load_image,
                    cancelled: threading.Event | None = None) -> ThumbnailBatch:
    """Decode ``request``'s image and cut its squares; never raises: an unreadable image is a batch
    with an ``error`` (unexpected failures are logged with their traceback as well)."""
    path = request.path
    try:
        picture = decode(path)
        if cancelled is not None and cancelled.is_set():
            return ThumbnailBatch(request.image_index)
        return ThumbnailBatch(request.image_index, cut_squares(picture, request.squares, size))
    except BloodviewError as exc:
        error = str(exc)
    except OSError as exc:
        error = f"{path}: cannot be read ({exc.strerror or exc})"
    except Exception as exc:  # a bug must not take the window down from a pool thread
        log.exception("cutting thumbnails from %s failed", path)
        error = f"{path}: cannot be read ({type(exc).__name__}: {exc})"
    return ThumbnailBatch(request.image_index, error=error)


class _Relay(QObject):
    """Carries results from pool threads to the GUI thread. One for the whole process, never
    deleted: a job that ends after its loader was deleted still emits on a live object (the loader's
    connection went with it)."""

    done = pyqtSignal(int, int, int, object)  # loader serial, ticket, image index, ThumbnailBatch or None


class _Job(QRunnable):
    def __init__(self, serial: int, ticket: int, request: ThumbnailRequest, size: int, decode: Decode,
                 cancelled: threading.Event):
        super().__init__()
        self.serial, self.ticket, self.request, self.size = serial, ticket, request, size
        self.decode, self.cancelled = decode, cancelled

    def run(self) -> None:
        batch = None
        if not self.cancelled.is_set():
            batch = read_thumbnails(self.request, self.size, self.decode, self.cancelled)
        _POOLS.relay().done.emit(self.serial, self.ticket, self.request.image_index, batch)


_POOLS = SharedPool(lambda: min(2, QThread.idealThreadCount() - 2), SHUTDOWN_WAIT_MS, _Relay)  # the GUI keeps a core
_SERIALS = itertools.count(1)


def stop_decoding(wait_ms: int = SHUTDOWN_WAIT_MS) -> bool:
    """Drop decodes not started yet and wait for those under way (one image each); True when none
    is left. Run on quitting, so no pool thread is inside Python while the interpreter shuts down."""
    return _POOLS.stop(wait_ms)


class ThumbnailLoader(QObject):
    """Decodes the images of :class:`ThumbnailRequest`s on the shared pool, most wanted first.

    ``ready`` is emitted on the GUI thread, once per request that finished since the last
    :meth:`cancel`. ``size`` is a crop's side in device pixels: the gallery sets it to its thumbnails'
    logical size times the screen's device pixel ratio (144 at 200 %), so they are not enlarged, and
    soft, on a scaled screen; a change applies to the decodes started after it. At most as many
    images as the pool has threads are decoded at once (one, or two on a machine with four cores or
    more, so the GUI thread keeps a core).
    """

    ready = pyqtSignal(object)  # ThumbnailBatch

    def __init__(self, size: int, decode: Decode | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.size = size
        self._decode = decode  # None: the project's loader, looked up when each job starts
        self._serial = next(_SERIALS)
        self._ticket = 0
        self._cancelled = CancelFlag()
        self._waiting: list[ThumbnailRequest] = []
        self._running: list[tuple[int, int]] = []  # (ticket, image index) of each decode under way
        _POOLS.relay().done.connect(self._finished, Qt.ConnectionType.QueuedConnection)
        self.destroyed.connect(self._cancelled.set_all)  # a deleted gallery's jobs skip their work

    def want(self, requests: list[ThumbnailRequest]) -> None:
        """Replace the waiting list by ``requests`` (first = most wanted); an image being decoded
        already is not asked for again."""
        running = {index for ticket, index in self._running if ticket == self._ticket}
        self._waiting = [r for r in requests if r.image_index not in running]
        self._start_more()

    def cancel(self) -> None:
        """Forget the waiting list; decodes under way finish, but their results are dropped."""
        self._cancelled.set_all()
        self._ticket += 1
        self._waiting.clear()

    def busy(self) -> bool:
        """Whether any image is waiting or being decoded for the current requests."""
        return bool(self._waiting) or any(ticket == self._ticket for ticket, _index in self._running)

    def _start_more(self) -> None:
        pool = _POOLS.get()
        while self._waiting and len(self._running) < pool.maxThreadCount():
            request = self._waiting.pop(0)
            self._running.append((self._ticket, request.image_index))
            job = _Job(self._serial, self._ticket, request, self.size, self._decode or load_image,
                       self._cancelled.current())
            pool.start(job)

    def _finished(self, serial: int, ticket: int, image_index: int, batch: ThumbnailBatch | None) -> None:
        if serial != self._serial:
            return  # another gallery's
        self._running.remove((ticket, image_index))
        self._start_more()
        if ticket == self._ticket and batch is not None:
            self.ready.emit(batch)

