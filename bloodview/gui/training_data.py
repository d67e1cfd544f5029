"""Choosing and writing the images a retrain learns from (Qt-free).

A retrain learns only from *reviewed* images: images with at least one cell
where every cell was checked by a person in this project (drawn, corrected or
confirmed; :func:`bloodview.gui.review.is_checked`), or imported from a file the
user marked as reviewed (``bloodview convert --reviewed``). A sign-off alone is
not enough: a cell imported or detected into a signed-off image is not checked,
and an image with one unchecked cell is left out whole (dropping just that cell
would teach the model that it is background). Unreviewed model guesses and
unreviewed imports never teach the next model. The set is written as COCO via
:mod:`bloodview.io.coco`, with image paths relative to ``images_root``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.gui.review import is_checked


def is_reviewed_image(image: ImageAnnotation) -> bool:
    """At least one cell, and every cell checked by a person (see the module doc)."""
    return bool(image.instances) and all(is_checked(i) for i in image.instances)


def training_images(dataset: Dataset, broken: Sequence[int] = ()) -> list[ImageAnnotation]:
    """The reviewed images of ``dataset``, leaving out those at the ``broken`` indices."""
    skip = set(broken)
    return [image for index, image in enumerate(dataset.images)
            if index not in skip and is_reviewed_image(image)]


def unreviewed_images(dataset: Dataset, broken: Sequence[int] = ()) -> list[ImageAnnotation]:
    """Images with cells that are left out because some cell is not checked by a person."""
    skip = set(broken)
    return [image for index, image in enumerate(dataset.images)
            if index not in skip and image.instances and not is_reviewed_image(image)]


@dataclass(frozen=True)
class TrainingSet:
    coco: Path
    images_root: Path
    image_count: int
    cell_count: int


def write_training_set(dataset: Dataset, images: Sequence[ImageAnnotation], folder: Path) -> TrainingSet:
    """Write ``images`` as ``folder/train.json`` (COCO); image paths made absolute-safe."""
    from bloodview.io.coco import save_coco

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    absolute = [dataset.resolve_image(i) for i in images]
    root = Path(dataset.root) if dataset.root is not None else _common_root(absolute)
    copies = [
        ImageAnnotation(_relative(path, root), i.width, i.height, [c.copy() for c in i.instances],
                        i.image_label, i.split, i.signed_off)
        for path, i in zip(absolute, images)
    ]
    subset = Dataset(copies, dataset.classes, root)
    coco = folder / "train.json"
    save_coco(subset, coco)
    return TrainingSet(coco, root, len(copies), sum(len(i.instances) for i in copies))


def _common_root(paths: Sequence[Path]) -> Path:
    import os

    if not paths:
        return Path.cwd()
    return Path(os.path.commonpath([str(p.parent) for p in paths]))


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path
