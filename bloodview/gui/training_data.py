"""Choosing and writing the images a retrain learns from (Qt-free).

"Reviewed" images (the default) are images with at least one cell where every
cell was checked by a person (drawn, corrected or confirmed) or that were signed
off; unreviewed model guesses never teach the next model. The set is written
as COCO via :mod:`bloodview.io.coco`, with image paths relative to ``images_root``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.gui.review import is_checked


def is_reviewed_image(image: ImageAnnotation) -> bool:
    if not image.instances:
        return False
    return image.signed_off or all(is_checked(i) for i in image.instances)


def training_images(
    dataset: Dataset, reviewed_only: bool = True, broken: Sequence[int] = ()
) -> list[ImageAnnotation]:
    skip = set(broken)
    return [
        image for index, image in enumerate(dataset.images)
        if index not in skip and image.instances and (not reviewed_only or is_reviewed_image(image))
    ]


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
