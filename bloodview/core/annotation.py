"""The annotations of one image, and a dataset of many images."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bloodview.core.classes import ClassCatalogue
from bloodview.core.events import Observable
from bloodview.core.instance import Instance
from bloodview.core.measure import SOURCE_GIVEN, CellSize, PixelSize, cell_size


@dataclass(frozen=True)
class SignOffEvent:
    """One sign-off (``signed_off=True``) or withdrawal (``False``) of an image: who and when.

    ``by`` is the name the person gave when signing (or ``$BLOODVIEW_USER``, or the login
    name); ``login`` is the computer's login it was done under, kept beside it because a
    lab's bench PC has one login for the whole shift: "A. Smith" says who, "labuser" says
    where. ``login`` is ``""`` in records written before it was kept. ``at`` is an ISO 8601
    UTC time. Kept in :attr:`ImageAnnotation.sign_off_history`, oldest first, so a lab can
    see who approved an image and who took that back.
    """

    signed_off: bool
    by: str
    at: str
    login: str = ""

    @classmethod
    def now(cls, signed_off: bool, by: str, login: str = "") -> SignOffEvent:
        return cls(bool(signed_off), str(by), datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   str(login))

    def to_dict(self) -> dict[str, Any]:
        """``login`` only when known, so records without it are written as before."""
        record: dict[str, Any] = {"signed_off": self.signed_off, "by": self.by, "at": self.at}
        if self.login:
            record["login"] = self.login
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> SignOffEvent:
        """Raises ``KeyError``/``TypeError`` on a damaged record (the reader names the file)."""
        login = record.get("login")
        return cls(bool(record["signed_off"]), str(record["by"]), str(record["at"]),
                   "" if login is None else str(login))

    @property
    def who(self) -> str:
        """``by`` for people: ``"A. Smith (login labuser)"``, just ``"labuser"`` when the name
        is the login (or the login is not known)."""
        if self.login and self.login != self.by:
            return f"{self.by} (login {self.login})"
        return self.by

    @property
    def verb(self) -> str:
        return "signed off" if self.signed_off else "sign-off withdrawn"


@dataclass(eq=False)
class ImageAnnotation(Observable):
    """One image and its cells.

    ``image_path`` is as the source gave it (relative to the dataset root when the
    dataset has one). ``image_label`` is an image-level class for class-only data
    such as PBC folders (one centred cell of that class). ``split`` is ``"train"``,
    ``"val"``, ``"test"`` or ``None``. ``signed_off`` records that a person
    approved the whole image; ``sign_off_history`` who signed it off or withdrew
    that, and when (empty for files written before it was kept). ``pixel_size``
    is the image's scale (µm per pixel and its source) when known.

    Mutate instances through the methods below so listeners (the GUI) hear of it.
    """

    image_path: Path
    width: int
    height: int
    instances: list[Instance] = field(default_factory=list)
    image_label: str | None = None
    split: str | None = None
    signed_off: bool = False
    sign_off_history: list[SignOffEvent] = field(default_factory=list)
    pixel_size: PixelSize | None = None

    def __post_init__(self) -> None:
        self.image_path = Path(self.image_path)
        self.width = int(self.width)
        self.height = int(self.height)

    # --- look-ups -------------------------------------------------------
    def __iter__(self) -> Iterator[Instance]:
        return iter(self.instances)

    def __len__(self) -> int:
        return len(self.instances)

    def find(self, instance_id: str) -> Instance | None:
        return next((i for i in self.instances if i.id == instance_id), None)

    def index_of(self, instance_id: str) -> int:
        for index, instance in enumerate(self.instances):
            if instance.id == instance_id:
                return index
        raise KeyError(instance_id)

    @property
    def reviewed_count(self) -> int:
        return sum(1 for i in self.instances if i.reviewed)

    def class_counts(self) -> Counter[str]:
        return Counter(i.class_name for i in self.instances)

    @property
    def pixel_size_um(self) -> float | None:
        """µm per pixel when given or measured; ``None`` when unknown or only the model's guess."""
        return self.pixel_size.um_per_pixel if self.pixel_size is not None and self.pixel_size.measured else None

    @pixel_size_um.setter
    def pixel_size_um(self, value: float | None) -> None:
        """A pixel size the user gives for this image (``None`` clears the record)."""
        self.set_pixel_size(None if value is None else PixelSize(value, SOURCE_GIVEN))

    def cell_size(self, instance: Instance) -> CellSize | None:
        """``instance``'s area (µm²) and equivalent diameter (µm); ``None`` while the scale is unknown
        (or only the model's guess)."""
        um_per_pixel = self.pixel_size_um
        return None if um_per_pixel is None else cell_size(instance.area, um_per_pixel)

    # --- mutations (notify listeners) ----------------------------------
    def add(self, instance: Instance, index: int | None = None) -> None:
        if index is None:
            self.instances.append(instance)
        else:
            self.instances.insert(index, instance)
        self._notify("instance_added", instance)

    def remove(self, instance_id: str) -> Instance:
        instance = self.instances.pop(self.index_of(instance_id))
        self._notify("instance_removed", instance)
        return instance

    def replace(self, instance: Instance) -> Instance:
        """Put ``instance`` where the one with the same id is; return the old one."""
        index = self.index_of(instance.id)
        old = self.instances[index]
        self.instances[index] = instance
        self._notify("instance_changed", instance)
        return old

    def set_instances(self, instances: Iterable[Instance]) -> None:
        self.instances = list(instances)
        self._notify("instances_reset", None)

    def set_pixel_size(self, value: PixelSize | None) -> None:
        if value != self.pixel_size:
            self.pixel_size = value
            self._notify("pixel_size", value)

    def set_signed_off(self, value: bool) -> None:
        self.signed_off = bool(value)
        self._notify("signed_off", value)

    def apply_sign_off(self, event: SignOffEvent) -> None:
        """Sign off or withdraw as ``event`` says, and record it."""
        self.sign_off_history.append(event)
        self.set_signed_off(event.signed_off)

    def retract_sign_off(self, event: SignOffEvent, previous: bool) -> None:
        """Undo :meth:`apply_sign_off`: drop ``event`` from the record, back to ``previous``."""
        for index in range(len(self.sign_off_history) - 1, -1, -1):
            if self.sign_off_history[index] is event:
                del self.sign_off_history[index]
                break
        self.set_signed_off(previous)

    @property
    def last_sign_off(self) -> SignOffEvent | None:
        return self.sign_off_history[-1] if self.sign_off_history else None


@dataclass(eq=False)
class Dataset:
    """Images, their annotations and the class catalogue they use.

    ``root`` is the folder image paths are relative to (``None`` when they are
    absolute or the images are not on disk).
    """

    images: list[ImageAnnotation] = field(default_factory=list)
    classes: ClassCatalogue = field(default_factory=ClassCatalogue.pbc)
    root: Path | None = None
    # Images a reader found elsewhere than their file recorded, as (recorded, found) pairs, not yet
    # told to the user: the window says them once (bloodview.io.image_lookup.find_moved_on_read).
    moved_on_read: list[tuple[Path, Path]] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.root is not None:
            self.root = Path(self.root)

    def __iter__(self) -> Iterator[ImageAnnotation]:
        return iter(self.images)

    def __len__(self) -> int:
        return len(self.images)

    def resolve_image(self, image: ImageAnnotation) -> Path:
        """Absolute path of an image's file."""
        if image.image_path.is_absolute() or self.root is None:
            return image.image_path
        return self.root / image.image_path

    def find(self, image_path: str | Path) -> ImageAnnotation | None:
        target = Path(image_path)
        for image in self.images:
            if image.image_path == target:
                return image
        for image in self.images:
            if image.image_path.name == target.name:
                return image
        return None

    def split(self, name: str) -> list[ImageAnnotation]:
        return [i for i in self.images if i.split == name]

    @property
    def instance_count(self) -> int:
        return sum(len(i.instances) for i in self.images)

    def class_counts(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for image in self.images:
            total.update(image.class_counts())
        return total

    def image_label_counts(self) -> Counter[str]:
        return Counter(i.image_label for i in self.images if i.image_label is not None)

    def reviewed_count(self) -> int:
        return sum(i.reviewed_count for i in self.images)
