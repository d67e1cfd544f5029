"""Review commands: class keys, confirm-and-next, next unchecked cell, sign-off, paging,
and the canvas's right-click menu (set class, confirm, delete)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtCore import QPoint, QRectF, Qt
from PyQt6.QtWidgets import QMenu

from bloodview.gui.review import (
    display_name,
    is_checked,
    next_unchecked,
    provenance,
    reading_order,
    sign_off_check,
)
from bloodview.gui.sign_off import SignOffCommand
from bloodview.gui.signer import Signer

if TYPE_CHECKING:
    from bloodview.gui.main_window import MainWindow


class ReviewActions:
    def __init__(self, window: MainWindow):
        self.window = window
        self.menu: QMenu | None = None  # the last context menu (kept for tests)
        self.signer = Signer(window.settings, window.prompts, window)  # who signs, asked once a session

    @property
    def _image(self):
        return self.window.session.current_image

    def selected(self) -> list[str]:
        return list(self.window.canvas.selected_ids())

    def targets(self) -> dict[int, list[str]]:
        """Image index -> selected cell ids: the gallery's selection across images when it
        shows all images and has one, else the canvas selection (current image)."""
        session, gallery = self.window.session, self.window.gallery
        chosen = gallery.selected_cells() if gallery.all_images else []
        if not chosen:
            chosen = [(session.current_index, cell_id) for cell_id in self.selected()]
        groups: dict[int, list[str]] = {}
        for index, cell_id in chosen:
            image = session.dataset.images[index] if 0 <= index < len(session.dataset.images) else None
            if image is not None and image.find(cell_id) is not None:
                groups.setdefault(index, []).append(cell_id)
        return groups

    def _current_group(self, ids: list[str]) -> dict[int, list[str]]:
        """``ids`` of the image on screen, as :meth:`targets` gives them."""
        image, index = self._image, self.window.session.current_index
        found = [i for i in ids if image is not None and image.find(i) is not None]
        return {index: found} if found else {}

    def set_class(self, class_name: str, ids: list[str] | None = None) -> None:
        """Give the selected cells (or ``ids`` of the image on screen) ``class_name``
        (a person's correction); one undo step per image, none where nothing changes."""
        from bloodview.gui.commands import ChangeClassCommand

        groups = self.targets() if ids is None else self._current_group(ids)
        if not groups:
            self.window.canvas.notify("Select cells first (click, or Tab for the next unchecked one)")
            return
        session = self.window.session
        display = self._display(class_name)
        changed = unchanged = locked = 0
        for index, ids in groups.items():
            command = ChangeClassCommand(session.dataset.images[index], ids, class_name, display)
            unchanged += len(ids) - command.changed_count
            if command.changed_count == 0:
                continue
            if session.push(index, command):
                changed += command.changed_count
            else:
                locked += command.changed_count
        if locked and len(groups) == 1:
            return  # the refusal is on screen already
        where = f" in {len(groups)} images" if len(groups) > 1 else ""
        parts = [f"{changed} cell(s) set to {display}{where}"] if changed or not unchanged else []
        if unchanged:
            parts.append(f"{unchanged} cell(s) already {display}")
        if locked:
            parts.append(f"{locked} in signed-off images left unchanged")
        self._say("; ".join(parts))

    def _display(self, class_name: str) -> str:
        return display_name(self.window.session.dataset.classes, class_name)

    def accept_and_next(self) -> None:
        """Space: confirm the selected cells, then select the next unchecked cell.

        A confirmed cell that overlaps another one (one cell found twice) is warned about."""
        from bloodview.gui.commands import SetReviewedCommand

        image, session = self._image, self.window.session
        if image is None:
            return
        for index, ids in self.targets().items():
            target = session.dataset.images[index]
            unconfirmed = [i for i in ids if not target.find(i).reviewed]
            if unconfirmed and not target.signed_off:  # signed off: every cell is checked already
                session.push(index, SetReviewedCommand(target, unconfirmed, True))
        ids = self.selected()
        self.next_cell(after=ids[-1] if ids else None)
        self._warn_overlaps(ids)

    def _warn_overlaps(self, ids: list[str]) -> None:
        image = self._image
        for overlap in self.window.queue.overlaps_of(image):  # cached while the cells stay
            members = {overlap.keep, *overlap.drop}
            if members & set(ids):
                others = [image.find(i) for i in members - {overlap.keep}]
                keep = image.find(overlap.keep)
                self.window.canvas.notify(
                    f"{len(members)} cells overlap (IoU {overlap.iou:.2f}): probably one cell found twice — "
                    f"Review → Merge overlapping cells keeps the {self._display(keep.class_name)} and drops "
                    + ", ".join(self._display(c.class_name) for c in others))
                return

    def next_cell(self, after: str | None = None) -> None:
        image = self._image
        if image is None:
            return
        if after is None:
            current = self.selected()
            after = current[-1] if current else None
        cell = next_unchecked(image, after)
        if cell is None:
            check = sign_off_check(image, self.window.threshold)
            hint = " — press Ctrl+Enter to sign off" if check.ok and not image.signed_off else ""
            self._say(f"Every cell in this image is checked{hint}")
            return
        self.window.select_cells([cell.id], center=True)

    def prev_cell(self) -> None:
        image = self._image
        if image is None or not image.instances:
            return
        ordered = reading_order(image.instances)
        ids = [i.id for i in ordered]
        current = self.selected()
        index = ids.index(current[0]) - 1 if current and current[0] in ids else len(ids) - 1
        self.window.select_cells([ids[index % len(ids)]], center=True)

    def reveal(self, instance_id: str) -> None:
        """Bring a cell into view: pan/zoom only when it is not already fully visible."""
        image = self.window.session.current_image
        cell = image.find(instance_id) if image is not None else None
        if cell is None:
            return
        visible = self.window.canvas.mapToScene(self.window.canvas.viewport().rect()).boundingRect()
        x1, y1, x2, y2 = cell.bbox
        if not visible.contains(QRectF(x1, y1, x2 - x1, y2 - y1)):
            self.window.canvas.center_on(instance_id)

    def describe(self, ids: list) -> None:
        """One selected cell: its class and provenance in the status bar."""
        image = self.window.session.current_image
        cell = image.find(ids[0]) if image is not None and len(ids) == 1 else None
        if cell is not None:
            self._say(f"{self._display(cell.class_name)} — {provenance(cell, self._display)}")

    def select_all(self) -> None:
        image = self._image
        if image is not None:
            self.window.select_cells([i.id for i in image.instances], center=False)

    def confirm(self, ids: list[str]) -> None:
        """Confirm cells of the image on screen (one undo step), staying on them."""
        from bloodview.gui.commands import SetReviewedCommand

        image, session = self._image, self.window.session
        unconfirmed = [i for i in self._current_group(ids).get(session.current_index, [])
                       if not image.find(i).reviewed]
        if unconfirmed:
            session.push(session.current_index, SetReviewedCommand(image, unconfirmed, True))
            self._say(f"{len(unconfirmed)} cell(s) confirmed")

    def context_menu(self, ids: list[str]) -> QMenu | None:
        """The right-click menu for the cells ``ids``: Set class ▸ (with keys), Confirm, Delete."""
        image = self._image
        cells = [image.find(i) for i in ids] if image is not None else []
        cells = [c for c in cells if c is not None]
        if not cells:
            return None
        ids = [c.id for c in cells]
        menu = QMenu(self.window)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        classes = menu.addMenu("Set &class")
        current = {c.class_name for c in cells}
        for cell_class in self.window.session.dataset.classes:
            text = cell_class.display_name + (f"\t{cell_class.key}" if cell_class.key else "")
            action = classes.addAction(text)
            action.setObjectName(f"context_class_{cell_class.name}")
            action.setCheckable(True)
            action.setChecked(current == {cell_class.name})
            action.triggered.connect(lambda _c=False, name=cell_class.name: self.set_class(name, ids))
        confirm = menu.addAction(f"C&onfirm\t{self._keys('accept')}", lambda: self.confirm(ids))
        confirm.setEnabled(any(not c.reviewed for c in cells))
        menu.addSeparator()
        delete = menu.addAction(f"&Delete ({len(ids)})\tDel", lambda: self.delete(ids))
        if image.signed_off:  # locked: say so instead of offering changes that would be refused
            for entry in (classes.menuAction(), confirm, delete):
                entry.setEnabled(False)
            menu.addSeparator()
            menu.addAction("Signed off — withdraw the sign-off to change cells", self.sign_off)
        return menu

    def _keys(self, action: str) -> str:
        return self.window.acts[action].shortcut().toString()

    def show_context_menu(self, ids: list[str], global_pos: QPoint) -> None:
        self.menu = self.context_menu(ids)
        if self.menu is not None:
            self.menu.popup(global_pos)

    def delete(self, ids: list[str]) -> None:
        from bloodview.gui.commands import RemoveInstancesCommand

        found = self._current_group(ids).get(self.window.session.current_index)
        if found:
            session = self.window.session
            session.push(session.current_index, RemoveInstancesCommand(self._image, found))

    def delete_selected(self) -> None:
        self.delete(self.selected())

    def sign_off(self) -> bool:
        """Sign the image off, or withdraw its sign-off (both undoable and recorded with who/when).

        Refused while cells are unchecked; asks first when the image has no cells, and when
        cells overlap (one cell found twice), offering to merge them. The first sign-off or
        withdrawal of a session asks who is signing (:class:`Signer`); no name, no sign-off."""
        image, session = self._image, self.window.session
        if image is None:
            return False
        if image.signed_off:
            by = self._who("Sign-off not withdrawn")
            if not by:
                return False
            command = SignOffCommand(image, False, by)
            session.push(session.current_index, command)
            self._say(f"Sign-off of {image.image_path.name} withdrawn by {command.event.who}: "
                      "its cells can be changed again")
            return True
        if session.current_index in session.broken:  # nobody can have looked at it ("empty" was offered)
            self.window.canvas.notify(f"Cannot sign off: {image.image_path.name} cannot be read, so no one has "
                                      "seen it (File → Locate images… if it moved)")
            return False
        check = sign_off_check(image, self.window.threshold)
        if not check.ok:
            self.window.canvas.notify(f"Cannot sign off: {check.reason}")
            return False
        by = self._who("Not signed off")  # before the questions below: cancelling it changes nothing
        if not by:
            return False
        if not image.instances and not self.window.prompts.ask(
                self.window, "sign_off_empty", "No cells found",
                f"No cells found in {image.image_path.name} — sign it off as empty?", default=False):
            self._say("Not signed off: the image has no cells")
            return False
        overlaps = self.window.queue.overlaps_of(image)
        if overlaps:
            merge, anyway = "Merge, then sign off", "Sign off as they are"
            count = sum(len(o.drop) + 1 for o in overlaps)
            answer = self.window.prompts.choose(
                self.window, "sign_off_overlaps", "Overlapping cells",
                f"{count} cells in {len(overlaps)} place(s) overlap (IoU up to "
                f"{max(o.iou for o in overlaps):.2f}): probably the same cell found more than once, "
                "which would be counted more than once. Merge them (keeping the person-checked or "
                "highest-scoring one of each)?", [merge, anyway, "Cancel"], "Cancel")
            if answer == merge:
                self.merge_overlaps()
            elif answer != anyway:
                self._say("Not signed off: overlapping cells left as they are")
                return False
        command = SignOffCommand(image, True, by)
        session.push(session.current_index, command)
        self._say(f"{image.image_path.name} signed off by {command.event.who}")
        return True

    def _who(self, refused: str) -> str:
        """Who signs (asked the first time in a session); ``""`` and a message when nobody."""
        by = self.signer.who_signs(self.window)
        if not by:
            self._say(f"{refused}: type your name or initials when asked who is signing "
                      "(Review → Sign off as…)")
        return by

    def change_signer(self) -> None:
        """Review → Signing as …: ask who is signing from now on (the next person on the shift)."""
        if self.signer.ask(self.window):
            self.window.show_status(self.signer.describe())

    def merge_overlaps(self) -> int:
        """Drop all but the best cell of each overlapping group in the image on screen
        (one undo step); returns how many cells were dropped."""
        from bloodview.gui.commands import RemoveInstancesCommand

        image, session = self._image, self.window.session
        overlaps = self.window.queue.overlaps_of(image) if image is not None else []
        drop = [i for o in overlaps for i in o.drop]
        if not drop:
            self._say("No overlapping cells in this image")
            return 0
        text = f"Merge {len(drop) + len(overlaps)} overlapping cells into {len(overlaps)}"
        if not session.push(session.current_index, RemoveInstancesCommand(image, drop, text)):
            return 0
        self.window.select_cells([o.keep for o in overlaps], center=False)
        self._say(f"{text} (kept the person-checked or highest-scoring one)")
        return len(drop)

    def _say(self, text: str) -> None:
        """A message about the image on screen: it goes when another image is shown (after N the
        previous image's "signed off by …" stayed, as if it were about the next one)."""
        self.window.show_status(text, about=self.window.session.current_image)

    def step_image(self, step: int) -> None:
        session = self.window.session
        count = len(session.dataset.images)
        if count:
            session.set_current(min(max(session.current_index + step, 0), count - 1))

    def checked_fraction(self) -> tuple[int, int]:
        image = self._image
        if image is None:
            return 0, 0
        return sum(is_checked(i) for i in image.instances), len(image.instances)
