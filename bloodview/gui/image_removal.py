"""Remove image from project: take a picture out of the open set, undoably.

Why: one unreadable file, a blank field or a duplicate picture in a folder kept the
whole-project report a DRAFT for ever (it can never be signed off). Removing it takes it
out of what the project saves, autosaves, counts, reports and exports; the image file on
disk is never touched, and Ctrl+Z puts the image back with its cells and its history.

Where the undo step lives: every image has its own undo stack, and the removed image's
stack leaves with it, so the step is pushed on the stack of the image shown next (the
one that takes its place). Ctrl+Z right after the removal brings the image back; that
image's History panel lists the step.

A signed-off image is refused (withdraw the sign-off first): a person's approval must not
vanish from the report as a side effect. The last image is refused too (a project keeps
one; open another folder instead). A detection running meanwhile finds its images by
identity (:meth:`bloodview.gui.detect_actions.DetectActions._now`); a removed image's
results are dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtGui import QUndoCommand
from PyQt6.QtWidgets import QMenu

from bloodview.core.annotation import ImageAnnotation
from bloodview.gui.image_set import RemovedImage
from bloodview.gui.session import Session

if TYPE_CHECKING:
    from bloodview.gui.main_window import MainWindow


class RemoveImagesCommand(QUndoCommand):
    """Take images out of the open set (redo) and put them back at their places (undo)."""

    changes_cells = False  # it may sit on a signed-off image's stack (see ImageUndoStack)

    def __init__(self, session: Session, indices: list[int]):
        images = session.dataset.images
        indices = sorted(set(indices))
        self._session = session
        self._images = [images[i] for i in indices]  # by identity: indices move with other removals
        self._removed: list[RemovedImage] = []
        self.then_show = shown_next(images, indices, session.current_index)
        names = [image.image_path.name for image in self._images]
        super().__init__(f"Remove image {names[0]} from project" if len(names) == 1
                         else f"Remove {len(names)} images from project")

    def redo(self) -> None:
        images = self._session.dataset.images
        indices = [i for i, image in enumerate(images) if any(image is mine for mine in self._images)]
        self._removed = self._session.take_images(indices, self.then_show)

    def undo(self) -> None:
        self._session.put_back_images(self._removed)

    @property
    def removed_images(self) -> list[ImageAnnotation]:
        return list(self._images)


def shown_next(images: list[ImageAnnotation], removed: list[int], current: int) -> ImageAnnotation | None:
    """The image on screen after ``removed`` go: the current one when it stays, else the next
    one that stays (as N would go), else the nearest before it."""
    gone = set(removed)
    anchor = current if current >= 0 else min(removed, default=0)
    for index in [*range(anchor, len(images)), *range(anchor - 1, -1, -1)]:
        if index not in gone:
            return images[index]
    return None


class ImageRemoval:
    """Edit → Remove image from project, Del in the Images list and its right-click menu."""

    def __init__(self, window: MainWindow):
        self.window = window
        self.action = window.acts["remove_image"]
        window.removeAction(self.action)  # Del is the canvas's (cells); here only in the image list
        self.action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        image_list = window.image_list.list
        image_list.addAction(self.action)
        image_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        image_list.customContextMenuRequested.connect(self.show_context_menu)
        self.action.triggered.connect(self.remove_selected)
        window.session.imageSetChanged.connect(self._set_changed)
        window.session.opened.connect(self._update_enabled)
        self._update_enabled()

    def chosen(self) -> list[int]:
        """The images selected in the Images list, else the image on screen."""
        rows = self.window.image_list.selected_rows()
        current = self.window.session.current_index
        return rows or ([current] if current >= 0 else [])

    def remove_selected(self) -> bool:
        return self.remove(self.chosen())

    def remove(self, indices: list[int]) -> bool:
        """Take ``indices`` out of the project as one undo step; False (and why, over the
        canvas) when refused."""
        window, session = self.window, self.window.session
        images = session.dataset.images
        indices = sorted(i for i in set(indices) if 0 <= i < len(images))
        if not indices:
            return False
        why = self._refusal(indices)
        if why:
            window.canvas.notify(why)  # over the image and in the status bar
            return False
        command = RemoveImagesCommand(session, indices)
        if not session.push(session.index_of(command.then_show), command):
            return False
        what = images_text(command.removed_images)
        window.show_status(f"Removed {what} from the project (the file stays on disk; Ctrl+Z puts it back)")
        return True

    def _refusal(self, indices: list[int]) -> str:
        session = self.window.session
        if len(indices) >= len(session.dataset.images):
            return "A project keeps at least one image: open another folder or project instead"
        for index in indices:
            image = session.dataset.images[index]
            if image.signed_off:
                last = image.last_sign_off
                who = f" by {last.who}" if last is not None and last.signed_off else ""
                return (f"{image.image_path.name} is signed off{who}: withdraw the sign-off (Ctrl+Enter) "
                        "before removing it from the project")
        return ""

    def show_context_menu(self, position: QPoint) -> None:
        image_list = self.window.image_list.list
        menu = QMenu(image_list)
        menu.addAction(self.window.acts["detect_selected"])
        menu.addSeparator()
        menu.addAction(self.action)
        menu.popup(image_list.viewport().mapToGlobal(position))

    def _set_changed(self) -> None:
        """Indices moved: pictures and thumbnails cached by index are stale; counts, report
        scope, title and queue follow the new set."""
        window = self.window
        window.pictures.clear()
        window.gallery.forget_pictures()
        window.schedule_refresh()
        window.update_enabled()
        window._update_title()
        self._update_enabled()

    def _update_enabled(self) -> None:
        self.action.setEnabled(len(self.window.session.dataset.images) > 1)


def images_text(images: list[ImageAnnotation]) -> str:
    return images[0].image_path.name if len(images) == 1 else f"{len(images)} images"
