"""Recovery files: what autosave writes, in a worker thread, and what a restart finds.

A recovery file is a COCO JSON of the open images (:mod:`bloodview.io.coco`)
plus a small meta JSON, in ``recovery_dir``, named by a hash of the opened
sources. :class:`RecoveryWriter` writes snapshots (:func:`snapshot`) taken on the GUI
thread, so the editor never waits for JSON or the disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QObject, QStandardPaths, QThreadPool, pyqtSignal

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue

log = logging.getLogger(__name__)


def default_recovery_dir() -> Path:
    """``$BLOODVIEW_RECOVERY_DIR``, else ``bloodview/recovery`` in the platform's data folder
    (``~/.local/share/bloodview/recovery`` on Linux). The generic location, not Qt's
    per-application one, which adds organisation *and* application name
    (``bloodview/bloodview``)."""
    env = os.environ.get("BLOODVIEW_RECOVERY_DIR")
    if env:
        return Path(env)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base or Path.home() / ".local/share") / "bloodview" / "recovery"


def sources_key(sources: list[Path]) -> str:
    text = "\n".join(sorted(str(Path(s).resolve()) for s in sources))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def snapshot(dataset: Dataset) -> Dataset:
    """The open images as they are now, for a writer in another thread: new image records and
    lists holding the same cells (edits replace cells, they never change one in place)."""
    images = [
        ImageAnnotation(i.image_path, i.width, i.height, list(i.instances), image_label=i.image_label,
                        split=i.split, signed_off=i.signed_off, sign_off_history=list(i.sign_off_history),
                        pixel_size=i.pixel_size)
        for i in dataset.images
    ]
    return Dataset(images, ClassCatalogue.from_list(dataset.classes.to_list()), dataset.root)


@dataclass(frozen=True)
class RecoveryJob:
    recovery_dir: Path
    sources: tuple[Path, ...]
    dataset: Dataset  # a snapshot, owned by the job
    kind: str
    generation: int
    removed: tuple[Path, ...] = ()  # images taken out of the opened set

    def write(self) -> Path:
        return write_recovery(self.recovery_dir, list(self.sources), self.dataset, self.kind, self.removed)


class RecoveryWriter(QObject):
    """Writes recovery files in one worker thread, one at a time.

    A job waiting when a newer one comes is dropped (the newer snapshot has
    everything); :meth:`wait` blocks until nothing is left to write. Signals
    arrive on the GUI thread.
    """

    written = pyqtSignal(str, int)  # recovery file, generation
    failed = pyqtSignal(str, int)  # message, generation

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._guard = threading.Lock()
        self._pending: RecoveryJob | None = None

    def submit(self, job: RecoveryJob) -> None:
        with self._guard:
            self._pending = job
        self._pool.start(self._drain)

    def cancel_pending(self) -> None:
        with self._guard:
            self._pending = None

    def wait(self) -> None:
        self._pool.waitForDone()

    def _drain(self) -> None:  # in the worker thread
        while True:
            with self._guard:
                job, self._pending = self._pending, None
            if job is None:
                return
            try:
                path = job.write()
            except Exception as exc:  # noqa: BLE001 - autosave must never take the editor down
                log.exception("autosave failed")
                self.failed.emit(str(exc), job.generation)
            else:
                self.written.emit(str(path), job.generation)


def sized_dataset(dataset: Dataset) -> Dataset:
    """The images with a known size (same objects): unreadable images have 0 x 0, which
    annotation formats cannot hold, and no cells to lose."""
    sized = [i for i in dataset.images if i.width > 0 and i.height > 0]
    return Dataset(sized, dataset.classes, dataset.root)


def recovery_files(recovery_dir: Path, sources: list[Path]) -> tuple[Path, Path]:
    key = sources_key(sources)
    return recovery_dir / f"{key}.coco.json", recovery_dir / f"{key}.meta.json"


def write_recovery(recovery_dir: Path, sources: list[Path], dataset: Dataset, kind: str,
                   removed: tuple[Path, ...] = ()) -> Path:
    """Write the recovery file; ``removed`` lists the images taken out of the opened set, which
    reopening the same sources brings back, so the restore takes them out again."""
    from bloodview.io.atomic import atomic_write_json
    from bloodview.io.coco import save_coco

    recovery_dir.mkdir(parents=True, exist_ok=True)
    data_path, meta_path = recovery_files(recovery_dir, sources)
    save_coco(sized_dataset(dataset), data_path)
    meta = {
        "sources": [str(s) for s in sources],
        "kind": kind,
        "saved_at": time.time(),
        "signed_off": [str(i.image_path) for i in dataset.images if i.signed_off],
        "removed": [str(p) for p in removed],
    }
    atomic_write_json(meta_path, meta, backup=False)
    return data_path


def pending_recoveries(recovery_dir: Path) -> list[dict]:
    """Every recovery meta in the folder whose data file exists, newest first."""
    found = []
    for meta_path in Path(recovery_dir).glob("*.meta.json"):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(meta, dict) and meta.get("sources") and \
                meta_path.with_name(meta_path.name.replace(".meta.json", ".coco.json")).is_file():
            found.append(meta)
    return sorted(found, key=lambda m: m.get("saved_at") or 0, reverse=True)


def recovery_for(recovery_dir: Path, sources: list[Path]) -> dict | None:
    """The recovery meta for these sources, or None when there is none."""
    data_path, meta_path = recovery_files(recovery_dir, sources)
    if not (data_path.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        log.warning("unreadable recovery meta %s", meta_path)
        return None
    meta["path"] = str(data_path)
    return meta
