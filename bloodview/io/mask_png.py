"""Label-image PNG masks (e.g. the Zheng WBC set) to cell outlines and back.

A mask PNG has the image's size; 0 is background and any other value is cell
(Zheng: 128 cytoplasm, 255 nucleus; the whole cell is ``mask > 0``). Each
8-connected foreground component becomes one :class:`Instance` whose outline is
traced with :func:`bloodview.core.geometry.mask_to_polygons` (holes are not
kept). With ``by_value=True`` each distinct non-zero value is one instance
instead (instance-label images).

Pairs are found by name: ``NNN.bmp`` + ``NNN.png`` in one folder, or
``name.ext`` + ``name_mask.png``, or ``masks_dir/<stem>.png``. The class comes
from a labels CSV (``image,class`` rows; the image as file name, stem or number;
the class as a name or a number 1..K into ``label_names``): ``labels.csv`` in the
folder, or a CSV beside or above it whose name ends with the folder's name, such
as the Zheng file ``Class Labels of Dataset 1.csv`` (1..5 = neutrophil,
lymphocyte, monocyte, eosinophil, basophil). Without a CSV every
cell gets ``default_class``. Writing gives 0/255 PNGs (touching cells kept apart by a
one-pixel background line, so each comes back as one cell) or instance numbers, and
a ``labels.csv`` beside them, read back first when the masks are read from their
own folder: a mask holds no class, so without it a round trip lost every class.
The reader gives every cell of an image its image's class, so the CSV has a row
for each image whose cells are of one class (or, without cells, that has an image
label); an image whose cells are of several classes gets no row, with a warning.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import mask_to_polygons, translate
from bloodview.core.instance import Instance
from bloodview.errors import FormatError, ImageError
from bloodview.io.atomic import atomic_write_bytes, atomic_write_text
from bloodview.io.images import IMAGE_SUFFIXES, list_images, read_image_size
from bloodview.io.jsonio import read_text
from bloodview.io.labels import ClassResolver
from bloodview.io.paths import output_relative, visible
from bloodview.io.provenance import imported_instance

log = logging.getLogger(__name__)

ZHENG_CLASSES: tuple[str, ...] = ("neutrophil", "lymphocyte", "monocyte", "eosinophil", "basophil")
MASK_SUFFIXES = ("_mask", "-mask")
LABELS_CSV = "labels.csv"
DEFAULT_CLASS = "cell"
"""The class of cells in an image that ``labels.csv`` does not name."""


def find_mask_pairs(folder: Path, masks_dir: Path | None = None) -> list[tuple[Path, Path]]:
    """``(image, mask)`` pairs under ``folder`` (see module doc), sorted by image."""
    files = list_images(folder, recursive=False)
    by_stem: dict[str, list[Path]] = {}
    for file in files:
        by_stem.setdefault(file.stem, []).append(file)
    pairs = []
    for file in files:
        if masks_dir is not None:
            if len(by_stem[file.stem]) > 1 and file.suffix.lower() == ".png" and looks_like_mask(file):
                continue  # the image's own mask beside it (Zheng: 001.bmp + 001.png), not a second image
            mask = masks_dir / f"{file.stem}.png"
            if mask.is_file():
                pairs.append((file, mask))
            continue
        if file.suffix.lower() != ".png":
            mask = next((f for f in by_stem[file.stem] if f.suffix.lower() == ".png"), None)
        else:
            mask = next((folder / f"{file.stem}{s}.png" for s in MASK_SUFFIXES
                         if (folder / f"{file.stem}{s}.png").is_file()), None)
        if mask is not None:
            pairs.append((file, mask))
    return pairs


def find_labels_csv(folder: Path) -> Path | None:
    """A labels CSV beside or above ``folder``: one whose name ends with the folder's name
    (Zheng: ``Class Labels of Dataset 1.csv`` for ``Dataset 1/``), or ``labels.csv``
    inside the folder."""
    if (folder / LABELS_CSV).is_file():
        return folder / LABELS_CSV
    for place in (folder, folder.parent):
        for csv_file in visible(sorted(place.glob("*.csv"))):
            if csv_file.stem.lower().endswith(folder.name.lower()):
                return csv_file
    return None


def read_labels_csv(path: Path, label_names: tuple[str, ...] | list[str] | None = None) -> dict[str, str]:
    """``image key -> class name`` where the key is a file stem or ``str(int)`` number."""
    try:
        rows = [r for r in csv.reader(io.StringIO(read_text(path, "labels CSV"), newline=""))
                if r and any(c.strip() for c in r)]
    except csv.Error as exc:
        raise FormatError(path, f"is not a readable CSV file ({exc})") from exc
    if not rows:
        raise FormatError(path, "is empty")
    header, body = rows[0], rows[1:]
    if label_names is None and [h.strip().lower() for h in header[:2]] == ["image id", "class label"]:
        label_names = ZHENG_CLASSES
    labels: dict[str, str] = {}
    for number, row in enumerate(body, start=2):
        if len(row) < 2:
            raise FormatError(path, f"line {number}: expected 'image,class', got {row}")
        key, value = _image_key(row[0].strip()), row[1].strip()
        if _is_number(value):
            if not label_names or not 1 <= int(value) <= len(label_names):
                raise FormatError(path, f"line {number}: class number {value} has no name (give label names)")
            value = label_names[int(value) - 1]
        labels[key] = value
    return labels


def _is_number(text: str) -> bool:
    """Plain ASCII digits ('¹' and '٣' are digits to ``str.isdigit`` but not to ``int``)."""
    return text.isascii() and text.isdigit()


def _image_key(text: str) -> str:
    stem = Path(text).stem
    return str(int(stem)) if _is_number(stem) else stem


def load_mask_pngs(
    folder: str | Path,
    labels_csv: str | Path | None = None,
    label_names: list[str] | None = None,
    classes: ClassCatalogue | None = None,
    add_unknown_classes: bool = False,
    default_class: str = DEFAULT_CLASS,
    masks_dir: str | Path | None = None,
    by_value: bool = False,
    min_area: int = 16,
) -> Dataset:
    """Read image + mask PNG pairs as outlined cells (see module doc)."""
    folder = Path(folder)
    pairs = find_mask_pairs(folder, Path(masks_dir) if masks_dir else None)
    if not pairs:
        raise FormatError(folder, "has no image + mask PNG pairs (NNN.bmp + NNN.png, or name_mask.png)")
    csv_path = Path(labels_csv) if labels_csv else None
    if csv_path is None and masks_dir is not None and (Path(masks_dir) / LABELS_CSV).is_file():
        csv_path = Path(masks_dir) / LABELS_CSV  # written with the masks: theirs, not the images folder's
    if csv_path is None:
        csv_path = find_labels_csv(folder)
    labels = read_labels_csv(csv_path, label_names) if csv_path else {}
    classes = classes if classes is not None else ClassCatalogue.pbc()
    resolver = ClassResolver(classes, add_unknown_classes, csv_path or folder)
    images = []
    for image_file, mask_file in pairs:
        width, height = read_image_size(image_file)
        label_image = read_label_image(mask_file)
        if label_image.shape != (height, width):
            raise FormatError(mask_file, f"mask is {label_image.shape[1]}x{label_image.shape[0]} "
                              f"but its image {image_file.name} is {width}x{height}")
        label = labels.get(_image_key(image_file.name))
        if label is not None:
            class_name = resolver(label)
        else:
            class_name = default_class if default_class in classes else classes.add(default_class).name
        instances = mask_instances(label_image, class_name, by_value, min_area)
        images.append(ImageAnnotation(image_file.relative_to(folder), width, height, instances,
                                      image_label=class_name if label is not None else None))
    return Dataset(images, classes, folder)


def read_label_image(path: Path) -> np.ndarray:
    """A mask file as a 2-D integer array (colour masks: any non-zero channel is cell)."""
    try:
        with Image.open(path) as image:
            array = np.asarray(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(path, f"mask cannot be read ({exc})") from exc
    if array.ndim == 3:
        array = array[..., :3].max(axis=2)
    return array.astype(np.int64)


def mask_instances(label_image: np.ndarray, class_name: str, by_value: bool = False, min_area: int = 16) -> list[Instance]:
    """One instance per connected component (or per value), largest first."""
    if by_value:
        parts = [label_image == v for v in np.unique(label_image) if v != 0]
    else:
        count, components = cv2.connectedComponents((label_image > 0).astype(np.uint8), connectivity=8)
        parts = [components == k for k in range(1, count)]
    instances = []
    for part in parts:
        if part.sum() < min_area:
            continue
        rows, cols = np.nonzero(part)
        y0, x0 = rows.min(), cols.min()
        crop = part[y0:rows.max() + 1, x0:cols.max() + 1]
        polygons = [translate(p, x0, y0) for p in mask_to_polygons(crop)]
        if polygons:
            instances.append(imported_instance(polygons, class_name))
    instances.sort(key=lambda i: -i.area)
    return instances


def label_image_of(image: ImageAnnotation, by_instance: bool = False) -> np.ndarray:
    """0 background, 255 cell (or 1..N per instance, 16-bit above 255 instances).

    In a 0/255 mask each cell is one 8-connected component when read back, so cells that touch
    or overlap (red cells in a smear, a model's neighbouring calls) would merge into one: where
    two cells meet, the border pixels of one of them are left background, a line one pixel wide
    that keeps them apart (39 cells of a BCCD field came back as 22 without it)."""
    numbers = np.zeros((image.height, image.width), dtype=np.uint16)
    for number, instance in enumerate(image.instances, start=1):
        numbers[instance.to_mask(image.height, image.width)] = number
    if by_instance:
        return numbers if len(image.instances) > 255 else numbers.astype(np.uint8)
    return np.where(_apart(numbers) > 0, 255, 0).astype(np.uint8)


def _apart(numbers: np.ndarray) -> np.ndarray:
    """``numbers`` (cell numbers, 0 background) with each pixel that has a higher-numbered
    8-neighbour set to 0: afterwards no two cells touch, the higher-numbered keeps its outline."""
    highest_around = cv2.dilate(numbers, np.ones((3, 3), np.uint8))
    return np.where(highest_around > numbers, 0, numbers).astype(numbers.dtype)


def save_mask_pngs(dataset: Dataset, folder: str | Path, by_instance: bool = False) -> list[Path]:
    """Write one mask PNG per image: ``<image path>.png``, or ``<stem>_mask.png`` where that
    name is the image itself or another picture (masks written into a folder of images), and
    the images' classes in ``labels.csv`` (:func:`write_labels_csv`). Returns the masks written."""
    folder = Path(folder)
    written = []
    for image in dataset.images:
        target = folder / output_relative(image.image_path).with_suffix(".png")
        if target.resolve() == dataset.resolve_image(image).resolve() or (
                target.is_file() and not looks_like_mask(target)):  # another picture: a.png beside a.jpg
            target = target.with_name(f"{target.stem}{MASK_SUFFIXES[0]}.png")
        target.parent.mkdir(parents=True, exist_ok=True)
        ok, encoded = cv2.imencode(".png", label_image_of(image, by_instance))
        if not ok:
            raise ImageError(target, "mask could not be encoded as PNG")
        written.append(atomic_write_bytes(target, encoded.tobytes()))
    write_labels_csv(dataset, folder)
    return written


def image_class(image: ImageAnnotation) -> str | None:
    """The one class that the mask reader can give back to ``image``'s cells: theirs when they
    share one, the image label when it has no cells; None for cells of several classes."""
    names = {instance.class_name for instance in image.instances}
    if not names:
        return image.image_label
    return names.pop() if len(names) == 1 else None


def write_labels_csv(dataset: Dataset, folder: Path) -> Path | None:
    """``folder/labels.csv`` (``image,class`` rows, as :func:`read_labels_csv` reads them) for the
    images that have one class other than :data:`DEFAULT_CLASS` (which the reader gives anyway);
    None, with nothing written, when there is no such image."""
    rows, mixed = [], []
    for image in dataset.images:
        name = image_class(image)
        if name is not None and name != DEFAULT_CLASS:
            rows.append((image.image_path.as_posix(), name))
        elif image.instances:
            mixed.append(image.image_path.as_posix())
    if mixed:
        log.warning("%d images hold cells of several classes, which a mask PNG cannot tell apart: their cells "
                    "read back without a class (first: %s)", len(mixed), mixed[0])
    if not rows:
        return None
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["image", "class"])
    writer.writerows(rows)
    return atomic_write_text(folder / LABELS_CSV, text.getvalue())


MASK_MAX_VALUES = 64
"""A PNG with more distinct values (colours) than this is a picture, not a mask: masks hold 0 and a
few labels (Zheng: 0 / 128 / 255; ``convert --to mask-png``: 0 / 255 or one number per cell), a
camera's picture thousands of colours, a grey camera's most of its 256 levels."""


def looks_like_mask(path: Path) -> bool:
    """Whether the PNG ``path`` holds labels rather than a picture (16- or 32-bit label images
    always do; others when they have at most :data:`MASK_MAX_VALUES` values, one of them the
    background 0 — a plain one-colour picture, a blank white frame, is no mask). Unreadable: False."""
    try:
        with Image.open(path) as image:
            if image.mode in ("I", "I;16", "I;16B", "I;16L"):
                return True
            if image.mode == "P":  # palette indices say nothing of the colours
                image = image.convert("RGBA")
            colours = image.getcolors(maxcolors=MASK_MAX_VALUES)
    except (OSError, ValueError):
        return False
    return colours is not None and any(_background(value) for _, value in colours)


def _background(value) -> bool:
    """A mask's background: 0, or black in a colour mask."""
    return value == 0 if not isinstance(value, tuple) else all(v == 0 for v in value[:3])


def is_mask_folder(folder: Path) -> bool:
    """Whether ``folder`` looks like image + mask pairs (cheap check for detection)."""
    files = [p for p in visible(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES] if folder.is_dir() else []
    return bool(files) and bool(find_mask_pairs(folder))
