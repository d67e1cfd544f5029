"""COCO instances JSON (ground truth) import and export.

What we read: ``images`` (``id``, ``file_name``, ``width``, ``height``),
``annotations`` with ``segmentation`` as polygons (lists of flat ``[x0, y0, x1,
y1, ...]``) or RLE (``{"size": [h, w], "counts": ...}``, decoded with pycocotools
and traced back to polygons with :func:`bloodview.core.geometry.mask_to_polygons`),
or only a ``bbox`` (then a box-only rectangle), and ``categories`` matched to our
classes BY NAME. ``iscrowd: 1`` regions are kept with ``extra["iscrowd"] = True``.

What we write: one category per catalogue class (``id`` = the class id), images
numbered 1..N in dataset order, annotations 1..M with polygon segmentation,
``bbox`` as ``[x, y, w, h]`` and ``area`` of the outline. Extra keys other tools
ignore: image ``"split"`` (when set) and ``"bloodview": {"image_label",
"signed_off", "sign_off_history", "pixel_size"}`` (when set); annotation
``"bloodview"`` (see :mod:`bloodview.io.provenance`; with ``"area_um2"`` and
``"diameter_um"`` when the image's scale is known, written only); category ``"bloodview"`` (colour, key,
display name) so a file we wrote restores its catalogue exactly. An annotation
without a ``"bloodview"`` record (another tool's file) is an unreviewed import.

``file_name`` is relative to the images folder (``images_root``, by default the
JSON file's folder, or where Datumaro, CVAT and FiftyOne exports keep the images:
:func:`images_folder`); a ``..`` escaping it is refused, an absolute name is read inside it
(:func:`bloodview.io.paths.member_path`).
"""

from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path
from typing import Any

import numpy as np

from bloodview import __version__
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import mask_to_polygons, polygons_bbox, rectangle
from bloodview.core.instance import Instance
from bloodview.errors import FormatError
from bloodview.io.atomic import atomic_write_json, json_number
from bloodview.io.images import check_image_size
from bloodview.io.jsonio import as_number, read_json, require, short
from bloodview.io.labels import ClassResolver
from bloodview.io.outlines import fit_to_image, polygon_from_points
from bloodview.io.paths import image_name_for_export, member_path
from bloodview.io.provenance import RECORD_KEY, apply_image_record, image_record, instance_record, make_instance
from bloodview.io.rle import mask_to_uncompressed_rle, rle_to_mask

log = logging.getLogger(__name__)


# --- reading --------------------------------------------------------------
def load_coco(
    path: str | Path,
    images_root: str | Path | None = None,
    classes: ClassCatalogue | None = None,
    add_unknown_classes: bool = False,
    check_images: bool = True,
) -> Dataset:
    """Read a COCO instances file into a :class:`Dataset` rooted at ``images_root``.

    ``classes`` defaults to the catalogue stored in the file by bloodview, else
    the 8 PBC classes. Unknown category names raise :class:`UnknownClassError`
    unless ``add_unknown_classes``. With ``check_images``, each image file that
    exists is checked to have the stated size.
    """
    return load_coco_with_ids(path, images_root, classes, add_unknown_classes, check_images)[0]


def load_coco_with_ids(
    path: str | Path,
    images_root: str | Path | None = None,
    classes: ClassCatalogue | None = None,
    add_unknown_classes: bool = False,
    check_images: bool = True,
) -> tuple[Dataset, dict[int, ImageAnnotation], dict[int, str]]:
    """As :func:`load_coco`, plus the file's ``image id -> image`` and ``category id -> name`` maps."""
    path = Path(path)
    data = read_json(path, "COCO file")
    require(isinstance(data, dict) and isinstance(data.get("images"), list), path,
            "is not a COCO instances file (no 'images' list)")
    annotations = data.get("annotations", [])
    categories = data.get("categories", [])
    require(isinstance(annotations, list), path, "'annotations' must be a list")
    require(isinstance(categories, list), path, "'categories' must be a list")
    root = Path(images_root) if images_root is not None else images_folder(path, data["images"])
    if classes is None:
        classes = _stored_catalogue(categories) or ClassCatalogue.pbc()
    resolver = ClassResolver(classes, add_unknown_classes, path)
    category_names = _category_names(categories, path)

    by_id: dict[int, ImageAnnotation] = {}
    records: dict[int, Any] = {}
    for entry in data["images"]:
        image = _read_image_entry(entry, path)
        image_id = _int_id(entry, path, "image")
        require(image_id not in by_id, path, f"image id {image_id} appears twice")
        if check_images:
            check_image_size(root / image.image_path, image.width, image.height, path)
        by_id[image_id] = image
        records[image_id] = entry.get(RECORD_KEY)

    resolved: dict[int, str] = {}
    for index, entry in enumerate(annotations):
        require(isinstance(entry, dict), path, f"annotation #{index} is not an object")
        where = f"annotation {entry.get('id', '#' + str(index))}"
        image_id = entry.get("image_id")
        image = by_id.get(image_id) if isinstance(image_id, int) else None
        require(image is not None, path, f"{where} refers to image id {entry.get('image_id')!r}, which is not in 'images'")
        category_id = entry.get("category_id")
        require(isinstance(category_id, int) and category_id in category_names, path,
                f"{where} refers to category id {category_id!r}, which is not in 'categories'")
        if category_id not in resolved:
            require(bool(category_names[category_id].strip()), path,
                    f"{where} is in category id {category_id}, whose 'name' is empty")
            resolved[category_id] = resolver(category_names[category_id])
        instance = annotation_to_instance(entry, image, resolved[category_id], path, where)
        if instance is not None:
            image.instances.append(instance)
    for image_id, image in by_id.items():
        apply_image_record(image, records[image_id], path)
    _warn_tool_masks(annotations, path)
    return Dataset(list(by_id.values()), classes, root), by_id, category_names


def _warn_tool_masks(annotations: list[Any], path: Path) -> None:
    """Say so when crowd masks may be single cells: CVAT and Datumaro (their annotations carry an
    ``attributes`` object) write every mask (brush, SAM tool) as an ``iscrowd: 1`` RLE in COCO."""
    masks = sum(1 for e in annotations if isinstance(e, dict) and e.get("iscrowd")
                and isinstance(e.get("attributes"), dict) and isinstance(e.get("segmentation"), dict))
    if masks:
        log.warning("%s: %d mask(s) marked iscrowd=1, as CVAT and Datumaro write every mask in COCO, are read as "
                    "crowd regions (clumps of cells, left out of counts); if they are single cells, export "
                    "\"CVAT for images 1.1\" from CVAT instead: bloodview reads its masks as cells", path, masks)


def annotation_to_instance(
    entry: dict[str, Any], image: ImageAnnotation, class_name: str, source: Path, where: str
) -> Instance | None:
    """One COCO annotation (polygons, RLE or bbox only) as an :class:`Instance`."""
    w, h = image.width, image.height
    segmentation = entry.get("segmentation")
    crowd = bool(entry.get("iscrowd", 0))
    box_only = False
    if isinstance(segmentation, dict):
        mask = rle_to_mask(segmentation, h, w, source, where)
        polygons = mask_to_polygons(mask)
        if not polygons:
            log.warning("%s: %s: RLE mask is empty; skipped", source, where)
            return None
    elif isinstance(segmentation, list) and segmentation:
        polygons = [polygon_from_points(p, source, where) for p in segmentation]
        polygons = fit_to_image(polygons, w, h, source, where)
    else:
        bbox = entry.get("bbox")
        require(isinstance(bbox, list) and len(bbox) == 4, source, f"{where} has neither a segmentation nor a bbox")
        x, y, bw, bh = (as_number(v, source, f"{where} bbox") for v in bbox)
        require(bw > 0 and bh > 0, source, f"{where} has an empty bbox {bbox}")
        polygons = fit_to_image([rectangle(x, y, x + bw, y + bh)], w, h, source, where)
        box_only = True
    if not polygons:
        return None  # wholly outside the image (warned by fit_to_image)
    score = entry.get("score")
    instance = make_instance(polygons, class_name, entry.get(RECORD_KEY), source, score=score, box_only=box_only)
    if crowd:
        instance.extra["iscrowd"] = True
    return instance


def _read_image_entry(entry: Any, path: Path) -> ImageAnnotation:
    require(isinstance(entry, dict), path, f"an image entry is not an object: {entry!r}")
    name = entry.get("file_name")
    relative = member_path(name, path)
    width, height = entry.get("width"), entry.get("height")
    require(isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0, path,
            f"image {name!r} needs positive integer 'width' and 'height', got {width!r} x {height!r}")
    return ImageAnnotation(relative, width, height, split=entry.get("split"))


def _int_id(entry: dict[str, Any], path: Path, what: str) -> int:
    value = entry.get("id")
    require(isinstance(value, int) and not isinstance(value, bool), path, f"{what} {entry.get('file_name', '')!r} has no integer 'id'")
    return int(value)


def _category_names(categories: list[Any], path: Path) -> dict[int, str]:
    names: dict[int, str] = {}
    for entry in categories:
        require(isinstance(entry, dict) and isinstance(entry.get("name"), str), path,
                f"a category has no 'name': {short(entry)}")
        require(isinstance(entry.get("id"), int) and not isinstance(entry.get("id"), bool), path,
                f"category {entry['name']!r} has no integer 'id' (got {short(entry.get('id'))})")
        require(entry.get("id") not in names, path, f"category id {entry.get('id')!r} appears twice")
        names[entry.get("id")] = entry["name"]  # type: ignore[index]
    return names


def images_folder(path: Path, entries: list[Any]) -> Path:
    """Where the images of the COCO file ``path`` are, when no images folder is given.

    The JSON's own folder (Roboflow, MakeSense, bloodview) unless none of the first images is
    there but is in a folder that other tools' exports put them in: ``images/<subset>/``
    or ``images/`` beside an ``annotations/`` folder holding ``instances_<subset>.json``
    (Datumaro, CVAT "COCO 1.0"), ``<subset>/`` there (COCO 2017's own ``val2017/``), or
    ``data/`` or ``images/`` beside the JSON (FiftyOne).
    """
    here = path.parent
    names = [e["file_name"] for e in entries[:5] if isinstance(e, dict) and isinstance(e.get("file_name"), str)]
    candidates = [here, here / "data", here / "images"]
    if here.name == "annotations":
        subset = path.stem.split("_", 1)[1] if path.stem.startswith("instances_") else ""
        above = here.parent
        candidates[1:1] = [above / "images" / subset, above / "images", above / subset, above]
    for folder in candidates:
        if any(_is_file(folder, name) for name in names):
            if folder != here:
                log.info("%s: images found in %s", path, folder)
            return folder
    return here


def _is_file(folder: Path, name: str) -> bool:
    try:
        return (folder / member_path(name, folder)).is_file()
    except FormatError:
        return False


def _stored_catalogue(categories: list[Any]) -> ClassCatalogue | None:
    """The catalogue bloodview wrote into the categories (None for other files)."""
    if not categories or not all(isinstance(c, dict) and isinstance(c.get("bloodview"), dict) for c in categories):
        return None
    try:
        return ClassCatalogue.from_list([{"id": c["id"], "name": c["name"], **c["bloodview"]} for c in categories])
    except (KeyError, ValueError, TypeError):
        return None


# --- writing --------------------------------------------------------------
def coco_dict(dataset: Dataset, images_root: Path | None = None, rle: bool = False) -> dict[str, Any]:
    """The dataset as a COCO instances dict (ids 1..N by position), for files or pycocotools.

    ``rle=True`` writes every segmentation as compressed RLE of the instance's
    rasterised mask (exactly our pixels) instead of polygons.
    Use with pycocotools: ``coco = COCO(); coco.dataset = coco_dict(ds); coco.createIndex()``.
    """
    from bloodview.io.rle import mask_to_rle

    images, annotations = [], []
    for image_id, image in enumerate(dataset.images, start=1):
        entry: dict[str, Any] = {
            "id": image_id,
            "file_name": image_name_for_export(dataset, image, images_root),
            "width": image.width,
            "height": image.height,
        }
        if image.split:
            entry["split"] = image.split
        record = {k: v for k, v in image_record(image).items() if k != "split"}
        if record:
            entry[RECORD_KEY] = record
        images.append(entry)
        for instance in image.instances:
            ann = instance_annotation(instance, image, dataset.classes, len(annotations) + 1, image_id)
            if rle and not ann["iscrowd"]:
                ann["segmentation"] = mask_to_rle(instance.to_mask(image.height, image.width))
            annotations.append(ann)
    return {
        "info": {
            "description": "bloodview annotations",
            "version": __version__,
            "date_created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": categories(dataset.classes),
    }


def categories(classes: ClassCatalogue) -> list[dict[str, Any]]:
    return [
        {
            "id": item["id"],
            "name": item["name"],
            "supercategory": "cell",
            "bloodview": {k: item[k] for k in ("display_name", "color", "key", "white_cell")},
        }
        for item in classes.to_list()
    ]


def instance_annotation(
    instance: Instance, image: ImageAnnotation, classes: ClassCatalogue, ann_id: int, image_id: int
) -> dict[str, Any]:
    """A COCO annotation for one instance (crowd regions as uncompressed RLE)."""
    x1, y1, x2, y2 = polygons_bbox(instance.polygons)
    record = instance_record(instance)
    size = image.cell_size(instance)
    if size is not None:
        record |= {"area_um2": json_number(size.area_um2, 2), "diameter_um": json_number(size.diameter_um, 2)}
    crowd = bool(instance.extra.get("iscrowd"))
    if crowd:
        segmentation: Any = mask_to_uncompressed_rle(instance.to_mask(image.height, image.width))
    else:
        segmentation = [flat_coordinates(p) for p in instance.polygons]
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": classes[classes.resolve(instance.class_name)].id,
        "segmentation": segmentation,
        "area": json_number(instance.area),
        "bbox": [json_number(v) for v in (x1, y1, x2 - x1, y2 - y1)],
        "iscrowd": int(crowd),
        RECORD_KEY: record,
    }


def flat_coordinates(polygon: np.ndarray) -> list[int | float]:
    """``[x0, y0, x1, y1, ...]`` rounded to 4 decimals, whole numbers written as ints.

    Rounds the whole array at once: files with tens of thousands of cells stay fast.
    """
    values = np.round(np.asarray(polygon, dtype=np.float64).reshape(-1), 4)
    whole = values == np.floor(values)
    return [int(v) if w else float(v) for v, w in zip(values.tolist(), whole.tolist())]


def save_coco(dataset: Dataset, path: str | Path, images_root: str | Path | None = None) -> Path:
    """Write ``dataset`` as a compact COCO instances file, atomically (old file kept as ``.bak``).

    ``file_name`` entries are relative to ``images_root`` (default: the dataset's
    image folder for relative paths; see :func:`image_name_for_export`).

    Raises :class:`FormatError` naming the image when one has no size (0 x 0, an
    image that could not be read): COCO requires positive sizes and
    :func:`load_coco` would refuse the file. Nothing is written then.
    """
    path = Path(path)
    for image in dataset.images:
        if image.width <= 0 or image.height <= 0:
            raise FormatError(path, f"cannot write image {image.image_path.as_posix()!r}: its size is unknown "
                                    f"({image.width} x {image.height}; the image could not be read); leave it out "
                                    "or make the image readable")
    root = Path(images_root) if images_root is not None else path.parent
    return atomic_write_json(path, coco_dict(dataset, root), compact=True)


# Results files live in their own module; re-exported here as part of the COCO API.
from bloodview.io.coco_results import load_coco_results, save_coco_results  # noqa: E402

__all__ = [
    "coco_dict",
    "load_coco",
    "load_coco_results",
    "load_coco_with_ids",
    "save_coco",
    "save_coco_results",
]
