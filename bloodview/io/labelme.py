"""LabelMe JSON: one file per image.

What we read: ``shapes`` of type ``polygon``, ``rectangle`` (two corners; a
box-only cell), ``oriented_rectangle`` (LabelMe 6: four corners; a box-only
cell), ``circle`` (centre + a point on the rim; a 32-gon) and ``mask`` (LabelMe's
AI mask tool: a base64 PNG patch from ``points[0]`` to ``points[1]``, pixels
included; traced to outlines); shapes sharing a ``group_id`` and label become one
multi-part cell; other shape types (points, lines) are skipped with a warning. ``imagePath`` is relative to
the JSON file. Inside the data folder (the folder loaded, or ``images_root``) it
is kept relative to that folder. It may climb out with ``..`` (LabelMe writes
``../smears/a.jpg`` for annotations kept apart from their images, and so does
:func:`save_labelme`) when the image is really there (its absolute path is
kept) or when ``images_root`` is given (the image is then looked for under it by
the tail of its path, e.g. ``smears/a.jpg`` then ``a.jpg``). Such a path is only
read, never written to: annotation files go where
:func:`bloodview.io.paths.output_relative` says. ``imageWidth``/``imageHeight``
are checked against the image file when it is there. Embedded ``imageData`` is
ignored.

What we write: for each image with cells (or signed off as empty),
``<image path>.json`` under the output folder (mirroring sub-folders), LabelMe 5
keys (``version``, ``flags``, ``shapes``, ``imagePath``, ``imageData: null``,
``imageHeight``, ``imageWidth``), polygons as ``[[x, y], ...]``, per shape a
``"bloodview"`` provenance record and at the top level a ``"bloodview"`` image
record (sign-off with who/when, image label, split; see
:mod:`bloodview.io.provenance`). LabelMe keeps unknown keys of files and shapes
when it saves. A signed-off image also gets the file flag ``bloodview_signed_off``
(a tick box in LabelMe): unticking it there withdraws the sign-off when the file
comes back. Shapes without a record (drawn in LabelMe) are unreviewed imports.

COCO crowd regions (``iscrowd: 1``, a clump of cells outlined as one) are written
as their outlines with the shape flag ``iscrowd`` ticked and a description saying
what they are, so a person in LabelMe sees the clump and can split it; the flag
(or the record) makes them crowd regions again when read back
(:mod:`bloodview.io.crowd`). LabelMe has no crowd notion of its own, so a tool
that ignores flags would take such a region for one cell.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import os
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import mask_to_polygons, rectangle, translate
from bloodview.errors import FormatError
from bloodview.io.atomic import atomic_write_json, json_number
from bloodview.io.images import check_image_size
from bloodview.io.jsonio import read_json, require, short
from bloodview.io.class_records import CLASSES_KEY, adopt_record_classes, class_records
from bloodview.io.crowd import CROWD_DESCRIPTION, CROWD_KEY, is_crowd
from bloodview.io.labels import ClassResolver
from bloodview.io.outlines import fit_to_image, polygon_from_points
from bloodview.io.paths import member_path, output_relative, visible
from bloodview.io.provenance import RECORD_KEY, apply_image_record, image_record, instance_record, make_instance

log = logging.getLogger(__name__)

LABELME_VERSION = "5.5.0"
SIGNED_OFF_FLAG = "bloodview_signed_off"
CIRCLE_VERTICES = 32


def is_labelme(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("shapes"), list) and "imagePath" in data


def load_labelme(
    path: str | Path,
    images_root: str | Path | None = None,
    classes: ClassCatalogue | None = None,
    add_unknown_classes: bool = False,
    check_images: bool = True,
) -> Dataset:
    """Read one LabelMe file or every LabelMe ``*.json`` under a folder."""
    path = Path(path)
    given_root = images_root is not None
    if path.is_dir():
        files = visible(sorted(path.rglob("*.json")))
        root = Path(images_root) if given_root else path
    else:
        files = [path]
        root = Path(images_root) if given_root else path.parent
    classes = classes if classes is not None else ClassCatalogue.pbc()
    images = []
    for file in files:
        data = read_json(file, "LabelMe file")
        if not is_labelme(data):
            if len(files) == 1:
                raise FormatError(file, "is not a LabelMe file (no 'shapes' and 'imagePath')")
            log.warning("%s: not a LabelMe file; skipped", file)
            continue
        resolver = ClassResolver(classes, add_unknown_classes, file)
        images.append(_read_file(file, data, root, resolver, check_images, given_root))
    if not images:  # a wrong --from, or the wrong folder: not an empty data set to write out
        found = f"none of its {len(files)} .json files is a LabelMe file" if files else "it holds no .json files"
        raise FormatError(path, f"is not a LabelMe folder: {found}")
    return Dataset(images, classes, root)


def _read_file(
    file: Path, data: dict[str, Any], root: Path, resolver: ClassResolver, check: bool, given_root: bool
) -> ImageAnnotation:
    image_path = data.get("imagePath")
    require(isinstance(image_path, str) and image_path.strip(), file, "has no 'imagePath'")
    relative = _locate_image(file, image_path, root, given_root)
    width, height = data.get("imageWidth"), data.get("imageHeight")
    require(isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0, file,
            f"needs positive integer 'imageWidth' and 'imageHeight', got {width!r} x {height!r}")
    if check:
        check_image_size(root / relative, width, height, file)
    image = ImageAnnotation(relative, width, height)
    adopt_record_classes(data.get(RECORD_KEY), resolver.classes, resolver.add_unknown, file)
    groups: dict[tuple[str, Any], Any] = {}
    for index, shape in enumerate(data["shapes"]):
        where = f"shape {index}"
        require(isinstance(shape, dict), file, f"{where} is not an object")
        outlines, box_only = _shape_polygons(shape, file, where)
        if not outlines:
            continue
        class_name = resolver(shape.get("label"))
        polygons = fit_to_image(outlines, width, height, file, where)
        if not polygons:
            continue
        group = shape.get("group_id")
        require(group is None or (isinstance(group, (int, str)) and not isinstance(group, bool)), file,
                f"{where}: 'group_id' must be a number, a text or null, got {short(group)}")
        key = (class_name, group)
        if key[1] is not None and key in groups:
            groups[key].polygons.extend(polygons)
            continue
        instance = make_instance(polygons, class_name, shape.get(RECORD_KEY), file, box_only=box_only)
        if isinstance(shape.get("flags"), dict) and shape["flags"].get(CROWD_KEY) is True:
            instance.extra[CROWD_KEY] = True
        image.instances.append(instance)
        groups[key] = instance
    apply_image_record(image, data.get(RECORD_KEY), file)
    flags = data.get("flags")
    if image.signed_off and isinstance(flags, dict) and flags.get(SIGNED_OFF_FLAG) is False:
        log.info("%s: sign-off withdrawn in LabelMe (flag %s unticked)", file, SIGNED_OFF_FLAG)
        image.signed_off = False
    return image


def _locate_image(file: Path, image_path: str, root: Path, given_root: bool) -> Path:
    """The image of ``file``: relative to ``root`` when inside it, else absolute (see the module doc).

    Raises :class:`FormatError` for an absolute ``imagePath``, and for one that
    leaves the data folder towards no image when no ``images_root`` was given.
    """
    name = image_path.replace("\\", "/")
    try:
        base = file.parent.resolve().relative_to(root.resolve())
    except ValueError:
        base = Path()  # the JSON lives outside the images folder: imagePath is taken from there
    try:
        return member_path((base / name).as_posix(), file)
    except FormatError as refused:
        parts = [p for p in PurePosixPath(name).parts if p not in ("..", ".")]
        climbs = ".." in PurePosixPath(name).parts
        if not climbs or not parts or PurePosixPath(name).is_absolute() or PureWindowsPath(image_path).drive:
            raise  # absolute or empty names stay refused
        target = Path(os.path.normpath(file.parent.resolve() / name))
        if target.is_file():
            inside = _relative_to(target, root)
            return inside if inside is not None else target
        if not given_root:
            raise FormatError(file, f"image file name {image_path!r} points outside the data folder and no "
                                    "image is there; give the images folder (--images)") from refused
        tails = [Path(*parts[k:]) for k in range(len(parts))]
        return next((t for t in tails if (root / t).is_file()), tails[-1])


def _relative_to(path: Path, folder: Path) -> Path | None:
    try:
        return path.relative_to(folder.resolve())
    except ValueError:
        return None


def _shape_polygons(shape: dict[str, Any], file: Path, where: str) -> tuple[list[np.ndarray], bool]:
    """The shape's outlines (none for shapes that are not cells) and whether it is only a box."""
    kind = shape.get("shape_type") or "polygon"
    points = shape.get("points")
    if kind == "polygon":
        return [polygon_from_points(points, file, where)], False
    if kind == "oriented_rectangle":  # LabelMe 6: its 4 corners, turned; a box, not an outline
        require(isinstance(points, list) and len(points) == 4, file,
                f"{where}: an oriented rectangle needs 4 points")
        return [polygon_from_points(points, file, where)], True
    if kind == "mask":
        return _mask_outlines(shape, file, where), False
    if kind in ("rectangle", "circle"):
        require(isinstance(points, list) and len(points) == 2, file, f"{where}: a {kind} needs 2 points")
        (xa, ya), (xb, yb) = (polygon_from_xy_pair(p, file, where) for p in points)
        if kind == "rectangle":
            require(xa != xb and ya != yb, file, f"{where}: rectangle has no area")
            return [rectangle(min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb))], True
        radius = math.hypot(xb - xa, yb - ya)
        require(radius > 0, file, f"{where}: circle has no area")
        t = np.linspace(0, 2 * math.pi, CIRCLE_VERTICES, endpoint=False)
        return [np.stack([xa + radius * np.cos(t), ya + radius * np.sin(t)], axis=1)], False
    log.warning("%s: %s: %s shapes are not cell outlines; skipped", file, where, kind)
    return [], False


def _mask_outlines(shape: dict[str, Any], file: Path, where: str) -> list[np.ndarray]:
    """Outlines of a LabelMe mask shape (its AI mask tool): ``mask`` is a base64 PNG of the patch whose
    first and last pixels are ``points`` ``[[x1, y1], [x2, y2]]`` (pixel indices, both included)."""
    points = shape.get("points")
    require(isinstance(points, list) and len(points) == 2, file, f"{where}: a mask needs 2 points")
    (x1, y1), (x2, y2) = (polygon_from_xy_pair(p, file, where) for p in points)
    encoded = shape.get("mask")
    require(isinstance(encoded, str) and encoded, file, f"{where}: a mask shape needs its 'mask' (a base64 PNG)")
    try:
        with Image.open(io.BytesIO(base64.b64decode(encoded, validate=True))) as picture:
            patch = np.asarray(picture.convert("L")) > 0
    except (ValueError, OSError) as exc:
        raise FormatError(file, f"{where}: 'mask' is not a base64 PNG ({exc})") from exc
    expected = (int(y2) - int(y1) + 1, int(x2) - int(x1) + 1)
    require(patch.shape == expected, file, f"{where}: mask is {patch.shape[1]}x{patch.shape[0]} pixels but its "
                                           f"points span {expected[1]}x{expected[0]}")
    outlines = [translate(p, int(x1), int(y1)) for p in mask_to_polygons(patch, min_area=1.0)]
    require(bool(outlines), file, f"{where}: mask is empty")
    return outlines


def polygon_from_xy_pair(point: Any, file: Path, where: str) -> tuple[float, float]:
    ok = isinstance(point, list) and len(point) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in point)
    require(ok, file, f"{where}: a point must be [x, y], got {point!r}")
    return float(point[0]), float(point[1])


def labelme_dict(image: ImageAnnotation, image_path: str, classes: ClassCatalogue | None = None) -> dict[str, Any]:
    """One image as a LabelMe file whose ``imagePath`` is ``image_path``; with ``classes``, the
    record also keeps the lab's own classes its cells use (:mod:`bloodview.io.class_records`)."""
    shapes = []
    for group, instance in enumerate(image.instances, start=1):
        crowd = is_crowd(instance)  # a clump of cells: flagged and described, see the module doc
        several = len(instance.polygons) > 1
        for polygon in instance.polygons:
            shapes.append({
                "label": instance.class_name,
                "points": [[json_number(x), json_number(y)] for x, y in polygon],
                "group_id": group if several else None,
                "description": CROWD_DESCRIPTION if crowd else "",
                "shape_type": "polygon",
                "flags": {CROWD_KEY: True} if crowd else {},
                "mask": None,
                RECORD_KEY: instance_record(instance),
            })
    data: dict[str, Any] = {
        "version": LABELME_VERSION,
        "flags": {SIGNED_OFF_FLAG: True} if image.signed_off else {},
        "shapes": shapes,
        "imagePath": image_path,
        "imageData": None,
        "imageHeight": image.height,
        "imageWidth": image.width,
    }
    record = image_record(image)
    if classes is not None and (own_classes := class_records(image, classes)):
        record[CLASSES_KEY] = own_classes
    if record:
        data[RECORD_KEY] = record
    return data


def save_labelme(dataset: Dataset, folder: str | Path) -> list[Path]:
    """Write one LabelMe JSON per image with cells under ``folder``; return the files."""
    folder = Path(folder)
    written = []
    for image in dataset.images:
        if not image.instances and not image.signed_off:
            continue
        target = folder / output_relative(image.image_path).with_suffix(".json")
        target.parent.mkdir(parents=True, exist_ok=True)
        source = dataset.resolve_image(image)
        if source.is_absolute() or dataset.root is not None:
            image_path = Path(os.path.relpath(source.absolute(), target.parent.absolute())).as_posix()
        else:
            image_path = image.image_path.name
        written.append(atomic_write_json(target, labelme_dict(image, image_path, dataset.classes)))
    return written
