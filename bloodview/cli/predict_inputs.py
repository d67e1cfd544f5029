"""Which images ``bloodview predict`` reads, and the name each gets in the file it writes.

The rule, so that one ``--images FOLDER`` finds every image of the file written:

* one folder: its images are named relative to it (``Image001.jpg``,
  ``slide 3/Image001.jpg``);
* several folders (with or without files): every image is named relative to the
  inputs' common folder (``predict day1 day2`` writes ``day1/Image001.jpg`` and
  ``day2/Image001.jpg``; open with ``--images`` that folder). Named relative to
  its own folder, each folder's images needed an ``--images`` of their own, which
  no reader takes, even when no two names collided;
* files alone: each keeps the name it was given, unless that name would not read
  back: bloodview refuses file names that are absolute or climb out with ``..``
  (:mod:`bloodview.io.paths`), so those are named relative to the working folder
  when inside it, else by their bare file name. When two different images would
  then get the same name, every image is named relative to the inputs' common
  folder instead: a file whose names cannot tell its images apart has lost which
  cells belong to which image.

The same file reached twice (a folder and a file in it) is read once. A folder's
mask PNGs kept beside their images (the Zheng layout, ``convert --to mask-png``
into the images folder) are left out.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

from bloodview.errors import ImageError


def collect_images(inputs: list[Path]) -> list[tuple[Path, Path]]:
    """``(file to read, name to write)`` for each image of ``inputs`` (files and folders), in order."""
    from bloodview.io.images import IMAGE_SUFFIXES, is_image_file, list_images

    kinds = ", ".join(sorted(IMAGE_SUFFIXES))

    found: list[tuple[Path, Path]] = []
    homes: list[Path] = []  # the folder each input lies in (a folder input: itself)
    for item in inputs:
        if item.is_dir():
            images = _without_masks(list_images(item))
            if not images:
                raise ImageError(item, f"folder holds no images ({kinds})")
            found.extend((path, path.relative_to(item)) for path in images)
            homes.append(_absolute(item))
        elif item.is_file():
            if not is_image_file(item):
                raise ImageError(item, f"is not an image file ({kinds})")
            found.append((item, _name_of_file(item)))
            homes.append(_absolute(item).parent)
        else:
            raise ImageError(item, "no such file or folder")
    found = _once_each(found)
    names = [name for _, name in found]
    folders = sum(item.is_dir() for item in inputs)
    if folders > 1 or len(set(names)) < len(names):
        common = Path(os.path.commonpath([str(home) for home in homes]))
        found = [(path, Path(os.path.relpath(_absolute(path), common))) for path, _ in found]
        why = f"images from {folders} folders" if folders > 1 else "images in different folders share file names"
        print(f"{why}: each is named relative to {common} (open the file with --images {common})", file=sys.stderr)
    return found


def _without_masks(images: list[Path]) -> list[Path]:
    """``images`` less the mask PNGs kept beside their images (Zheng: ``001.png`` beside ``001.bmp``;
    ``a_mask.png`` beside ``a.jpg``): a mask is no smear to find cells in."""
    from bloodview.io.mask_png import MASK_SUFFIXES, looks_like_mask

    stems = Counter((path.parent, path.stem) for path in images)
    masks = set()
    for path in images:
        if path.suffix.lower() != ".png":
            continue
        owner = next((path.stem[: -len(s)] for s in MASK_SUFFIXES if path.stem.endswith(s)), None)
        beside = stems[(path.parent, path.stem)] > 1 or (path.parent, owner) in stems
        if beside and looks_like_mask(path):
            masks.add(path)
    if masks:
        print(f"{len(masks)} mask file(s) beside their images left out (first: {min(masks)})", file=sys.stderr)
    return [path for path in images if path not in masks]


def _name_of_file(path: Path) -> Path:
    """The name of a file given on its own: as given, when bloodview can read that name back."""
    if not path.is_absolute() and ".." not in path.parts:
        return path
    cwd = Path.cwd()
    absolute = _absolute(path)
    try:
        return absolute.relative_to(cwd)
    except ValueError:
        return Path(absolute.name)


def _once_each(found: list[tuple[Path, Path]]) -> list[tuple[Path, Path]]:
    """``found`` without a second entry for a file already there (by its absolute path)."""
    seen: set[Path] = set()
    kept = []
    for path, name in found:
        key = _absolute(path)
        if key not in seen:
            seen.add(key)
            kept.append((path, name))
    return kept


def _absolute(path: Path) -> Path:
    """Absolute, with ``..`` folded (not :meth:`Path.resolve`: a linked folder keeps its own name)."""
    return Path(os.path.abspath(path))
