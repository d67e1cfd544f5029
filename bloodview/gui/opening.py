"""Turning what the user opened (paths) into a :class:`Dataset` (Qt-free).

Accepted: image files, a folder of images, a project folder (or its
``project.json``), or an annotation file in a format :mod:`bloodview.io.detect`
recognises (COCO, MakeSense VGG/VIA or COCO, LabelMe). Images whose header
cannot be read are still listed, with their error in ``OpenResult.broken`` (the
rest of the set works); annotation files that cannot be parsed raise the io
layer's :class:`FormatError` and nothing is loaded. Multi-page TIFFs, of which
only one page is read, are named in ``OpenResult.warnings`` (:func:`unread_pages`).

An annotation file need not lie beside its images: given an
:class:`ImagesFolder`, the folder remembered for that file is tried, then the
user is asked where the images are (VIA files, which do not store image sizes,
cannot be opened at all without them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.errors import BloodviewError, FormatError, ImageError

log = logging.getLogger(__name__)

PROJECT_FILE = "project.json"
ANNOTATION_SUFFIXES = (".json", ".xml")
"""Files opened as annotations: JSON (COCO, MakeSense, VIA, LabelMe) and XML (CVAT, Pascal VOC)."""


@dataclass
class OpenResult:
    """What was opened. ``broken`` maps image index -> one-sentence error."""

    dataset: Dataset
    kind: str  # "images" | "folder" | "project" | "annotations"
    project_path: Path | None = None
    sources: list[Path] = field(default_factory=list)
    broken: dict[int, str] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)  # a project's saved settings
    warnings: list[str] = field(default_factory=list)  # what opening it found wrong but got past


@dataclass
class ImagesFolder:
    """Where an annotation file's images are when they are not beside it.

    ``remembered(file)`` gives the folder used last time for ``file`` (or None);
    ``ask(file, why)`` asks the user (None: they cancelled).
    """

    remembered: Callable[[Path], Path | None] = lambda _file: None
    ask: Callable[[Path, str], Path | None] = lambda _file, _why: None


def open_paths(paths: Sequence[str | Path], images_folder: ImagesFolder | None = None) -> OpenResult:
    """Open ``paths`` (see module doc). Raises :class:`BloodviewError` on bad input."""
    result = _open_paths(paths, images_folder)
    result.warnings += unread_pages(result)
    return result


# Up to this many multi-page TIFFs are named one sentence each; more are said in one.
PAGES_NAMED = 3


def unread_pages(result: OpenResult) -> list[str]:
    """Warnings for the opened TIFFs holding more full-size pages than the one read (z-stacks, several
    fields in one file): their other fields' cells are not found, which a log line alone would hide."""
    from bloodview.io.images import multi_page_warning

    dataset = result.dataset
    notes: list[tuple[str, str]] = []  # (file name, its warning)
    for index, image in enumerate(dataset.images):
        note = multi_page_warning(dataset.resolve_image(image)) if index not in result.broken else ""
        if note:
            notes.append((image.image_path.name, note))
    if len(notes) <= PAGES_NAMED:
        return [note for _name, note in notes]
    names = ", ".join(name for name, _note in notes[:PAGES_NAMED])
    return [f"{len(notes)} images are multi-page TIFFs (a z-stack or several fields in one file): only the "
            f"first full-size page of each is read ({names} and {len(notes) - PAGES_NAMED} more). Save each "
            "field as its own file to find the cells of the others."]


def _open_paths(paths: Sequence[str | Path], images_folder: ImagesFolder | None) -> OpenResult:
    paths = [Path(p).expanduser().resolve() for p in paths]
    if not paths:
        raise FormatError(None, "nothing to open")
    for path in paths:
        if not path.exists():
            raise FormatError(path, "no such file or folder")
    if len(paths) == 1:
        path = paths[0]
        if path.is_dir() and (path / PROJECT_FILE).is_file():
            return open_project(path)
        if path.is_file() and path.name == PROJECT_FILE:
            return open_project(path.parent)
        if path.is_dir():
            return open_folder(path)
        if path.suffix.lower() in ANNOTATION_SUFFIXES:
            return open_annotations_anywhere(path, images_folder or ImagesFolder())
    from bloodview.io.images import is_image_file

    not_images = [p for p in paths if not (p.is_file() and is_image_file(p))]
    if not_images:
        raise FormatError(not_images[0], "open one folder, one annotation file or image files")
    return _from_image_paths(paths, root=None, kind="images")


# folder formats whose annotations come with the images when a folder is opened
FOLDER_FORMATS = ("labelme", "voc", "cvat", "yolo", "class-folders", "mask-png")
# formats whose reader knows where a folder's images are (CVAT and Datumaro exports keep them in images/)
OWN_IMAGES_FOLDER = ("cvat",)


def open_folder(folder: Path) -> OpenResult:
    """A folder of images; its annotations too when it is a LabelMe/VOC/YOLO/class/mask folder."""
    from bloodview.io.detect import detect_format, load_annotations
    from bloodview.io.images import IMAGE_SUFFIXES, list_images

    try:
        fmt = detect_format(folder)
    except FormatError:
        fmt = None
    if fmt in FOLDER_FORMATS:
        dataset = load_annotations(folder, images=None if fmt in OWN_IMAGES_FOLDER else folder, fmt=fmt)
        if dataset.root is None:
            dataset.root = folder
        moved = _find_moved(dataset)
        _add_unannotated(dataset, list_images(folder), folder)
        result = OpenResult(dataset, "folder", sources=[folder], warnings=moved)
        result.broken = check_images(dataset)
        return result

    images = list_images(folder)
    if not images:
        raise FormatError(folder, f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder")
    return _from_image_paths(images, root=folder, kind="folder")


def open_project(folder: Path) -> OpenResult:
    from bloodview.io.project import load_project

    project = load_project(folder)
    dataset = _as_dataset(project)
    result = OpenResult(dataset, "project", project_path=folder, sources=[folder],
                        settings=dict(getattr(project, "settings", {}) or {}),
                        warnings=list(getattr(project, "warnings", []) or []) + _find_moved(dataset))
    result.broken = check_images(dataset)
    return result


def open_annotations(path: Path, images_root: Path | None = None) -> OpenResult:
    """Import an annotation file; image paths resolve against its folder by default."""
    from bloodview.io.detect import load_annotations

    dataset = load_annotations(path, images=images_root)
    if dataset.root is None:
        dataset.root = images_root or path.parent
    result = OpenResult(dataset, "annotations", sources=[path], warnings=_find_moved(dataset))
    result.broken = check_images(dataset)
    return result


def open_for_import(path: Path, dataset: Dataset, max_folders: int = 20) -> OpenResult:
    """Read an annotation file to import into the open ``dataset``.

    Its image paths resolve against the open dataset's root, then against the folders the open
    images are in. Why: a VIA / MakeSense VGG file needs its images (it stores no sizes), and
    an open project's root is the project folder, usually not where the images are (they are
    ``../smears/…``), so importing one into a project failed with "image file not found".
    Errors other than missing images (a malformed file) are raised at once.
    """
    roots: list[Path | None] = [dataset.root]
    for image in dataset.images:
        folder = dataset.resolve_image(image).parent
        if folder not in roots:
            roots.append(folder)
        if len(roots) > max_folders:
            break
    error: FormatError | None = None
    for root in roots:
        try:
            result = open_annotations(path, images_root=root)
        except FormatError as exc:
            if not _needs_images(exc):
                raise
            error = error or exc
            continue
        if _found_in(result, [r for r in roots[1:] if r is not None]):
            result.broken = check_images(result.dataset)
        return result
    assert error is not None
    raise error


def _found_in(result: OpenResult, folders: list[Path]) -> bool:
    """Point the imported images not found at a file of the same name, in another letter case or NFC/NFD
    spelling, in the folders of the open images (absolute paths); True when any was.

    Why: the import is matched to the open images by name, exactly; a file written on a PC that
    recorded ``IMG_0001.JPG`` for the open ``img_0001.jpg`` imported no cells.
    """
    from bloodview.io.image_lookup import FolderListings, find_image

    listings = FolderListings()
    changed = False
    for index in sorted(result.broken):
        image = result.dataset.images[index]
        for folder in folders:
            hit = find_image(folder, Path(image.image_path.name), listings)
            if hit is not None:
                image.image_path = folder / hit
                changed = True
                break
    return changed


def images_found(result: OpenResult) -> bool:
    """At least one image of ``result`` can be read (or there are none to read)."""
    return len(result.broken) < len(result.dataset.images) or not result.dataset.images


def open_annotations_anywhere(path: Path, images_folder: ImagesFolder) -> OpenResult:
    """Open an annotation file whose images may lie elsewhere.

    Tries the file's own folder, then the remembered folder, then asks. When the
    user cancels, a COCO/LabelMe file still opens (its images marked missing, to be
    located later); a VIA file cannot (it needs the images for their sizes) and its
    :class:`ImageError` is raised.
    """
    remembered = images_folder.remembered(path)
    opened: OpenResult | None = None
    error: FormatError | None = None
    for root in (None, remembered) if remembered is not None else (None,):
        try:
            result = open_annotations(path, images_root=root)
        except FormatError as exc:
            if not _needs_images(exc):
                raise
            error = exc
            continue
        if images_found(result):
            return result
        opened = opened or result
    if opened is not None:
        why = (f"None of the {len(opened.dataset.images)} images named in {path.name} "
               f"was found beside it ({path.parent}).")
    else:
        why = f"{error}."
    folder = images_folder.ask(path, why)
    if folder is not None:
        return open_annotations(path, images_root=folder)
    if opened is not None:
        return opened
    assert error is not None
    raise error


def _find_moved(dataset: Dataset) -> list[str]:
    """Point images recorded on another computer (other letter case, NFD names, Windows absolute
    paths) at their files here; the sentence that says so, for :attr:`OpenResult.warnings`."""
    from bloodview.io.image_lookup import find_moved_images
    from bloodview.io.images import read_image_size

    moved = find_moved_images(dataset)
    found = {path for _recorded, path in moved.found}
    for image in dataset.images:
        if image.width <= 0 and image.image_path in found:
            try:  # listed without cells, so its size was not known while it was not found
                image.width, image.height = read_image_size(dataset.resolve_image(image))
            except BloodviewError:
                pass  # marked as unreadable by check_images
    sentence = moved.sentence()
    return [sentence] if sentence else []


def _needs_images(error: FormatError) -> bool:
    """The file could not be read without its images (VIA sizes, LabelMe paths leading nowhere)."""
    return isinstance(error, ImageError) or "images folder" in str(error)


def _add_unannotated(dataset: Dataset, image_files: Sequence[Path], folder: Path) -> None:
    """Append the folder's images that have no annotation file yet (sorted by path)."""
    from bloodview.io.images import read_image_size

    known = {dataset.resolve_image(i).resolve() for i in dataset.images}
    base = dataset.root if dataset.root is not None else folder
    for path in image_files:
        if path.resolve() in known:
            continue
        try:
            width, height = read_image_size(path)
        except BloodviewError:
            width, height = 0, 0
        # named as the dataset names its images (its root may be the folder's images/, as in a CVAT export)
        name = path.relative_to(base) if path.is_relative_to(base) else path.resolve()
        dataset.images.append(ImageAnnotation(name, width, height))
    dataset.images.sort(key=lambda i: str(i.image_path))


def _as_dataset(loaded: object) -> Dataset:
    """``load_project`` may return a Dataset or a project record holding one."""
    if isinstance(loaded, Dataset):
        return loaded
    dataset = getattr(loaded, "dataset", None)
    if isinstance(dataset, Dataset):
        return dataset
    raise TypeError(f"load_project returned {type(loaded).__name__}, not a Dataset")


def _from_image_paths(paths: Sequence[Path], root: Path | None, kind: str) -> OpenResult:
    from bloodview.io.images import read_image_size

    images: list[ImageAnnotation] = []
    broken: dict[int, str] = {}
    for index, path in enumerate(paths):
        try:
            width, height = read_image_size(path)
        except BloodviewError as exc:
            width, height = 0, 0
            broken[index] = str(exc)
            log.warning("%s", exc)
        shown = path.relative_to(root) if root is not None else path
        images.append(ImageAnnotation(shown, width, height))
    dataset = Dataset(images, root=root)
    return OpenResult(dataset, kind, sources=list(paths) if root is None else [root], broken=broken)


def check_images(dataset: Dataset) -> dict[int, str]:
    """Index -> error for every image whose file is missing or has an unreadable header."""
    from bloodview.io.images import read_image_size

    broken = {}
    for index, image in enumerate(dataset.images):
        path = dataset.resolve_image(image)
        try:
            read_image_size(path)
        except BloodviewError as exc:
            broken[index] = str(exc)
        except OSError as exc:
            broken[index] = f"{path}: {exc.strerror or exc}"
    return broken


def relocate_images(dataset: Dataset, folder: Path) -> int:
    """Point ``dataset`` at ``folder``, where its images now are (File → Locate images…).

    Each image is looked for in ``folder`` under its own relative path first, then under
    ever shorter tails of that path (``../smears/basophil/a.jpg`` → ``smears/basophil/a.jpg``
    → ``basophil/a.jpg`` → ``a.jpg``): a project stores its images relative to the project
    folder, often climbing out of it (``../smears/…``), and image files opened one by one
    have absolute paths, so re-rooting alone would find none of them once they moved. Names
    match ignoring letter case and NFC/NFD spelling when no exact one is there (files from a
    Windows PC or a Mac; see :mod:`bloodview.io.image_lookup`). An image still found where it
    was is left alone. Returns how many image paths were rewritten (relative to ``folder``).
    """
    from bloodview.io.image_lookup import find_moved_images

    return len(find_moved_images(dataset, Path(folder)).found)
