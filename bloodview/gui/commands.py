"""Every edit of an image's cells as one ``QUndoCommand`` on that image's ``QUndoStack``.

Commands change the *core* objects through :class:`ImageAnnotation` mutators
(``add``/``remove``/``replace``/``set_instances``), which notify listeners; the
canvas and the panels redraw from the core. Commands keep whole :class:`Instance`
objects (instances are replaced, never mutated in place), so undo restores the
exact arrays and provenance that were there before.

Provenance: a geometry or class edit by a person sets ``corrected=True`` on cells
that a model or the bootstrap segmenter made (``source`` and ``origin`` stay, so
"model X, corrected by a person" can be shown). Cells a person drew keep
``corrected`` as it was.

Continuous drags (vertex drag, move) push one :class:`ReplaceInstanceCommand`
per mouse move with the same ``merge_key``; Qt merges them into ONE undo step.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np
from PyQt6.QtGui import QUndoCommand

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.instance import Instance, Source

REPLACE_MERGE_ID = 0x62760001  # "bv" + 1: QUndoCommand.id() for mergeable geometry edits


def mark_corrected(instance: Instance) -> Instance:
    """``instance`` with ``corrected=True`` when a machine made it (same object otherwise)."""
    if instance.source != Source.HUMAN and not instance.corrected:
        return instance.copy(corrected=True)
    return instance


def _same_outline(a: Instance, b: Instance) -> bool:
    return a.class_name == b.class_name and len(a.polygons) == len(b.polygons) and all(
        pa.shape == pb.shape and np.array_equal(pa, pb) for pa, pb in zip(a.polygons, b.polygons)
    )


def _unchanged(old: Instance, new: Instance) -> bool:
    """``new`` is ``old`` again: same outline, class and every other field (id aside)."""
    return _same_outline(old, new) and (
        old.score, old.source, old.reviewed, old.box_only, old.quality, old.origin, old.corrected, old.extra
    ) == (new.score, new.source, new.reviewed, new.box_only, new.quality, new.origin, new.corrected, new.extra)


def _require(annotation: ImageAnnotation, instance_id: str) -> Instance:
    instance = annotation.find(instance_id)
    if instance is None:
        raise KeyError(f"no cell with id {instance_id!r} in {annotation.image_path.name}")
    return instance


class AddInstanceCommand(QUndoCommand):
    """Add one cell (drawn or painted by a person). Undo removes it."""

    def __init__(self, annotation: ImageAnnotation, instance: Instance, text: str | None = None):
        super().__init__(text or f"Add {instance.class_name}")
        self._annotation = annotation
        self._instance = instance

    @property
    def instance(self) -> Instance:
        return self._instance

    def redo(self) -> None:
        self._annotation.add(self._instance)

    def undo(self) -> None:
        self._annotation.remove(self._instance.id)


class RemoveInstancesCommand(QUndoCommand):
    """Delete cells by id; undo puts them back at their old positions in the list."""

    def __init__(self, annotation: ImageAnnotation, ids: Iterable[str], text: str | None = None):
        ids = list(dict.fromkeys(ids))
        super().__init__(text or (f"Delete {len(ids)} cells" if len(ids) != 1 else "Delete cell"))
        self._annotation = annotation
        self._ids = [i for i in ids if annotation.find(i) is not None]
        self._removed: list[tuple[int, Instance]] = []

    def redo(self) -> None:
        positions = sorted((self._annotation.index_of(i), i) for i in self._ids)
        self._removed = [(index, self._annotation.find(i)) for index, i in positions]
        for _, instance_id in reversed(positions):
            self._annotation.remove(instance_id)

    def undo(self) -> None:
        for index, instance in self._removed:
            self._annotation.add(instance, index)


class ReplaceInstanceCommand(QUndoCommand):
    """Replace a cell by a new version with the same id (outline edits).

    ``merge_key``: commands with equal non-``None`` keys pushed one after the other
    merge into one undo step (a whole drag). The tool makes a fresh key per drag.
    ``by_person`` marks model cells as ``corrected``. A replacement that equals the cell
    (outline, class, every other field) is born obsolete: pushing it changes nothing and adds
    no step.
    """

    def __init__(
        self,
        annotation: ImageAnnotation,
        new_instance: Instance,
        text: str = "Edit outline",
        merge_key: Hashable | None = None,
        by_person: bool = True,
    ):
        super().__init__(text)
        self._annotation = annotation
        self._old = _require(annotation, new_instance.id)
        self._new = mark_corrected(new_instance) if by_person else new_instance
        self._merge_key = merge_key
        if _unchanged(self._old, new_instance):
            # Nothing to change (a point on the image's edge pulled further out stays there):
            # Qt neither runs nor keeps an obsolete command, so no empty step and no
            # "corrected" mark; a drag's earlier step still merges it.
            self.setObsolete(True)

    @property
    def old_instance(self) -> Instance:
        return self._old

    @property
    def new_instance(self) -> Instance:
        return self._new

    def id(self) -> int:  # noqa: A003 - Qt's name
        return REPLACE_MERGE_ID if self._merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, ReplaceInstanceCommand) or other._merge_key != self._merge_key:
            return False
        if other._new.id != self._new.id or other._annotation is not self._annotation:
            return False
        self._new = other._new
        if _same_outline(self._old, self._new):
            # Dragged back to the start: no change is left, so no undo step either.
            self._annotation.replace(self._old)
            self.setObsolete(True)
        return True

    def redo(self) -> None:
        self._annotation.replace(self._new)

    def undo(self) -> None:
        self._annotation.replace(self._old)


class _ReplaceManyCommand(QUndoCommand):
    """Replace several cells at once by changed copies (one undo step)."""

    def __init__(self, annotation: ImageAnnotation, pairs: Sequence[tuple[Instance, Instance]], text: str):
        super().__init__(text)
        self._annotation = annotation
        self._pairs = [(old, new) for old, new in pairs if old is not new]

    @property
    def changed_count(self) -> int:
        return len(self._pairs)

    def redo(self) -> None:
        for _, new in self._pairs:
            self._annotation.replace(new)

    def undo(self) -> None:
        for old, _ in reversed(self._pairs):
            self._annotation.replace(old)


class ChangeClassCommand(_ReplaceManyCommand):
    """Give several cells one class; cells already of that class are left alone
    (:attr:`changed_count` 0: the caller pushes nothing, so no empty undo step).

    A machine cell keeps the class it was given in ``extra["model_class"]`` the
    first time a person changes it, so its score is never shown against the new class
    and "was Platelet 0.92" can be said. ``display_name`` is the undo text's name.
    """

    def __init__(self, annotation: ImageAnnotation, ids: Iterable[str], class_name: str,
                 display_name: str | None = None):
        pairs = []
        for instance_id in dict.fromkeys(ids):
            old = _require(annotation, instance_id)
            if old.class_name != class_name:
                new = mark_corrected(old.copy(class_name=class_name))
                if old.source != Source.HUMAN and "model_class" not in old.extra:
                    new.extra["model_class"] = old.class_name
                pairs.append((old, new))
        count = len(pairs)
        super().__init__(annotation, pairs,
                         f"Change {count} cell{'s' if count != 1 else ''} to {display_name or class_name}")


class SetReviewedCommand(_ReplaceManyCommand):
    """Mark cells as confirmed by a person (or take that back)."""

    def __init__(self, annotation: ImageAnnotation, ids: Iterable[str], reviewed: bool):
        pairs = []
        for instance_id in dict.fromkeys(ids):
            old = _require(annotation, instance_id)
            if old.reviewed != bool(reviewed):
                pairs.append((old, old.copy(reviewed=bool(reviewed))))
        verb = "Confirm" if reviewed else "Unconfirm"
        count = len(pairs)
        super().__init__(annotation, pairs, f"{verb} {count} cell{'s' if count != 1 else ''}")


class SetInstancesCommand(QUndoCommand):
    """Replace the whole cell list (e.g. merging new predictions); undo restores the old list."""

    def __init__(self, annotation: ImageAnnotation, instances: Iterable[Instance], text: str = "Replace cells"):
        super().__init__(text)
        self._annotation = annotation
        self._old = list(annotation.instances)
        self._new = list(instances)

    def redo(self) -> None:
        self._annotation.set_instances(self._new)

    def undo(self) -> None:
        self._annotation.set_instances(self._old)
