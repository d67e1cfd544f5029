"""The open image set: dataset, current image, undo stacks, dirty state, autosave.

One :class:`QUndoStack` per image in one :class:`QUndoGroup` (the active stack is
the current image's), so Ctrl+Z undoes edits of the image on screen and the undo
history view shows that image's history.

Never lose work:

* **autosave** writes a *recovery file* (COCO JSON via :mod:`bloodview.io.coco`
  plus a small meta JSON) every ``autosave_interval_s`` seconds when something
  changed, and whenever the current image changes. It never touches the user's
  own files; an explicit save does.
* On opening the same sources again after a crash, :meth:`Session.recovery_for`
  finds the recovery file and the window offers to restore it.
* A save that fails (disk full, read-only folder) raises; the session stays
  dirty with every edit in memory, so the user can retry or save elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QObject, QStandardPaths, QTimer, pyqtSignal
from PyQt6.QtGui import QUndoCommand, QUndoGroup, QUndoStack

from bloodview.core.annotation import Dataset, ImageAnnotation, SignOffEvent
from bloodview.gui.opening import OpenResult
from bloodview.gui.sign_off import ImageUndoStack, SignOffCommand

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


class Session(QObject):
    """State of what is open; the window and panels listen to its signals."""

    opened = pyqtSignal()
    currentChanged = pyqtSignal(int)
    imageChanged = pyqtSignal(int)  # the cells (or sign-off) of image i changed
    editRefused = pyqtSignal(int, str)  # image i is signed off: a change was refused (why)
    dirtyChanged = pyqtSignal(bool)
    autosaved = pyqtSignal(str)
    autosaveFailed = pyqtSignal(str)

    def __init__(
        self,
        parent: QObject | None = None,
        recovery_dir: Path | None = None,
        autosave_interval_s: float = 60.0,
    ):
        super().__init__(parent)
        self.dataset = Dataset()
        self.kind = "empty"
        self.project_path: Path | None = None
        self.sources: list[Path] = []
        self.broken: dict[int, str] = {}
        self.settings: dict = {}  # saved in project.json (e.g. the review threshold)
        self.current_index = -1
        self.undo_group = QUndoGroup(self)
        self._stacks: dict[int, QUndoStack] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self._generation = 0  # bumps on every change; autosave writes when it moved
        self._autosaved_generation = 0
        self._dirty = False
        self.recovery_dir = Path(recovery_dir) if recovery_dir else default_recovery_dir()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.autosave)
        self.set_autosave_interval(autosave_interval_s)

    # --- opening ----------------------------------------------------------
    def load(self, result: OpenResult) -> None:
        """Replace what is open by ``result`` (the caller asked about unsaved work)."""
        self._detach()
        self.dataset = result.dataset
        self.kind = result.kind
        self.project_path = result.project_path
        self.sources = list(result.sources)
        self.broken = dict(result.broken)
        self.settings = dict(result.settings)
        for index, image in enumerate(self.dataset.images):
            self._unsubscribe.append(image.subscribe(self._listener(index)))
        self.current_index = -1
        self._generation += 1  # never reset: panels use it as a version across datasets
        self._autosaved_generation = self._generation
        self._set_dirty(False)
        self.opened.emit()
        if self.dataset.images:
            self.set_current(0)

    def _detach(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        for stack in self._stacks.values():
            self.undo_group.removeStack(stack)
            stack.deleteLater()
        self._stacks.clear()

    def _listener(self, index: int) -> Callable[[str, object], None]:
        def on_change(kind: str, payload: object) -> None:
            self._generation += 1
            self._set_dirty(True)
            self.imageChanged.emit(index)

        return on_change

    # --- images and undo ----------------------------------------------------
    @property
    def current_image(self) -> ImageAnnotation | None:
        if 0 <= self.current_index < len(self.dataset.images):
            return self.dataset.images[self.current_index]
        return None

    def image_path(self, index: int) -> Path:
        return self.dataset.resolve_image(self.dataset.images[index])

    def stack(self, index: int) -> QUndoStack:
        stack = self._stacks.get(index)
        if stack is None:
            stack = ImageUndoStack(self.dataset.images[index], self)
            stack.refused.connect(lambda why, i=index: self.editRefused.emit(i, why))
            self.undo_group.addStack(stack)
            self._stacks[index] = stack
        return stack

    def push(self, index: int, command: QUndoCommand) -> bool:
        """Push an edit of image ``index``; ``False`` when refused (the image is signed off)."""
        return self.stack(index).push(command)

    def set_setting(self, key: str, value: object) -> None:
        """Change a project setting (saved in project.json): an unsaved change when it differs
        and something is open to save it with."""
        if self.settings.get(key) != value:
            self.settings[key] = value
            if self.dataset.images:
                self._generation += 1
                self._set_dirty(True)

    def set_current(self, index: int) -> None:
        if not 0 <= index < len(self.dataset.images) or index == self.current_index:
            return
        if self.current_index >= 0:
            self.autosave()
        self.current_index = index
        self.undo_group.setActiveStack(self.stack(index))
        self.currentChanged.emit(index)

    def mark_broken(self, index: int, message: str) -> None:
        self.broken[index] = message
        self.imageChanged.emit(index)

    @property
    def generation(self) -> int:
        """Bumps on every change of any image's cells (cheap "has anything changed" test)."""
        return self._generation

    # --- dirty state ----------------------------------------------------------
    def is_dirty(self) -> bool:
        return self._dirty

    def _set_dirty(self, value: bool) -> None:
        if value != self._dirty:
            self._dirty = value
            self.dirtyChanged.emit(value)

    def mark_saved(self) -> None:
        for stack in self._stacks.values():
            stack.setClean()
        self._set_dirty(False)
        self.discard_recovery()

    # --- saving -----------------------------------------------------------------
    def save_project(self, folder: Path | None = None) -> Path:
        """Save atomically to ``folder`` (default: the open project). Raises on failure."""
        from bloodview.io.project import save_project

        folder = Path(folder or self.project_path or "")
        if not str(folder):
            raise ValueError("no project folder chosen")
        save_project(self.dataset, folder, settings=self.settings)
        self.mark_saved()  # discards the recovery file of the old sources
        self.project_path = folder
        self.sources = [folder]  # autosave from now on belongs to the project
        self.kind = "project"
        return folder

    def suggested_project_folder(self) -> Path:
        if self.project_path is not None:
            return self.project_path
        if self.dataset.root is not None:
            return Path(self.dataset.root)
        if self.sources:
            return Path(self.sources[0]).parent
        return Path.home()

    # --- autosave and recovery ------------------------------------------------------
    def set_autosave_interval(self, seconds: float) -> None:
        self._timer.stop()
        if seconds > 0:
            self._timer.start(int(seconds * 1000))

    @property
    def recovery_file(self) -> Path:
        return self.recovery_dir / f"{sources_key(self.sources)}.coco.json"

    def autosave(self) -> Path | None:
        """Write the recovery file when something changed since the last one."""
        if not self.sources or self._generation == self._autosaved_generation or not self._dirty:
            return None
        try:
            path = write_recovery(self.recovery_dir, self.sources, self.dataset, self.kind)
        except Exception as exc:  # noqa: BLE001 - autosave must never take the editor down
            log.exception("autosave failed")
            self.autosaveFailed.emit(f"Autosave failed: {exc}")
            return None
        self._autosaved_generation = self._generation
        self.autosaved.emit(str(path))
        return path

    def discard_recovery(self) -> None:
        if not self.sources:
            return
        for path in recovery_files(self.recovery_dir, self.sources):
            path.unlink(missing_ok=True)

    def restore_recovery(self) -> int:
        """Put the recovery file's cells into the open images; return images restored.

        Goes through each image's undo stack, so the restore itself can be undone.
        """
        from bloodview.gui.commands import SetInstancesCommand
        from bloodview.io.coco import load_coco

        data_path, meta_path = recovery_files(self.recovery_dir, self.sources)
        recovered = load_coco(data_path, images_root=self.dataset.root, check_images=False)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        signed = set(meta.get("signed_off", []))
        restored = 0
        for index, image in enumerate(self.dataset.images):
            other = recovered.find(image.image_path)
            if other is None:
                continue
            # the COCO file keeps each image's sign-off and its record; older meta files list the paths
            was_signed = other.signed_off or str(image.image_path) in signed
            events = other.sign_off_history
            if image.signed_off and (not was_signed or not _same_cells(image, other)):
                self.push(index, self._recovered_sign_off(image, False, events))  # unlock before the cells
            if not _same_cells(image, other):
                self.push(index, SetInstancesCommand(image, other.instances, "Restore autosaved cells"))
                restored += 1
            if was_signed and not image.signed_off:
                self.push(index, self._recovered_sign_off(image, True, events))
            if other.pixel_size is not None:
                image.set_pixel_size(other.pixel_size)  # the scale detection found (not an undo step)
        return restored

    @staticmethod
    def _recovered_sign_off(image: ImageAnnotation, value: bool, events: list[SignOffEvent]) -> SignOffCommand:
        """A sign-off (or withdrawal) that keeps who and when from the recovery file when it has them."""
        command = SignOffCommand(image, value)
        if events and events[-1].signed_off == value:
            command.event = events[-1]
        return command


def _same_cells(a: ImageAnnotation, b: ImageAnnotation) -> bool:
    if len(a.instances) != len(b.instances):
        return False
    others = {i.id: i for i in b.instances}
    return all(i.id in others and i.same_as(others[i.id]) for i in a.instances)


def sized_dataset(dataset: Dataset) -> Dataset:
    """The images with a known size (same objects): unreadable images have 0 x 0, which
    annotation formats cannot hold, and no cells to lose."""
    sized = [i for i in dataset.images if i.width > 0 and i.height > 0]
    return Dataset(sized, dataset.classes, dataset.root)


def recovery_files(recovery_dir: Path, sources: list[Path]) -> tuple[Path, Path]:
    key = sources_key(sources)
    return recovery_dir / f"{key}.coco.json", recovery_dir / f"{key}.meta.json"


def write_recovery(recovery_dir: Path, sources: list[Path], dataset: Dataset, kind: str) -> Path:
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
