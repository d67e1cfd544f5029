"""YOLO text labels: boxes (``class cx cy w h``) or polygons (``class x1 y1 x2 y2 ...``).

Coordinates are fractions of the image width/height. Class numbers index the
names in ``classes.txt`` (one per line) or ``data.yaml`` (``names:`` as a list,
a block list or a ``0: name`` mapping), looked for beside the labels and one
or two folders up. Labels sit in ``labels/`` beside ``images/`` (also per split, as
Roboflow exports: ``train/images/``, ``train/labels/``, ``data.yaml`` at the top) or
next to the images.

What we read: every ``*.txt`` label file whose image (same stem, same sub-folders,
less an ``images/`` folder) is found;
boxes become box-only rectangles, polygons become outlines; images without a
label file are included with no cells. Image sizes come from the image files,
so label files without an image are skipped with a warning (Darknet's image lists
``train.txt``/``valid.txt`` are not label files), and a labels folder none of whose
images is found is an error (give ``--images``). A ``train``/``val``/``valid``/``test``
folder in an image's path (Ultralytics ``images/train/``, Darknet ``obj_train_data/``
as CVAT and Datumaro export) gives its split.
What we write: ``labels/<stem>.txt`` boxes (or polygons with
``polygons=True``: box-only cells as their four corners, since Ultralytics reads a
file with one polygon line as all polygons; a four-corner axis-aligned rectangle
reads back as a box-only cell) and ``classes.txt`` in catalogue order.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import numpy as np

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance
from bloodview.errors import FormatError
from bloodview.io.atomic import atomic_write_text
from bloodview.io.images import IMAGE_SUFFIXES, list_images, read_image_size
from bloodview.io.jsonio import read_text
from bloodview.io.labels import ClassResolver
from bloodview.io.outlines import fit_to_image, polygon_from_points
from bloodview.io.paths import output_relative, visible
from bloodview.io.provenance import imported_instance

log = logging.getLogger(__name__)

NAME_FILES = ("classes.txt", "obj.names", "data.yaml", "dataset.yaml")
SPLITS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


def yolo_folders(path: Path, images_root: Path | None) -> tuple[Path, Path]:
    """``(labels folder, images folder)`` for a YOLO data set or labels folder."""
    labels = path / "labels" if (path / "labels").is_dir() else path
    if images_root is not None:
        return labels, images_root
    sibling = labels.parent / "images"
    return labels, sibling if labels.name == "labels" and sibling.is_dir() else labels


def find_class_names(labels: Path) -> list[str] | None:
    for folder in (labels, labels.parent, labels.parent.parent):  # Roboflow: data.yaml above train/labels/
        for name in NAME_FILES:
            if (folder / name).is_file():
                return read_class_names(folder / name)
    return None


def read_class_names(path: Path) -> list[str]:
    """Class names from ``classes.txt``/``obj.names`` or the ``names`` of a data.yaml."""
    text = read_text(path, "class names file")
    if path.suffix not in (".yaml", ".yml"):
        return [line.strip() for line in text.splitlines() if line.strip()]
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^names\s*:\s*(.*)$", line)
        if not match:
            continue
        inline = match.group(1).strip()
        if inline.startswith("["):
            return [_unquote(v) for v in inline.strip("[]").split(",") if v.strip()]
        names: dict[int, str] = {}
        for item in lines[index + 1:]:
            if item.strip() and not item.startswith((" ", "\t", "-")):
                break
            listed = re.match(r"^\s*-\s*(.+)$", item)
            keyed = re.match(r"^\s*(\d+)\s*:\s*(.+)$", item)
            if listed:
                names[len(names)] = _unquote(listed.group(1))
            elif keyed:
                names[int(keyed.group(1))] = _unquote(keyed.group(2))
        return [names[k] for k in sorted(names)]
    raise FormatError(path, "has no 'names:' list of class names")


def _unquote(text: str) -> str:
    return text.split("#")[0].strip().strip("'\"")


def load_yolo(
    path: str | Path,
    images_root: str | Path | None = None,
    classes: ClassCatalogue | None = None,
    add_unknown_classes: bool = True,
    class_names: list[str] | None = None,
) -> Dataset:
    """Read a YOLO data set (see module doc) into a Dataset rooted at the images folder."""
    labels, root = yolo_folders(Path(path), Path(images_root) if images_root else None)
    names = class_names or find_class_names(labels)
    if names is None:
        raise FormatError(labels, "has YOLO labels but no classes.txt or data.yaml naming the classes (MakeSense "
                                  "exports none): write the class names, one per line in class-number order, "
                                  "into classes.txt beside the labels")
    classes = classes if classes is not None else ClassCatalogue.pbc()
    resolver = ClassResolver(classes, add_unknown_classes, labels)
    resolved = [resolver(n) for n in names]
    images = []
    used: set[Path] = set()
    for image_file in list_images(root):
        relative = image_file.relative_to(root)
        width, height = read_image_size(image_file)
        image = ImageAnnotation(relative, width, height)
        image.split = _split(relative)
        label_file = _label_file(labels, relative)
        if label_file.is_file():
            image.instances = _read_labels(label_file, resolved, width, height)
            used.add(label_file)
        images.append(image)
    _check_orphans(labels, root, used)
    return Dataset(images, classes, root)


def _label_file(labels: Path, relative: Path) -> Path:
    """The label file of the image at ``relative`` (to the images folder): mirrored under
    ``labels``; or, for an image under an ``images/`` folder, with that folder left out (the data
    set folder given as the images folder, as the app does when it opens one: Ultralytics pairs
    ``images/train/a.jpg`` with ``labels/train/a.txt``) or turned into ``labels/`` (Roboflow's
    ``train/images/a.jpg`` with ``train/labels/a.txt``; Ultralytics' own rule, on the last
    ``images`` folder of the path)."""
    mirrored = labels / relative.with_suffix(".txt")
    if mirrored.is_file() or "images" not in relative.parts[:-1]:
        return mirrored
    parts = list(relative.parts)
    last = len(parts) - 2 - parts[-2::-1].index("images")
    left_out = labels / Path(*parts[:last], *parts[last + 1:]).with_suffix(".txt")
    turned = labels / Path(*parts[:last], "labels", *parts[last + 1:]).with_suffix(".txt")
    return turned if turned.is_file() and not left_out.is_file() else left_out


def _check_orphans(labels: Path, root: Path, used: set[Path]) -> None:
    """Say so when label files have no image: their fractions need its size, so their cells are lost.

    None found at all (the images kept in another folder) is an error; a few, a warning. Both
    used to pass silently, and convert wrote an empty data set as a success.
    """
    orphans = sorted(p for p in visible(labels.rglob("*.txt"))
                     if p not in used and p.name not in NAME_FILES and not _is_image_list(p))
    if not orphans:
        return
    if not used:
        raise FormatError(labels, f"holds {len(orphans)} YOLO label file(s) but none of their images is in {root} "
                          "(YOLO boxes are fractions of the image size): give the images folder")
    log.warning("%s: %d label file(s) have no image in %s; their cells are skipped (first: %s)", labels,
                len(orphans), root, orphans[0].relative_to(labels).as_posix())


def _is_image_list(path: Path) -> bool:
    """Whether ``path`` lists image paths (Darknet's ``train.txt``/``valid.txt``), not boxes."""
    try:
        with path.open(encoding="utf-8", errors="replace") as stream:
            first = next((line.strip() for line in stream if line.strip()), "")
    except OSError:
        return False
    return Path(first).suffix.lower() in IMAGE_SUFFIXES


def _split(relative: Path) -> str | None:
    """The split a folder of the image's path names: ``train``/``val``/``test`` (Ultralytics'
    ``images/train/``) or Darknet's ``obj_train_data``/``obj_valid_data`` (CVAT, Datumaro)."""
    for part in relative.parts[:-1]:
        name = part.lower()
        if name.startswith("obj_") and name.endswith("_data"):
            name = name[4:-5]
        if name in SPLITS:
            return SPLITS[name]
    return None


def _read_labels(label_file: Path, names: list[str], width: int, height: int) -> list[Instance]:
    instances = []
    for number, line in enumerate(read_text(label_file, "YOLO label file").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"line {number}"
        try:
            index, values = int(fields[0]), [float(v) for v in fields[1:]]
        except ValueError as exc:
            raise FormatError(label_file, f"{where}: expected a class number and fractions, got {line.strip()!r:.80}") from exc
        if not all(math.isfinite(v) for v in values):
            raise FormatError(label_file, f"{where}: coordinates must be finite numbers, got {line.strip()!r:.80}")
        if not 0 <= index < len(names):
            raise FormatError(label_file, f"{where}: class number {index} is not in the {len(names)} class names")
        if len(values) == 4:
            cx, cy, w, h = values
            if w <= 0 or h <= 0:
                log.warning("%s: %s: empty box skipped", label_file, where)
                continue
            box = rectangle((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height)
            polygons, box_only = [box], True
        elif len(values) >= 6 and len(values) % 2 == 0:
            points = np.asarray(values).reshape(-1, 2) * [width, height]
            polygons, box_only = [polygon_from_points(points, label_file, where)], _is_box(points)
        else:
            raise FormatError(label_file, f"{where}: expected 4 box values or an even number (>= 6) of polygon values")
        polygons = fit_to_image(polygons, width, height, label_file, where)
        if not polygons:
            continue
        instances.append(imported_instance(polygons, names[index], box_only=box_only))
    return instances


def _is_box(points: np.ndarray) -> bool:
    """Whether a polygon line is a box written as its four corners (``save_yolo(polygons=True)``,
    Roboflow's segmentation exports of boxes): an axis-aligned rectangle, corner by corner."""
    if len(points) != 4:
        return False
    xs, ys = points[:, 0], points[:, 1]
    return bool(np.all(np.isclose(xs, np.roll(xs, 1)) != np.isclose(ys, np.roll(ys, 1))))


def save_yolo(dataset: Dataset, folder: str | Path, polygons: bool = False) -> list[Path]:
    """Write ``labels/<image path>.txt`` and ``classes.txt`` under ``folder``."""
    folder = Path(folder)
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    written = [atomic_write_text(folder / "classes.txt", "\n".join(dataset.classes.names) + "\n")]
    for image in dataset.images:
        target = folder / "labels" / output_relative(image.image_path).with_suffix(".txt")
        target.parent.mkdir(parents=True, exist_ok=True)
        lines = [_line(dataset, image, instance, polygons) for instance in image.instances]
        written.append(atomic_write_text(target, "".join(line + "\n" for line in lines)))
    return written


def _line(dataset: Dataset, image: ImageAnnotation, instance: Instance, polygons: bool) -> str:
    """One label line. With ``polygons`` every line is a polygon, a box-only cell its four corners:
    Ultralytics reads a whole file as polygons once one line has more than 5 values, and took a
    ``cx cy w h`` line there for the segment ``(cx, cy)-(w, h)``."""
    index = dataset.classes.index(instance.class_name)
    if polygons:
        outline = rectangle(*instance.bbox) if instance.box_only else instance.polygons[0]
        points = outline / [image.width, image.height]
        return f"{index} " + " ".join(f"{v:.6f}" for v in points.reshape(-1))
    x1, y1, x2, y2 = instance.bbox
    values = ((x1 + x2) / 2 / image.width, (y1 + y2) / 2 / image.height, (x2 - x1) / image.width, (y2 - y1) / image.height)
    return f"{index} " + " ".join(f"{v:.6f}" for v in values)
