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

Part of the reviewed images is held out (``split: "val"``; :func:`held_out_images`):
``bloodview train`` keeps them out of training, and the Retrain dialog compares the
current and the new model on them (``heldout.json``), so "is the new model better?"
is answered on images neither model learnt from.
"""

from __future__ import annotations

import hashlib
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


def missing_images(dataset: Dataset, images: Sequence[ImageAnnotation]) -> list[ImageAnnotation]:
    """Those of ``images`` whose file is not there (deleted, moved, a share not connected) though the
    project still holds their cells. The Retrain dialog leaves them out and says so: the trainer would
    stop at the first one ("image file not found") after loading TensorFlow, and the person's other
    corrections would teach nothing."""
    return [image for image in images if not dataset.resolve_image(image).is_file()]


def unreviewed_images(dataset: Dataset, broken: Sequence[int] = ()) -> list[ImageAnnotation]:
    """Images with cells that are left out because some cell is not checked by a person."""
    skip = set(broken)
    return [image for index, image in enumerate(dataset.images)
            if index not in skip and image.instances and not is_reviewed_image(image)]


HOLD_OUT_FROM = 5  # reviewed images needed before any is held out (fewer: every one trains)
HOLD_OUT_SHARE = 0.2


def held_out_images(images: Sequence[ImageAnnotation]) -> list[ImageAnnotation]:
    """The images kept back from training to compare models on (a deterministic choice).

    The images the user marked ``val`` when there are any; else, from
    :data:`HOLD_OUT_FROM` images on, about :data:`HOLD_OUT_SHARE` of them (at
    least 1): those whose file name hashes lowest. Hashing the name, not taking
    every fifth image, keeps the same images held out when more are reviewed
    later, so a model is not judged on images an earlier model trained on.
    """
    marked = [i for i in images if i.split == "val"]
    if marked or len(images) < HOLD_OUT_FROM:
        return marked
    count = max(1, round(HOLD_OUT_SHARE * len(images)))
    ranked = sorted(images, key=lambda i: (_name_hash(i), i.image_path.as_posix()))
    chosen = {id(i) for i in ranked[:count]}
    return [i for i in images if id(i) in chosen]


def _name_hash(image: ImageAnnotation) -> str:
    return hashlib.sha256(image.image_path.as_posix().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TrainingSet:
    """``coco`` holds every image (held-out ones with ``split: "val"``); ``held_out`` only those."""

    coco: Path
    images_root: Path
    image_count: int
    cell_count: int
    held_out: Path | None = None  # None when no image is held out
    held_out_images: int = 0
    held_out_cells: int = 0


def write_training_set(dataset: Dataset, images: Sequence[ImageAnnotation], folder: Path,
                       held_out: Sequence[ImageAnnotation] = ()) -> TrainingSet:
    """Write ``images`` as ``folder/train.json`` (COCO), ``held_out`` (a subset) also as ``heldout.json``.

    Image paths are relative to the returned ``images_root``. The user's images
    are not changed: the ``val`` split is set on copies.
    """
    from bloodview.io.coco import save_coco

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    absolute = [dataset.resolve_image(i) for i in images]
    root = Path(dataset.root) if dataset.root is not None else _common_root(absolute)
    keep_back = {id(i) for i in held_out}
    copies = [
        ImageAnnotation(_relative(path, root), i.width, i.height, [c.copy() for c in i.instances],
                        i.image_label, "val" if id(i) in keep_back else i.split, i.signed_off,
                        pixel_size=i.pixel_size)
        for path, i in zip(absolute, images)
    ]
    coco = folder / "train.json"
    save_coco(Dataset(copies, dataset.classes, root), coco)
    held = [copy for copy, i in zip(copies, images) if id(i) in keep_back]
    held_coco = None
    if held:
        held_coco = folder / "heldout.json"
        save_coco(Dataset(held, dataset.classes, root), held_coco)
    return TrainingSet(coco, root, len(copies), sum(len(i.instances) for i in copies),
                       held_coco, len(held), sum(len(i.instances) for i in held))


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
