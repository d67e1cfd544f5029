"""One entry per image for the formats that key their files by image name.

A COCO file may list the same image twice (two exports merged, or an image
annotated in two batches), under two ids. COCO and the project keep both
entries, but VIA, MakeSense, LabelMe, VOC, YOLO and mask PNGs hold one record
per image name: the second entry overwrote the first, and its cells were lost
while convert reported them written. Before such a format is written, the
entries of one image are merged into one that holds all their cells.

LabelMe, VOC, YOLO and mask PNGs also name each file after its image without
the extension, so two images ``a.jpg`` and ``a.png`` would share ``a.json``:
that is refused, naming both, before anything is written; so are ``A.jpg`` and
``a.jpg`` (``A.json`` and ``a.json`` are two files on Linux, but one on the Windows PC
or Mac the export is copied to, where the second overwrote the first).
"""

from __future__ import annotations

import logging

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.errors import FormatError
from bloodview.io.image_lookup import name_key
from bloodview.io.paths import output_relative

log = logging.getLogger(__name__)

# Formats that write one file per image, named after the image's path without its extension.
FILE_PER_IMAGE = {"labelme": ".json", "voc": ".xml", "yolo": ".txt", "mask-png": ".png"}


def merge_repeated_images(dataset: Dataset) -> Dataset:
    """``dataset`` with one entry per image path, each holding the cells of all its entries.

    Returns ``dataset`` itself when no image repeats. The merged image keeps the first
    entry's split, label and scale; it counts as signed off only when every entry was.
    Raises :class:`FormatError` when the entries of one image give different sizes
    (their outlines cannot all be right).
    """
    groups: dict = {}
    for image in dataset.images:
        groups.setdefault(image.image_path, []).append(image)
    if len(groups) == len(dataset.images):
        return dataset
    merged = []
    for path, entries in groups.items():
        if len(entries) == 1:
            merged.append(entries[0])
            continue
        sizes = sorted({(e.width, e.height) for e in entries})
        if len(sizes) > 1:
            shown = " and ".join(f"{w}x{h}" for w, h in sizes)
            raise FormatError(None, f"image {path.as_posix()} is listed {len(entries)} times with different sizes "
                              f"({shown}); remove the wrong entries before converting")
        merged.append(_merged(entries))
        log.warning("image %s is listed %d times; its %d cells are written as one image's", path.as_posix(),
                    len(entries), len(merged[-1].instances))
    return Dataset(merged, dataset.classes, dataset.root)


def _merged(entries: list[ImageAnnotation]) -> ImageAnnotation:
    first = entries[0]
    return ImageAnnotation(
        first.image_path, first.width, first.height,
        [cell for entry in entries for cell in entry.instances],
        image_label=first.image_label, split=first.split,
        signed_off=all(entry.signed_off for entry in entries),
        sign_off_history=list(first.sign_off_history), pixel_size=first.pixel_size,
    )


def check_one_file_per_image(dataset: Dataset, fmt: str) -> None:
    """Refuse two images whose ``fmt`` files would be the same file (the second would overwrite
    the first, and its cells would be lost)."""
    suffix = FILE_PER_IMAGE.get(fmt)
    if suffix is None:
        return
    first: dict = {}
    for image in dataset.images:
        target = output_relative(image.image_path).with_suffix(suffix)
        other, other_target = first.setdefault(name_key(target.as_posix()), (image.image_path, target))
        if other != image.image_path:
            same_case = other_target == target
            shown = target.as_posix() if same_case else f"{other_target.as_posix()} and {target.as_posix()}"
            why = (f"{fmt} names each file after its image without the extension" if same_case else
                   "names differing only in letter case are one file on Windows and macOS")
            raise FormatError(None, f"images {other.as_posix()} and {image.image_path.as_posix()} would both be "
                              f"written to {shown} ({why}): rename one, or write coco or project")
