"""The open image set: dataset, current image, undo stacks, dirty state, autosave.

One :class:`QUndoStack` per image in one :class:`QUndoGroup` (the active stack is
the current image's), so Ctrl+Z undoes edits of the image on screen and the undo
history view shows that image's history.

Never lose work:

* **autosave** writes a *recovery file* (COCO JSON via :mod:`bloodview.io.coco`
  plus a small meta JSON) every ``autosave_interval_s`` seconds when something
  changed, and whenever the current image changes. It never touches the user's
  own files; an explicit save does. The GUI thread only takes a snapshot of the
  open images (new lists of the same cells: edits replace a cell, never change
  one in place, so the snapshot is a state between two edits); a worker thread
  turns it into JSON and writes it (:class:`RecoveryWriter`).
* **one writer per project**: opening a project takes its lock
  (:mod:`bloodview.io.project_lock`); a project another bloodview has open is
  opened *read-only* (saving it is refused with the holder's name; Save as…
  works), and the lock is let go when the project is closed.
* On opening the same sources again after a crash, :meth:`Session.recovery_for`
  finds the recovery file and the window offers to restore it.
* A save that fails (disk full, read-only folder) raises; the session stays
  dirty with every edit in memory, so the user can retry or save elsewhere.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QObject, QTimer, pyqtSignal
from PyQt6.QtGui import QUndoCommand, QUndoGroup, QUndoStack

from bloodview.core.annotation import Dataset, ImageAnnotation, SignOffEvent
from bloodview.errors import ProjectError
from bloodview.gui.image_set import ImageSetMixin
from bloodview.gui.opening import OpenResult
from bloodview.gui.recovery import (  # noqa: F401 - recovery look-ups are also used from here
    RecoveryJob,
    RecoveryWriter,
    default_recovery_dir,
    pending_recoveries,
    recovery_files,
    recovery_for,
    sized_dataset,
    snapshot,
    sources_key,
    write_recovery,
)
from bloodview.io.project_lock import LockHolder, ProjectLock, ProjectLockedError
from bloodview.gui.sign_off import ImageUndoStack, SignOffCommand

log = logging.getLogger(__name__)

READ_ONLY_MARK = Path("/(read-only)")  # added to a read-only window's recovery key


class Session(ImageSetMixin, QObject):
    """State of what is open; the window and panels listen to its signals."""

    opened = pyqtSignal()
    currentChanged = pyqtSignal(int)
    imageChanged = pyqtSignal(int)  # the cells (or sign-off) of image i changed
    imageSetChanged = pyqtSignal()  # images were taken out or put back: every index may have moved
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
        self.removed_paths: list[Path] = []  # images taken out of the opened sources (for the recovery file)
        self._set_aside: list[QUndoStack] = []  # the undo stacks of removed images
        self.undo_group = QUndoGroup(self)
        self._stacks: dict[int, QUndoStack] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self._generation = 0  # bumps on every change; autosave writes when it moved
        self._autosaved_generation = 0
        self._dirty = False
        self.lock: ProjectLock | None = None  # held on the open project
        self.locked_by: LockHolder | None = None  # set when another bloodview has it: read-only
        self.recovery_dir = Path(recovery_dir) if recovery_dir else default_recovery_dir()
        self._writer = RecoveryWriter(self)
        self._writer.written.connect(lambda path, _generation: self.autosaved.emit(path))
        self._writer.failed.connect(self._autosave_failed)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.autosave)
        self.set_autosave_interval(autosave_interval_s)

    # --- opening ----------------------------------------------------------
    def load(self, result: OpenResult) -> None:
        """Replace what is open by ``result`` (the caller asked about unsaved work)."""
        self._detach()
        self._release_lock()
        self.dataset = result.dataset
        self.kind = result.kind
        self.project_path = result.project_path
        if result.kind == "project" and result.project_path is not None:
            self._take_lock(result.project_path)
        self.sources = list(result.sources)
        self.broken = dict(result.broken)
        self.settings = dict(result.settings)
        for index, image in enumerate(self.dataset.images):
            self._unsubscribe.append(image.subscribe(self._listener(index)))
        self.current_index = -1
        self.removed_paths = []
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
        for stack in self._set_aside:
            stack.deleteLater()
        self._set_aside.clear()

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
            stack.refused.connect(lambda why, s=stack: self.editRefused.emit(self.index_of(s.image), why))
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

    def clear_broken(self, index: int) -> None:
        """Image ``index`` reads again (its file came back)."""
        if self.broken.pop(index, None) is not None:
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

    def note_unsaved_change(self) -> None:
        """Something saved with the project changed outside any image's cells (where its
        images are): the project needs saving, and autosave writes it."""
        if self.dataset.images:
            self._generation += 1
            self._set_dirty(True)

    def mark_saved(self) -> None:
        for stack in self._stacks.values():
            stack.setClean()
        self._set_dirty(False)
        self.discard_recovery()

    # --- the project lock -----------------------------------------------------------
    @property
    def read_only(self) -> bool:
        """The open project is held by another bloodview: saving it is refused."""
        return self.locked_by is not None

    @property
    def recovery_sources(self) -> list[Path]:
        """What this session's recovery file is keyed by: a read-only window has its own, so it
        never writes over the recovery file of the bloodview that holds the project."""
        return [*self.sources, READ_ONLY_MARK] if self.read_only else list(self.sources)

    def _take_lock(self, folder: Path) -> None:
        try:
            self.lock = ProjectLock.acquire(folder)
        except ProjectLockedError as exc:
            self.locked_by = exc.holder
            log.warning("%s", exc)
        except ProjectError as exc:  # a folder that cannot hold a lock file (read-only media)
            log.warning("%s: opened without a lock (%s)", folder, exc)

    def _release_lock(self) -> None:
        if self.lock is not None:
            self.lock.release()
        self.lock = None
        self.locked_by = None

    def _holds_lock_on(self, folder: Path) -> bool:
        return self.lock is not None and self.lock.held and self.lock.folder.resolve() == folder.resolve()

    def close(self) -> None:
        """The window closes: finish writing the recovery file, let go of the project."""
        self._writer.wait()
        self._release_lock()

    # --- saving -----------------------------------------------------------------
    def save_project(self, folder: Path | None = None) -> Path:
        """Save atomically to ``folder`` (default: the open project). Raises on failure.

        Takes ``folder``'s lock first: a folder another bloodview has open (this
        project opened read-only, or another project) raises
        :class:`ProjectLockedError` naming the holder, and nothing is written.
        """
        from bloodview.io.project import save_project

        folder = Path(folder or self.project_path or "")
        if not str(folder):
            raise ValueError("no project folder chosen")
        new_lock = None
        if not self._holds_lock_on(folder):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ProjectError(f"{folder}: cannot create the project folder ({exc.strerror or exc})") from exc
            new_lock = ProjectLock.acquire(folder)
        try:
            save_project(self.dataset, folder, settings=self.settings)
        except BaseException:
            if new_lock is not None:
                new_lock.release()
            raise
        self.mark_saved()  # discards the recovery file of the old sources (a read-only window's own)
        was_read_only = self.read_only
        if new_lock is not None:
            self._release_lock()
            self.lock = new_lock
        if was_read_only and not self.read_only:
            self.dirtyChanged.emit(False)  # nothing unsaved changed, but the title drops "(read-only)"
        self.project_path = folder
        self.sources = [folder]  # autosave from now on belongs to the project
        self.removed_paths = []  # which lacks the removed images
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
        return recovery_files(self.recovery_dir, self.recovery_sources)[0]

    def autosave(self, wait: bool = False) -> Path | None:
        """Write the recovery file when something changed since the last one.

        Takes a snapshot here and writes it in the worker thread; ``wait=True``
        returns only once it is written (before a dialog, at closing). Returns
        the recovery file, or ``None`` when nothing needed writing. A failure
        is reported by :attr:`autosaveFailed`, and the next autosave tries again.
        """
        if not self.sources or self._generation == self._autosaved_generation or not self._dirty:
            return None
        self._writer.submit(RecoveryJob(self.recovery_dir, tuple(self.recovery_sources), snapshot(self.dataset),
                                        self.kind, self._generation, tuple(self.removed_paths)))
        self._autosaved_generation = self._generation
        if wait:
            self._writer.wait()
        return self.recovery_file

    def _autosave_failed(self, message: str, generation: int) -> None:
        if self._autosaved_generation == generation:
            self._autosaved_generation = -1  # not written: the next autosave writes it
        self.autosaveFailed.emit(f"Autosave failed: {message}")

    def discard_recovery(self) -> None:
        if not self.sources:
            return
        self._writer.cancel_pending()
        self._writer.wait()  # a write under way would bring the file back
        for path in recovery_files(self.recovery_dir, self.recovery_sources):
            path.unlink(missing_ok=True)

    def restore_recovery(self) -> int:
        """Put the recovery file's cells into the open images; return images restored.

        Goes through each image's undo stack, so the restore itself can be undone.
        """
        from bloodview.gui.commands import SetInstancesCommand
        from bloodview.gui.project_classes import adopt_classes
        from bloodview.io.coco import load_coco

        data_path, meta_path = recovery_files(self.recovery_dir, self.recovery_sources)
        recovered = load_coco(data_path, images_root=self.dataset.root, check_images=False)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        signed = set(meta.get("signed_off", []))
        restored = self._restore_removal(meta.get("removed") or [])
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
                adopt_classes(self.dataset.classes, other.instances, recovered.classes)
                self.push(index, SetInstancesCommand(image, other.instances, "Restore autosaved cells"))
                restored += 1
            if was_signed and not image.signed_off:
                self.push(index, self._recovered_sign_off(image, True, events))
            if other.pixel_size is not None:
                image.set_pixel_size(other.pixel_size)  # the scale detection found (not an undo step)
        return restored

    def _restore_removal(self, paths: list[str]) -> int:
        """Take out again the images that had been removed from the set when autosave wrote
        (one undo step); returns how many."""
        from bloodview.gui.image_removal import RemoveImagesCommand

        wanted = {str(p) for p in paths}
        indices = [i for i, image in enumerate(self.dataset.images) if str(image.image_path) in wanted]
        if not indices or len(indices) == len(self.dataset.images):
            return 0
        command = RemoveImagesCommand(self, indices)
        self.push(self.index_of(command.then_show), command)
        return len(indices)

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
