"""Sign-off as a lock: a signed-off image refuses every change until the sign-off is withdrawn.

The lock sits at the one place every change of an image's cells passes: the image's
undo stack (:class:`ImageUndoStack`). Class keys, delete, outline and brush edits,
drawing, import, detection results and overlap merges are all commands pushed there,
so none of them can reach a signed-off image, whichever tool or menu sent it; the
stack refuses the command and says why (``refused``). Undo and redo are not pushes:
the only command above a sign-off is the sign-off itself, so undoing it withdraws it.

Signing off and withdrawing are :class:`SignOffCommand`\\ s, recorded with who (the
name given, :mod:`bloodview.gui.signer`, and the computer's login) and when in
:attr:`ImageAnnotation.sign_off_history`.
"""

from __future__ import annotations

import os

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QUndoCommand, QUndoStack

from bloodview.core.annotation import ImageAnnotation, SignOffEvent
from bloodview.gui.signer import clean_name, login_name


def current_user() -> str:
    """Who signs when nobody was asked (recovery, scripts): ``$BLOODVIEW_USER`` when set,
    else the login name. The window asks the person instead (:class:`bloodview.gui.signer.Signer`)."""
    return clean_name(os.environ.get("BLOODVIEW_USER", "")) or login_name()


def locked_message(image: ImageAnnotation) -> str:
    """The sentence shown when a change of a signed-off image is refused."""
    last = image.last_sign_off
    who = f" by {last.by}" if last is not None and last.signed_off else ""
    return (f"{image.image_path.name} is signed off{who}: nothing in it can change. "
            "Withdraw the sign-off first (Review → Sign off image, Ctrl+Enter).")


class SignOffCommand(QUndoCommand):
    """Sign an image off (``value=True``) or withdraw the sign-off, with who and when.

    Undo takes the record back out (the step did not happen); redo puts it back.
    """

    def __init__(self, image: ImageAnnotation, value: bool, by: str | None = None):
        super().__init__("Sign off image" if value else "Withdraw sign-off")
        self._image, self._old = image, image.signed_off
        self.event = SignOffEvent.now(value, by or current_user(), login_name())

    def redo(self) -> None:
        self._image.apply_sign_off(self.event)

    def undo(self) -> None:
        self._image.retract_sign_off(self.event, self._old)


class ImageUndoStack(QUndoStack):
    """One image's undo stack that refuses every change but a :class:`SignOffCommand`
    while the image is signed off.

    A command that declares ``changes_cells = False`` (taking *another* image out of the
    project, which lands on the stack of the image shown next) leaves this image as it
    is, so it is let through."""

    refused = pyqtSignal(str)

    def __init__(self, image: ImageAnnotation, parent: QObject | None = None):
        super().__init__(parent)
        self.image = image

    def push(self, command: QUndoCommand) -> bool:  # type: ignore[override]
        """Push ``command``; ``False`` (and ``refused`` emitted) when the image is locked."""
        if self.image.signed_off and not isinstance(command, SignOffCommand) \
                and getattr(command, "changes_cells", True):
            self.refused.emit(locked_message(self.image))
            return False
        super().push(command)
        return True
