"""Class-per-folder image sets (PBC): ``<root>/<class>/<image>`` plus an optional manifest.

Each image becomes an :class:`ImageAnnotation` with ``image_label`` = the folder's
class (one centred cell of that class; no outlines) and ``split`` from
``manifest.csv`` (columns ``file,class,split``) when present. Folder names are
matched to the catalogue (``Platelets`` -> ``platelet``, ...); an unknown folder
name raises :class:`UnknownClassError` listing the known classes unless
``add_unknown_classes``. Hidden folders (``.git``, ``__MACOSX``-style names
starting with ``.`` or ``_``) are ignored. Image sizes are read from the file
headers (no decoding); an image whose header cannot be read is skipped with a
logged warning naming it.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.errors import FormatError, ImageError
from bloodview.io.images import list_images, read_image_size
from bloodview.io.labels import ClassResolver

log = logging.getLogger(__name__)

MANIFEST = "manifest.csv"


def class_subfolders(root: Path) -> list[Path]:
    """Sub-folders that hold images directly (the class folders), sorted."""
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    except PermissionError as exc:
        raise FormatError(root, "folder cannot be read (permission denied)") from exc
    return [f for f in folders if list_images(f, recursive=False)]


def load_class_folders(
    root: str | Path,
    classes: ClassCatalogue | None = None,
    add_unknown_classes: bool = False,
) -> Dataset:
    """Read ``root/<class>/*`` images as class-labelled images (see module doc)."""
    root = Path(root)
    if not root.is_dir():
        raise FormatError(root, "is not a folder")
    folders = class_subfolders(root)
    if not folders:
        raise FormatError(root, "has no class sub-folders with images")
    classes = classes if classes is not None else ClassCatalogue.pbc()
    resolver = ClassResolver(classes, add_unknown_classes, root)
    splits = read_manifest(root / MANIFEST)
    images = []
    for folder in folders:
        class_name = resolver(folder.name)
        for file in list_images(folder, recursive=False):
            try:
                width, height = read_image_size(file)
            except ImageError as exc:  # one damaged file must not hide the other 17,000
                log.warning("%s; skipped", exc)
                continue
            split = splits.get((folder.name, file.name)) or splits.get(("", file.name))
            images.append(ImageAnnotation(file.relative_to(root), width, height, image_label=class_name, split=split))
    return Dataset(images, classes, root)


def read_manifest(path: Path) -> dict[tuple[str, str], str]:
    """``(class folder, file name) -> split`` from ``file,class,split`` rows (empty if absent)."""
    if not path.is_file():
        return {}
    splits: dict[tuple[str, str], str] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "file" not in reader.fieldnames or "split" not in reader.fieldnames:
            raise FormatError(path, f"needs the columns file,class,split; found {reader.fieldnames}")
        for row in reader:
            if row.get("file") and row.get("split"):
                name = Path(row["file"].replace("\\", "/")).name
                splits[(row.get("class") or "", name)] = row["split"].strip()
    return splits
