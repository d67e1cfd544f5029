"""Taking images out of the open set and putting them back (the session's part of
:mod:`bloodview.gui.image_removal`).

Everything the session keeps per image is keyed by the image's index: undo stacks,
change listeners, "cannot be read" marks. When an image leaves the list, each of these
follows its image to its new index, and the removed image keeps its undo stack aside, so
putting it back returns its whole history. Kept apart from :mod:`bloodview.gui.session`
to keep that module about what is open, saving and autosave.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PyQt6.QtGui import QUndoStack

from bloodview.core.annotation import ImageAnnotation


@dataclass
class RemovedImage:
    """An image taken out of the open set, with what puts it back as it was: its place in
    the list, its undo history and why it could not be read."""

    index: int
    image: ImageAnnotation
    stack: QUndoStack | None
    broken: str | None


class ImageSetMixin:
    """Session methods that change which images are open (the Session's attributes)."""

    def index_of(self, image: ImageAnnotation) -> int:
        """Where ``image`` is now (-1: not open); by identity, as two records may be equal."""
        return next((i for i, other in enumerate(self.dataset.images) if other is image), -1)

    def take_images(self, indices: Iterable[int], then_show: ImageAnnotation | None = None) -> list[RemovedImage]:
        """Take images out of the open set; their files are never touched.

        From now on saves, autosaves, exports and counts lack them. When the image on
        screen is among them, ``then_show`` is shown instead. Returns what
        :meth:`put_back_images` needs to bring them back with their undo history.
        """
        removed = [RemovedImage(i, self.dataset.images[i], self._stacks.get(i), self.broken.get(i))
                   for i in sorted(set(indices))]
        gone = {id(r.image) for r in removed}
        for item in removed:
            if item.stack is not None:
                self.undo_group.removeStack(item.stack)
                self._set_aside.append(item.stack)
            self.removed_paths.append(item.image.image_path)
        self._reindex([i for i in self.dataset.images if id(i) not in gone], then_show)
        return removed

    def put_back_images(self, removed: list[RemovedImage]) -> None:
        """Undo :meth:`take_images`: each image back at its place, with its history."""
        images = list(self.dataset.images)
        for item in sorted(removed, key=lambda r: r.index):
            images.insert(item.index, item.image)
            if item.image.image_path in self.removed_paths:
                self.removed_paths.remove(item.image.image_path)
        self._reindex(images, None, removed)

    def _reindex(self, images: list[ImageAnnotation], then_show: ImageAnnotation | None,
                 returning: Sequence[RemovedImage] = ()) -> None:
        """Make ``images`` the open set; undo stacks, listeners and broken marks follow their
        image to its new index."""
        old = self.dataset.images
        stacks = {id(old[i]): s for i, s in self._stacks.items()}
        broken = {id(old[i]): m for i, m in self.broken.items()}
        for item in returning:
            if item.stack is not None:
                stacks[id(item.image)] = item.stack
                self.undo_group.addStack(item.stack)
                self._set_aside.remove(item.stack)
            if item.broken is not None:
                broken[id(item.image)] = item.broken
        current = self.current_image
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self.dataset.images[:] = images
        self._stacks = {i: stacks[id(im)] for i, im in enumerate(images) if id(im) in stacks}
        self.broken = {i: broken[id(im)] for i, im in enumerate(images) if id(im) in broken}
        for index, image in enumerate(images):
            self._unsubscribe.append(image.subscribe(self._listener(index)))
        self.current_index = self.index_of(current) if current is not None else -1
        self._generation += 1
        self._set_dirty(True)
        self.imageSetChanged.emit()
        if self.current_index < 0 and then_show is not None:
            self.set_current(self.index_of(then_show))
        self.autosave()
