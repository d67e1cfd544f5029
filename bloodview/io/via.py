"""VGG Image Annotator (VIA) polygon JSON, laid out as MakeSense's "VGG JSON" export.

What we write (compact JSON, as MakeSense's ``JSON.stringify``)::

    {"<file name><file bytes>": {"fileref": "", "size": <file bytes>, "filename": "<file name>",
                     "base64_img_data": "", "file_attributes": {"bloodview": "<image record>"},
                     "regions": {"0": {"shape_attributes": {"name": "polygon",
                                        "all_points_x": [x0, ..., x0], "all_points_y": [y0, ..., y0]},
                                       "region_attributes": {"label": "<class>",
                                                             "bloodview": "<cell record>"}}}}}

That is MakeSense's layout, keyed as VIA 2 keys images (:func:`via_key`; MakeSense keys by the
bare file name, which VIA 2 does not match to the images), plus one namespaced ``bloodview`` attribute per region
(and per file when the image has a sign-off, label or split): the provenance
records of :mod:`bloodview.io.provenance` as compact JSON *text*, because VIA
attributes are strings (VIA shows it as a text attribute; tools that read
``label`` ignore it). The first vertex is repeated at the end; images without
outlines are left out unless they were signed off (as empty); COCO crowd regions
(``iscrowd: 1``) are left out with a warning saying how many in which images
(:mod:`bloodview.io.crowd`: MakeSense would read a clump as one cell); each polygon of a
cell is its own region (VIA has no multi-part regions), and regions sharing a
record id are joined back into one cell on reading. ``size`` is -1 when the
image file is not at hand (VIA's value for unknown sizes).

What we read: that layout, VIA 1/2 files keyed by file name + size, ``regions``
as an object or a list (VIA 2), a VIA 2 project (``_via_img_metadata``); shapes
``polygon``, ``rect`` (a box-only cell), ``circle`` and ``ellipse`` (as 32-gons);
points and polylines are skipped with a warning. The label is the region
attribute ``label`` (MakeSense), else the only other text attribute. A region
without a ``bloodview`` record (MakeSense's own export, VIA) is an unreviewed
import. VIA files do not store image sizes, so the images must be at hand
(``images_root``, by default the JSON file's folder).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.errors import FormatError, ImageError
from bloodview.io.atomic import atomic_write_json, json_number
from bloodview.io.image_lookup import FolderListings, find_recorded
from bloodview.io.images import read_image_size
from bloodview.io.jsonio import as_number, read_json, require, short
from bloodview.io.class_records import CLASSES_KEY, adopt_record_classes, class_records
from bloodview.io.labels import ClassResolver
from bloodview.io.outlines import fit_to_image, polygon_from_xy
from bloodview.io.paths import flat_export_names, member_path
from bloodview.io.crowd import is_crowd, warn_left_out
from bloodview.io.provenance import (
    RECORD_KEY,
    apply_image_record,
    decode_record,
    encode_record,
    image_record,
    instance_record,
    make_instance,
    merge_parts,
)

log = logging.getLogger(__name__)

ELLIPSE_VERTICES = 32


def load_via(
    path: str | Path,
    images_root: str | Path | None = None,
    classes: ClassCatalogue | None = None,
    add_unknown_classes: bool = False,
) -> Dataset:
    """Read a VIA / MakeSense VGG polygon file into a Dataset rooted at ``images_root``."""
    path = Path(path)
    data = read_json(path, "VIA file")
    if isinstance(data, dict) and isinstance(data.get("_via_img_metadata"), dict):
        data = data["_via_img_metadata"]
    require(isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()), path,
            "is not a VIA/VGG annotation file (expected an object of image entries)")
    root = Path(images_root) if images_root is not None else path.parent
    classes = classes if classes is not None else ClassCatalogue.pbc()
    resolver = ClassResolver(classes, add_unknown_classes, path)
    images = []
    listings = FolderListings()
    for key, entry in data.items():
        name = entry.get("filename", key)
        relative = member_path(name, path)
        width, height = _image_size(root, relative, path, listings)
        image = ImageAnnotation(relative, width, height)
        attributes = entry.get("file_attributes")
        record = decode_record(attributes.get(RECORD_KEY), path, name) if isinstance(attributes, dict) else None
        adopt_record_classes(record, classes, add_unknown_classes, path)  # before the labels are resolved
        regions = entry.get("regions", [])
        if isinstance(regions, dict):
            regions = list(regions.values())
        require(isinstance(regions, list), path, f"{name}: 'regions' must be an object or a list")
        found = [_region_instance(region, image, resolver, path, f"{name} region {index}")
                 for index, region in enumerate(regions)]
        image.instances = merge_parts([i for i in found if i is not None])
        if isinstance(attributes, dict):
            apply_image_record(image, record, path)
        images.append(image)
    return Dataset(images, classes, root)


def _image_size(root: Path, relative: Path, path: Path, listings: FolderListings) -> tuple[int, int]:
    """``(width, height)`` of the image recorded as ``relative``, looked for as the window looks
    (:func:`bloodview.io.image_lookup.find_recorded`: a file written on a PC names
    ``C:\\smears\\IMG_1.JPG`` for ``img_1.jpg``). The recorded path is kept; the reader's caller
    (:func:`bloodview.io.detect.load_annotations`) points it at the file and says so."""
    found = find_recorded(root, relative, listings)
    try:
        return read_image_size(root / (found if found is not None else relative))
    except ImageError as exc:
        raise ImageError(root / relative, f"{exc.reason}; VIA files do not store image sizes, "
                         f"so {path.name} needs its images (give the images folder)") from exc


def _region_instance(region: Any, image: ImageAnnotation, resolver: ClassResolver, path: Path, where: str):
    require(isinstance(region, dict), path, f"{where} is not an object")
    shape = region.get("shape_attributes") or {}
    require(isinstance(shape, dict), path, f"{where}: 'shape_attributes' must be an object, got {short(shape)}")
    kind = shape.get("name")
    box_only = False
    if kind == "polygon":
        polygon = polygon_from_xy(shape.get("all_points_x"), shape.get("all_points_y"), path, where)
    elif kind == "rect":
        x, y, w, h = (as_number(shape.get(k), path, f"{where} {k}") for k in ("x", "y", "width", "height"))
        require(w > 0 and h > 0, path, f"{where}: rectangle has no area")
        polygon, box_only = rectangle(x, y, x + w, y + h), True
    elif kind in ("circle", "ellipse"):
        polygon = _ellipse(shape, path, where)
    else:
        log.warning("%s: %s: %s shapes are not cell outlines; skipped", path, where, kind)
        return None
    attributes = region.get("region_attributes") or {}
    require(isinstance(attributes, dict), path,
            f"{where}: 'region_attributes' must be an object, got {short(attributes)}")
    label = _label(attributes, path, where)
    polygons = fit_to_image([polygon], image.width, image.height, path, where)
    if not polygons:
        return None
    record = decode_record(attributes.get(RECORD_KEY), path, where)
    return make_instance(polygons, resolver(label), record, path, box_only=box_only)


def _label(attributes: dict[str, Any], path: Path, where: str) -> str:
    """The class: attribute ``label``, else the only text or ticked-checkbox attribute.

    VIA 2 stores a checkbox attribute as ``{"option": true, ...}``.
    """
    values = [attributes["label"]] if "label" in attributes else [
        v for k, v in attributes.items() if k != RECORD_KEY]
    texts = []
    for value in values:
        if isinstance(value, dict):
            ticked = [k for k, v in value.items() if v]
            value = ticked[0] if len(ticked) == 1 else None
        if isinstance(value, str) and value.strip():
            texts.append(value)
    if len(texts) == 1:
        return texts[0]
    raise FormatError(path, f"{where} has no single 'label' region attribute to take the cell class from")


def _ellipse(shape: dict[str, Any], path: Path, where: str) -> np.ndarray:
    cx, cy = as_number(shape.get("cx"), path, f"{where} cx"), as_number(shape.get("cy"), path, f"{where} cy")
    if shape.get("name") == "circle":
        rx = ry = as_number(shape.get("r"), path, f"{where} r")
        theta = 0.0
    else:
        rx, ry = as_number(shape.get("rx"), path, f"{where} rx"), as_number(shape.get("ry"), path, f"{where} ry")
        theta = as_number(shape.get("theta") or 0.0, path, f"{where} theta")
    require(rx > 0 and ry > 0, path, f"{where}: ellipse has no area")
    t = np.linspace(0, 2 * math.pi, ELLIPSE_VERTICES, endpoint=False)
    x, y = rx * np.cos(t), ry * np.sin(t)
    c, s = math.cos(theta), math.sin(theta)
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)


def via_dict(dataset: Dataset, provenance: bool = True) -> dict[str, Any]:
    """The dataset laid out as MakeSense's VGG export (see module doc).

    Keyed as VIA 2 keys images (:func:`via_key`). ``provenance=False`` writes MakeSense's layout
    byte for byte instead: no ``bloodview`` attributes (every cell then comes back as an
    unreviewed import) and keyed by the bare file name, as MakeSense keys.
    """
    out: dict[str, Any] = {}
    for name, image in zip(flat_export_names(dataset), dataset.images):
        regions: dict[str, Any] = {}
        for instance in image.instances:
            if is_crowd(instance):
                continue  # a crowd region is not one cell outline (save_via says so)
            attributes = {"label": instance.class_name}
            if provenance:
                attributes[RECORD_KEY] = encode_record(instance_record(instance))
            for polygon in instance.polygons:
                xs = [json_number(v) for v in polygon[:, 0]]
                ys = [json_number(v) for v in polygon[:, 1]]
                regions[str(len(regions))] = {
                    "shape_attributes": {"name": "polygon", "all_points_x": xs + xs[:1], "all_points_y": ys + ys[:1]},
                    "region_attributes": dict(attributes),
                }
        kept = image_record(image) if provenance else {}
        if provenance and (own_classes := class_records(image, dataset.classes)):
            kept[CLASSES_KEY] = own_classes
        if not regions and not (kept.get("signed_off") or kept.get("sign_off_history")):
            continue
        size = _file_size(dataset.resolve_image(image))
        out[via_key(name, size) if provenance else name] = {
            "fileref": "",
            "size": size,
            "filename": name,
            "base64_img_data": "",
            "file_attributes": {RECORD_KEY: encode_record(kept)} if kept else {},
            "regions": regions,
        }
    return out


def via_key(name: str, size: int) -> str:
    """The key VIA 2 gives an image: its file name followed by its size in bytes (``"a.jpg51234"``;
    ``"a.jpg-1"`` when the size is unknown).

    Why not the bare name, as MakeSense writes it: VIA 2 (2.0.11, ``import_annotations_from_json``)
    keeps the key as the image's id, and when the user then adds the image files
    (``project_file_add_local``) it looks for ``name + size`` or ``name + "-1"``: under a bare-name
    key the cells sat on an entry of their own and each image came in again without them (older
    VIA 2 releases drop an entry whose key is not ``name + size`` as malformed). MakeSense imports
    no VGG JSON, and every reader we know takes the entry's ``filename``, not its key.
    """
    return f"{name}{size}"


def save_via(dataset: Dataset, path: str | Path, provenance: bool = True) -> Path:
    """Write the MakeSense VGG JSON atomically (old file kept as ``.bak``); see :func:`via_dict`.
    Crowd regions, which it leaves out, are counted in a warning."""
    warn_left_out(dataset, "via")
    return atomic_write_json(Path(path), via_dict(dataset, provenance), compact=True)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        log.warning("%s: image file not found; writing size -1 in the VIA file", path)
        return -1
