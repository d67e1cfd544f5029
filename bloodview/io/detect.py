"""Recognise an annotation file or folder and read or write it in the right format.

Files (JSON): a list of detections (``image_id``) is a COCO *results* file (a
list of Label Studio tasks is refused with a sentence saying to export COCO);
``_via_img_metadata`` or image entries with ``regions`` is VIA/MakeSense VGG; ``shapes`` + ``imagePath`` is
LabelMe; ``schema_version`` + ``classes`` + ``images`` is our project file; an
``images`` list is COCO, and MakeSense's COCO when it has MakeSense's marks
(``info`` with only a ``description``, no ``supercategory``, annotation ids from
0). An ``.xml`` file is CVAT's XML when its root element is ``<annotations>``,
else Pascal VOC.

Folders, in this order: a project (``project.json``), CVAT XML (an ``.xml``
file with the root ``<annotations>``), Pascal VOC (``*.xml`` or
``Annotations/``), YOLO (``labels/``, or ``*.txt`` or ``<split>/labels/`` with
``classes.txt``/``data.yaml``), LabelMe (``*.json`` with ``shapes``), image + mask PNG pairs,
class folders (sub-folders of images), a folder of nothing but PNG files (masks
kept apart from their images, as ``convert --to mask-png`` writes them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bloodview.core.annotation import Dataset
from bloodview.core.classes import ClassCatalogue
from bloodview.errors import FormatError
from bloodview.io.jsonio import read_json
from bloodview.io.paths import visible
from bloodview.io.read_warnings import summarised_warnings

log = logging.getLogger(__name__)

# Formats we read; those we write are the keys of SAVERS below.
LOAD_FORMATS: tuple[str, ...] = (
    "coco", "makesense-coco", "coco-results", "via", "labelme", "voc", "cvat", "yolo",
    "class-folders", "mask-png", "project",
)
SAVE_FORMATS: tuple[str, ...] = ("coco", "via", "makesense-coco", "labelme", "voc", "yolo", "mask-png", "project")
FILE_FORMATS: frozenset[str] = frozenset({"coco", "via", "makesense-coco"})
ALIASES = {
    "vgg": "via", "makesense-vgg": "via", "makesense": "via", "masks": "mask-png", "mask": "mask-png",
    "folders": "class-folders", "pascal-voc": "voc", "coco-makesense": "makesense-coco",
    "cvat-xml": "cvat", "cvat-images": "cvat",
}


def canonical_format(fmt: str) -> str:
    name = fmt.strip().lower().replace("_", "-")
    name = ALIASES.get(name, name)
    if name not in LOAD_FORMATS:
        raise FormatError(None, f"unknown annotation format {fmt!r}; known formats: {', '.join(LOAD_FORMATS)}")
    return name


def detect_format(path: str | Path) -> str:
    """The format name of ``path`` (see module doc), or a FormatError saying what was looked for."""
    path = Path(path)
    if not path.exists():
        raise FormatError(path, "not found")
    if path.is_dir():
        return _folder_format(path)
    suffix = _suffix(path)
    if suffix == ".xml":
        from bloodview.io.cvat import is_cvat_xml

        return "cvat" if is_cvat_xml(path) else "voc"
    if suffix != ".json":
        raise FormatError(path, "is not an annotation file bloodview reads (expected .json or .xml, or a folder)")
    return json_format(read_json(path), path)


def _suffix(path: Path) -> str:
    """The file's type: ``cells.json.bak`` (the previous version bloodview kept) reads as ``.json``."""
    from bloodview.io.atomic import BACKUP_SUFFIX

    name = path.name.lower()
    if name.endswith(BACKUP_SUFFIX) and len(path.suffixes) > 1:
        return Path(name.removesuffix(BACKUP_SUFFIX)).suffix
    return path.suffix.lower()


def json_format(data: Any, path: Path) -> str:
    if isinstance(data, list):
        return _list_format(data, path)
    if not isinstance(data, dict):
        raise FormatError(path, "is JSON but not an annotation file (expected an object or a list)")
    if isinstance(data.get("_via_img_metadata"), dict):
        return "via"
    if "schema_version" in data and "classes" in data and "images" in data:
        return "project"
    if isinstance(data.get("shapes"), list) and "imagePath" in data:
        return "labelme"
    if isinstance(data.get("images"), list):
        return "makesense-coco" if _looks_like_makesense(data) else "coco"
    if data and all(isinstance(v, dict) and "regions" in v for v in data.values()):
        return "via"
    raise FormatError(path, "is JSON but not COCO, MakeSense, VIA or LabelMe (no 'images', 'regions' or 'shapes')")


def _list_format(data: list[Any], path: Path) -> str:
    """A JSON list is a COCO results file when its entries are detections (``image_id``); Label
    Studio's JSON export is a list of tasks too, and was taken for one ("needs the ground truth")."""
    if not data:
        return "coco-results"  # a detector that found nothing
    first = data[0]
    if isinstance(first, dict) and "image_id" in first:
        return "coco-results"
    if isinstance(first, dict) and ("annotations" in first or "data" in first):
        raise FormatError(path, "is a Label Studio JSON export (a list of tasks), which bloodview does not read; "
                                "export the project from Label Studio as COCO instead")
    raise FormatError(path, "is a JSON list but not a COCO results file (its entries have no 'image_id')")


def _looks_like_makesense(data: dict[str, Any]) -> bool:
    info = data.get("info")
    annotations = data.get("annotations") or []
    categories = data.get("categories") or []
    if not isinstance(annotations, list) or not isinstance(categories, list):
        return False
    return (
        isinstance(info, dict) and set(info) == {"description"}
        and "licenses" not in data
        and all(isinstance(c, dict) and "supercategory" not in c for c in categories)
        and (not annotations or (isinstance(annotations[0], dict) and annotations[0].get("id") == 0))
    )


def _folder_format(folder: Path, class_folders: bool = True) -> str:
    """The format of ``folder``; ``class_folders=False`` when judging a sub-folder of a possible
    class-folder set (a class folder holds one class's images, never a set of its own)."""
    from bloodview.io.class_folders import class_subfolders
    from bloodview.io.cvat import is_cvat_xml
    from bloodview.io.labelme import is_labelme
    from bloodview.io.mask_png import LABELS_CSV, is_mask_folder, looks_like_mask
    from bloodview.io.yolo import NAME_FILES

    try:
        names = {p.name for p in visible(folder.iterdir())}
    except PermissionError as exc:
        raise FormatError(folder, "folder cannot be read (permission denied)") from exc
    if "project.json" in names:
        return "project"
    xml_names = sorted(n for n in names if n.lower().endswith(".xml"))
    if not (folder / "Annotations").is_dir() and any(is_cvat_xml(folder / n) for n in xml_names[:20]):
        return "cvat"
    # VOC masks alone (CVAT's "Segmentation mask 1.1") are voc too: its reader says what to export instead
    voc_masks = any((folder / f"Segmentation{kind}").is_dir() for kind in ("Object", "Class"))
    if (folder / "Annotations").is_dir() or voc_masks or xml_names:
        return "voc"
    has_names = any(n in names for n in NAME_FILES) or any((folder.parent / n).is_file() for n in NAME_FILES)
    if (folder / "labels").is_dir() or (has_names and any(
            (n.endswith(".txt") and n not in NAME_FILES) or (folder / n / "labels").is_dir() for n in names)):
        return "yolo"
    for json_file in visible(sorted(folder.rglob("*.json")))[:20]:
        try:
            if is_labelme(read_json(json_file)):
                return "labelme"
        except FormatError:
            continue
    if is_mask_folder(folder):
        return "mask-png"
    subfolders = class_subfolders(folder) if class_folders else []
    if subfolders:
        _refuse_annotated_subfolder(folder, subfolders)
        return "class-folders"
    # besides the masks: their classes, and the copies an overwrite keeps (``.bak``)
    pngs = sorted(n for n in names if not n.startswith(".") and n != LABELS_CSV and not n.endswith(".bak"))
    if pngs and all(n.lower().endswith(".png") for n in pngs) and all(
            looks_like_mask(folder / n) for n in pngs[:3]):
        return "mask-png"  # masks written apart from their images (give the images with --images)
    raise FormatError(folder, "is not a recognised annotation folder (looked for project.json, CVAT or VOC .xml "
                      "files, YOLO labels, LabelMe .json files, image + mask PNG pairs, class sub-folders of images)")


def _refuse_annotated_subfolder(folder: Path, subfolders: list[Path]) -> None:
    """Refuse to read ``folder`` as class folders when a sub-folder is an annotated set itself.

    Zheng's root holds ``Dataset 1/`` (images with their mask PNGs): read as class folders it
    gave a class "dataset 1" of 600 "images", masks counted as pictures. The error points at
    the sub-folder to give instead.
    """
    for sub in subfolders:
        try:
            fmt = _folder_format(sub, class_folders=False)
        except FormatError:
            continue  # an ordinary class folder: images only
        raise FormatError(folder, f"is not a set of class folders: its sub-folder {sub.name!r} is annotated "
                                  f"itself ({fmt}); give that folder instead: {sub}")


def load_annotations(
    path: str | Path,
    images: str | Path | None = None,
    fmt: str | None = None,
    classes: ClassCatalogue | None = None,
    add_unknown_classes: bool | None = None,
    reviewed: bool = False,
) -> Dataset:
    """Read ``path`` in format ``fmt`` (detected when ``None``) into a Dataset.

    ``images`` is the images folder for formats whose files name images
    (COCO, VIA, LabelMe, VOC, YOLO). ``add_unknown_classes=None`` adds class
    names the catalogue does not know when no ``classes`` are given (a file read
    on its own brings its classes, so whatever bloodview writes reads back), and
    keeps each format's default when reading against a given catalogue (add for
    VOC/YOLO box data, refuse elsewhere). Cells the
    file gives no provenance for are unreviewed imports unless ``reviewed``
    (the user vouches for them: see :func:`bloodview.io.provenance.mark_imports_reviewed`).
    The reader's warnings are summarised, one line per kind (:mod:`bloodview.io.read_warnings`).
    Images not where the file records them (written on a Windows PC or a Mac: another letter
    case, ``C:\\Users\\tech\\smears\\day1\\a.jpg`` read as ``Users/tech/smears/day1/a.jpg``) are
    pointed at the file found under ``images`` (default: the file's folder), as the window does
    (:func:`bloodview.io.image_lookup.find_moved_on_read`), so ``convert``, ``count`` and ``info``
    name them as the window does. Overlapping parts of one cell are joined
    (:func:`bloodview.io.outlines.join_overlapping_parts`).
    """
    path = Path(path)
    name = canonical_format(fmt) if fmt else detect_format(path)
    if name == "coco-results":
        raise FormatError(path, "is a COCO results file (detections only): it needs the ground truth that "
                          "numbers its images, so open it with the ground truth (bloodview evaluate)")
    options: dict[str, Any] = {"classes": classes}
    if add_unknown_classes is None and classes is None:
        add_unknown_classes = True
    if add_unknown_classes is not None:
        options["add_unknown_classes"] = add_unknown_classes
    log.debug("reading %s as %s", path, name)
    with summarised_warnings():
        dataset = _loader(name)(path, images, options)
        _find_moved(dataset, path, images)
        if name != "project":  # the editor keeps a project's parts apart; other tools may not
            from bloodview.io.outlines import join_overlapping_parts

            join_overlapping_parts(dataset, path)
    if reviewed:
        from bloodview.io.provenance import mark_imports_reviewed

        mark_imports_reviewed(dataset)
    return dataset


def _find_moved(dataset: Dataset, path: Path, images: str | Path | None) -> None:
    """Look for the images not where recorded, under the dataset's root (else ``images``, else the
    annotation file's folder, where the window looks too); a root the reader left unset stays unset
    unless an image was found under it."""
    from bloodview.io.image_lookup import find_moved_on_read

    root = dataset.root if dataset.root is not None else Path(images) if images is not None else (
        path if path.is_dir() else path.parent)
    had_root = dataset.root is not None
    if find_moved_on_read(dataset, root).found or had_root:
        return
    dataset.root = None


def _loader(name: str) -> Callable[[Path, Any, dict[str, Any]], Dataset]:
    from bloodview.io import class_folders, coco, cvat, labelme, makesense_coco, mask_png, project, via, voc, yolo

    def project_loader(path: Path, images: Any, options: dict[str, Any]) -> Dataset:
        return project.load_project(path).dataset

    table: dict[str, Callable[[Path, Any, dict[str, Any]], Dataset]] = {
        "coco": lambda p, i, o: coco.load_coco(p, i, **o),
        "makesense-coco": lambda p, i, o: makesense_coco.load_makesense_coco(p, i, **o),
        "via": lambda p, i, o: via.load_via(p, i, **o),
        "labelme": lambda p, i, o: labelme.load_labelme(p, i, **o),
        "voc": lambda p, i, o: voc.load_voc(p, i, **o),
        "cvat": lambda p, i, o: cvat.load_cvat(p, i, **o),
        "yolo": lambda p, i, o: yolo.load_yolo(p, i, **o),
        "class-folders": lambda p, i, o: class_folders.load_class_folders(p, **o),
        # masks in their own folder: PATH holds the masks, --images the images
        "mask-png": lambda p, i, o: (mask_png.load_mask_pngs(i, masks_dir=p, **o) if i is not None
                                     else mask_png.load_mask_pngs(p, **o)),
        "project": project_loader,
    }
    return table[name]


def output_target(path: str | Path, fmt: str) -> Path:
    """What writing ``fmt`` to ``path`` replaces: ``<folder>/<format>.json`` for a file format
    given an existing folder, ``path`` with ``.json`` added for a file format named without it
    (``out`` -> ``out.json``: bloodview reads annotation files back by their ``.json`` suffix, so
    a file written as ``out`` could not be opened again), else ``path`` itself."""
    path = Path(path)
    name = canonical_format(fmt)
    if name not in FILE_FORMATS:
        return path
    if path.is_dir():
        return path / f"{name}.json"
    return path if path.name.lower().endswith(".json") else path.with_name(path.name + ".json")


def save_annotations(dataset: Dataset, path: str | Path, fmt: str) -> Path:
    """Write ``dataset`` to ``path`` in ``fmt``; return the file or folder written.

    File formats (coco, via, makesense-coco) given an existing folder write
    ``<folder>/<format>.json``, and given a name without ``.json`` write it with ``.json``
    added (:func:`output_target`); folder formats create the folder. An image listed more
    than once is written once with all its cells where the format keys records by image
    name, and two images that would share one file are refused
    (:mod:`bloodview.io.repeated_images`).
    """
    from bloodview.io import coco, labelme, makesense_coco, mask_png, project, via, voc, yolo

    name = canonical_format(fmt)
    if name not in SAVE_FORMATS:
        raise FormatError(None, f"cannot write {name!r}; formats bloodview writes: {', '.join(SAVE_FORMATS)}")
    path = Path(path)
    if name not in ("coco", "project"):  # the others keep one record per image name
        from bloodview.io.repeated_images import check_one_file_per_image, merge_repeated_images

        dataset = merge_repeated_images(dataset)
        check_one_file_per_image(dataset, name)
    if name in FILE_FORMATS:
        path = output_target(path, name)
        if not path.parent.is_dir():
            raise FormatError(path, "cannot be written: its folder does not exist")
        {"coco": coco.save_coco, "via": via.save_via, "makesense-coco": makesense_coco.save_makesense_coco}[name](
            dataset, path)
        return path
    if path.exists() and not path.is_dir():
        raise FormatError(path, f"is a file; {name} annotations are written into a folder")
    writers: dict[str, Callable[[Dataset, Path], Any]] = {
        "labelme": labelme.save_labelme,
        "voc": voc.save_voc,
        "yolo": yolo.save_yolo,
        "mask-png": mask_png.save_mask_pngs,
        "project": project.save_project,
    }
    path.mkdir(parents=True, exist_ok=True)
    writers[name](dataset, path)
    return path
