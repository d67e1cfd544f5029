"""The annotations of one image, and a dataset of many images."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bloodview.core.classes import ClassCatalogue
from bloodview.core.events import Observable
from bloodview.core.instance import Instance


@dataclass(eq=False)
class ImageAnnotation(Observable):
    """One image and its cells.

    ``image_path`` is as the source gave it (relative to the dataset root when the
    dataset has one). ``image_label`` is an image-level class for class-only data
    such as PBC folders (one centred cell of that class). ``split`` is ``"train"``,
    ``"val"``, ``"test"`` or ``None``. ``signed_off`` records that a person
    approved the whole image.

    Mutate instances through the methods below so listeners (the GUI) hear of it.
    """

    image_path: Path
    width: int
    height: int
    instances: list[Instance] = field(default_factory=list)
    image_label: str | None = None
    split: str | None = None
    signed_off: bool = False

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

    def set_signed_off(self, value: bool) -> None:
        self.signed_off = bool(value)
        self._notify("signed_off", value)


@dataclass(eq=False)
class Dataset:
    """Images, their annotations and the class catalogue they use.

    ``root`` is the folder image paths are relative to (``None`` when they are
    absolute or the images are not on disk).
    """

    images: list[ImageAnnotation] = field(default_factory=list)
    classes: ClassCatalogue = field(default_factory=ClassCatalogue.pbc)
    root: Path | None = None

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
