"""What to segment: work items from a class-folder data set or from box annotations.

Class folders (PBC layout): ``INPUT/<class>/<image>``; ``INPUT/manifest.csv``
(``file,class,split``) gives splits when present. (Not
:func:`bloodview.io.class_folders.load_class_folders`: it reads every image
header up front, so one corrupt file would stop the whole run, and it does not
count the files it skips; here each file is judged when it is segmented.) Folder names are resolved
against the class catalogue (aliases such as ``platelets`` work); unknown names
stop the run with a message listing the known classes unless they were added
with ``--classes``. Files that are not images are counted and skipped. Folders
are chosen as ``bloodview info`` chooses them: hidden ones (``.git``,
``__MACOSX``: names starting with ``.`` or ``_``) are ignored, and a folder with
no image file in it (an empty class folder) is skipped with a note in
:attr:`InputScan.skipped_folders` before its name is judged, so an empty
``empty/`` cannot stop a run that ``info`` reads.

Boxes: any box file/folder that :mod:`bloodview.io` reads (Pascal VOC folder or
XML, COCO JSON, YOLO); each box becomes one :class:`BoxItem` target.

Paths in items are absolute; ``image_path`` of the output is relative to the
input root.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bloodview.core.annotation import Dataset
from bloodview.core.classes import ClassCatalogue
from bloodview.errors import FormatError, UnknownClassError
from bloodview.io.class_folders import MANIFEST, read_manifest
from bloodview.io.images import IMAGE_SUFFIXES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkItem:
    """One image to segment: its file, the path to store, class, split, boxes.

    ``boxes`` is empty for class-folder images (segment the centred cell), else
    a tuple of ``(class_name, (x1, y1, x2, y2))`` in image pixels.
    """

    path: Path
    relative: Path
    class_name: str | None
    split: str | None = None
    boxes: tuple[tuple[str, tuple[float, float, float, float]], ...] = ()


@dataclass
class InputScan:
    """``skipped_files``: reason -> count; ``skipped_folders``: class folders with no image file."""

    items: list[WorkItem]
    classes: ClassCatalogue
    root: Path
    skipped_files: Counter[str] = field(default_factory=Counter)
    skipped_folders: list[Path] = field(default_factory=list)


def scan_class_folders(root: str | Path, classes: ClassCatalogue, extra_classes: list[str] = ()) -> InputScan:
    """Items for every image in ``root/<class>/`` (see module doc)."""
    root = Path(root)
    if not root.is_dir():
        raise FormatError(root, "is not a folder (expected class folders such as basophil/, platelet/)")
    for name in extra_classes:
        classes.add(name.strip())
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if not folders:
        raise FormatError(root, "holds no class folders (expected e.g. basophil/, platelet/ with images inside)")
    empty = [folder for folder in folders if not _holds_images(folder)]
    for folder in empty:
        log.info("%s: no image files; folder skipped", folder)
    folders = [folder for folder in folders if folder not in empty]
    names: dict[Path, str] = {}
    for folder in folders:
        try:
            names[folder] = classes.resolve(folder.name)
        except UnknownClassError as exc:
            raise UnknownClassError(folder.name, classes.names, folder).with_traceback(None) from exc
    splits = read_manifest(root / MANIFEST)
    scan = InputScan([], classes, root, skipped_folders=empty)
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                scan.skipped_files["not an image"] += 1
                log.debug("%s: not an image file; skipped", path)
                continue
            relative = path.relative_to(root)
            split = splits.get((folder.name, path.name)) or splits.get(("", path.name))
            scan.items.append(WorkItem(path, relative, names[folder], split))
    if not scan.items:
        raise FormatError(root, "holds no image files in its class folders")
    return scan


def _holds_images(folder: Path) -> bool:
    """Whether ``folder`` (or a sub-folder) holds an image file the scan would take."""
    return any(path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and path.is_file()
               for path in folder.rglob("*"))


def scan_boxes(source: str | Path, images: str | Path | None, classes: ClassCatalogue) -> InputScan:
    """Items (one per image, with its boxes) from a box annotation file or folder."""
    dataset = _load_boxes(Path(source), Path(images) if images else None, classes)
    scan = InputScan([], dataset.classes, dataset.root or Path(source).parent)
    for image in dataset.images:
        boxes = tuple((inst.class_name, inst.bbox) for inst in image.instances)
        path = dataset.resolve_image(image)
        if not path.is_file():
            scan.skipped_files["image missing"] += 1
            log.warning("%s: image file not found; its %d boxes are skipped", path, len(boxes))
            continue
        scan.items.append(WorkItem(path, image.image_path, image.image_label, image.split, boxes))
    if not scan.items:
        raise FormatError(source, "names no image that exists on disk")
    return scan


def _load_boxes(source: Path, images: Path | None, classes: ClassCatalogue) -> Dataset:
    """Boxes in any format :mod:`bloodview.io.detect` knows; unknown box classes follow
    each format's rule (VOC/YOLO add them, e.g. ``RBC`` -> ``rbc``; COCO refuses
    them unless given with ``--classes``)."""
    from bloodview.io.detect import load_annotations

    return load_annotations(source, images=images, classes=classes)
