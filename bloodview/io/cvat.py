"""CVAT's own XML, "CVAT for images 1.1": read only.

CVAT is the annotation tool most labs run; its native export keeps polygons,
masks and attributes that its COCO/VOC exports flatten, and Datumaro writes the
same layout (format ``cvat``). Layout, as CVAT 2.x and Datumaro 1.13 write it::

    <annotations><version>1.1</version><meta>…<labels><label><name>…</name>…</meta>
      <image id="0" name="a.jpg" width="640" height="480" subset="Train">
        <polygon label="neutrophil" occluded="0" points="10.00,10.00;30.00,10.00;30.00,30.00" z_order="0"/>
        <box label="rbc" xtl="1.00" ytl="2.00" xbr="40.00" ybr="41.00" rotation="15.0"/>
        <ellipse label="rbc" cx="50" cy="50" rx="10" ry="8" rotation="0"/>
        <mask label="platelet" rle="3, 2, 1" left="5" top="6" width="3" height="2"/>
        <tag label="neutrophil"/>
      </image></annotations>

What we read, per ``<image>`` (``name`` relative to the images folder: ``images/``
beside the XML when there is one, as CVAT's and Datumaro's exports unpack, else
the XML's folder): ``polygon`` (``x,y;x,y;…`` in pixel-edge coordinates, as
CVAT draws), ``box`` (a box-only cell; a ``rotation`` in degrees, clockwise
about the centre, gives the turned rectangle), ``ellipse`` (a 32-gon) and
``mask`` (CVAT's run lengths over the ``width`` x ``height`` patch at
``left``, ``top``, row by row, starting with a run of background; traced to
outlines). Shapes with no area (BCCD's empty boxes, carried over) are skipped with
a warning, as the VOC reader does, rather than refusing the file. ``occluded="1"`` and ``<attribute>`` children are kept in the cell's
``extra``. A ``<tag>`` names the image's class (``image_label``) when it is the
only one. A box grouped (``group_id``) with an outline of the same label is that
outline's box, not another cell (Datumaro writes both for a COCO object), and is
left out. Polylines, points, cuboids, skeletons and tracks ("CVAT for video")
are not cell outlines: skipped with a warning. ``subset`` Train/Validation/Test
becomes the split. Every cell is an unreviewed import (CVAT does not say who
checked it).
"""

from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import mask_to_polygons, rectangle, translate
from bloodview.errors import FormatError
from bloodview.io.images import check_image_size
from bloodview.io.labels import ClassResolver
from bloodview.io.outlines import fit_to_image, polygon_from_points
from bloodview.io.paths import member_path, visible
from bloodview.io.provenance import imported_instance

log = logging.getLogger(__name__)

ROOT_TAG = "annotations"
ELLIPSE_VERTICES = 32
OUTLINES = ("polygon", "box", "ellipse", "mask")
NOT_CELLS = ("polyline", "points", "cuboid", "skeleton")
SPLITS = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


def is_cvat_xml(path: Path) -> bool:
    """Whether ``path`` is an XML file whose root element is CVAT's ``<annotations>`` (reads only its start)."""
    try:
        for _, element in ET.iterparse(path, events=("start",)):
            return element.tag == ROOT_TAG
    except (ET.ParseError, OSError):
        return False
    return False


def cvat_file(path: Path) -> Path:
    """The XML of ``path``: the file itself, or the one CVAT XML in a folder (``annotations.xml`` first)."""
    if path.is_file():
        return path
    if (path / "annotations.xml").is_file():
        return path / "annotations.xml"
    found = [p for p in visible(sorted(path.glob("*.xml"))) if is_cvat_xml(p)]
    if len(found) != 1:
        what = "no CVAT XML file" if not found else f"{len(found)} CVAT XML files ({', '.join(p.name for p in found)})"
        raise FormatError(path, f"holds {what}; give the XML file itself")
    return found[0]


def load_cvat(
    path: str | Path,
    images_root: str | Path | None = None,
    classes: ClassCatalogue | None = None,
    add_unknown_classes: bool = False,
    check_images: bool = True,
) -> Dataset:
    """Read a "CVAT for images 1.1" XML file (or a folder holding one) into a Dataset (see module doc)."""
    xml_file = cvat_file(Path(path))
    try:
        node = ET.parse(xml_file).getroot()
    except ET.ParseError as exc:
        raise FormatError(xml_file, f"is not valid XML ({exc})") from exc
    except OSError as exc:
        raise FormatError(xml_file, f"cannot be read ({exc.strerror or exc})") from exc
    if node.tag != ROOT_TAG:
        raise FormatError(xml_file, f"is not a CVAT XML file (root element <{node.tag}>, expected <{ROOT_TAG}>)")
    image_nodes = node.findall("image")
    if not image_nodes and node.find("track") is not None:
        raise FormatError(xml_file, "is a \"CVAT for video\" file (tracks, no images); export the task from CVAT "
                                    "as \"CVAT for images 1.1\" instead")
    if node.find("track") is not None:
        log.warning("%s: tracks (\"CVAT for video\" objects) are not read; only <image> shapes are", xml_file)
    if images_root is None:
        beside = xml_file.parent / "images"
        root = beside if beside.is_dir() else xml_file.parent
    else:
        root = Path(images_root)
    classes = classes if classes is not None else ClassCatalogue.pbc()
    resolver = ClassResolver(classes, add_unknown_classes, xml_file)
    read = [_read_image(element, xml_file, root, resolver, check_images) for element in image_nodes]
    if boxes := sum(n for _, n in read):
        log.info("%s: %d box(es) grouped with an outline of the same label left out (the outline's box, as "
                 "Datumaro writes it beside a COCO object's polygon)", xml_file, boxes)
    return Dataset([image for image, _ in read], classes, root)


def _read_image(element: ET.Element, xml_file: Path, root: Path, resolver: ClassResolver,
                check: bool) -> tuple[ImageAnnotation, int]:
    """One ``<image>`` and how many boxes it left out as its outlines' boxes."""
    name = (element.get("name") or "").strip()
    if not name:
        raise FormatError(xml_file, f"<image id={element.get('id')!r}> has no name")
    width, height = _size(element, xml_file, name)
    relative = member_path(name, xml_file)
    if check:
        check_image_size(root / relative, width, height, xml_file)
    image = ImageAnnotation(relative, width, height)
    image.split = SPLITS.get((element.get("subset") or "").strip().lower())
    outlined_groups = {(c.get("group_id"), c.get("label")) for c in element
                       if c.tag in ("polygon", "ellipse", "mask") and c.get("group_id") not in (None, "", "0")}
    tags, grouped_boxes = [], 0
    for index, child in enumerate(element):
        where = f"image {name!r} {child.tag} {index}"
        if child.tag == "tag":
            tags.append(child.get("label") or "")
            continue
        if child.tag in NOT_CELLS:
            log.warning("%s: %s: %s shapes are not cell outlines; skipped", xml_file, where, child.tag)
            continue
        if child.tag not in OUTLINES:
            continue
        if child.tag == "box" and (child.get("group_id"), child.get("label")) in outlined_groups:
            grouped_boxes += 1
            continue
        outlines = _outlines(child, xml_file, where)
        polygons = fit_to_image(outlines, width, height, xml_file, where) if outlines else []
        if not polygons:
            continue
        image.instances.append(imported_instance(
            polygons, resolver(child.get("label")), box_only=child.tag == "box", extra=_extra(child)))
    if len(tags) == 1:
        image.image_label = resolver(tags[0])
    elif tags:
        log.warning("%s: image %r has %d tags; none taken as its class", xml_file, name, len(tags))
    return image, grouped_boxes


def _size(element: ET.Element, xml_file: Path, name: str) -> tuple[int, int]:
    try:
        width, height = int(element.get("width", "")), int(element.get("height", ""))
    except ValueError:
        width = height = 0
    if width <= 0 or height <= 0:
        raise FormatError(xml_file, f"image {name!r} needs positive integer width and height, got "
                                    f"{element.get('width')!r} x {element.get('height')!r}")
    return width, height


def _number(element: ET.Element, key: str, xml_file: Path, where: str) -> float:
    try:
        value = float(element.get(key, ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise FormatError(xml_file, f"{where}: needs a number {key}, got {element.get(key)!r}")
    return value


def _outlines(child: ET.Element, xml_file: Path, where: str) -> list[np.ndarray]:
    """The shape's polygons in image pixels (pixel-edge coordinates)."""
    if child.tag == "polygon":
        try:
            points = [[float(v) for v in pair.split(",")] for pair in (child.get("points") or "").split(";")]
        except ValueError as exc:
            raise FormatError(xml_file, f"{where}: points must be 'x,y;x,y;…', "
                                        f"got {child.get('points')!r:.80}") from exc
        return [polygon_from_points(points, xml_file, where)]
    rotation = _number(child, "rotation", xml_file, where) if child.get("rotation") else 0.0
    if child.tag == "box":
        x1, y1, x2, y2 = (_number(child, k, xml_file, where) for k in ("xtl", "ytl", "xbr", "ybr"))
        if x2 <= x1 or y2 <= y1:
            log.warning("%s: %s: empty box (%g, %g, %g, %g) skipped", xml_file, where, x1, y1, x2, y2)
            return []
        return [_turned(rectangle(x1, y1, x2, y2), (x1 + x2) / 2, (y1 + y2) / 2, rotation)]
    if child.tag == "ellipse":
        cx, cy, rx, ry = (_number(child, k, xml_file, where) for k in ("cx", "cy", "rx", "ry"))
        if rx <= 0 or ry <= 0:
            log.warning("%s: %s: ellipse has no area; skipped", xml_file, where)
            return []
        t = np.linspace(0, 2 * math.pi, ELLIPSE_VERTICES, endpoint=False)
        return [_turned(np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1), cx, cy, rotation)]
    return _mask_outlines(child, xml_file, where)


def _turned(polygon: np.ndarray, cx: float, cy: float, degrees: float) -> np.ndarray:
    """``polygon`` turned ``degrees`` clockwise on screen (y down) about ``(cx, cy)``, as CVAT turns shapes."""
    if not degrees:
        return polygon
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    dx, dy = polygon[:, 0] - cx, polygon[:, 1] - cy
    return np.stack([cx + c * dx - s * dy, cy + s * dx + c * dy], axis=1)


def _mask_outlines(child: ET.Element, xml_file: Path, where: str) -> list[np.ndarray]:
    """Outlines of a CVAT mask: runs over the patch row by row, background first, from (left, top)."""
    left, top, width, height = (int(_number(child, k, xml_file, where)) for k in ("left", "top", "width", "height"))
    try:
        runs = [int(v) for v in (child.get("rle") or "").split(",")]
    except ValueError as exc:
        raise FormatError(xml_file, f"{where}: rle must be comma-separated run lengths") from exc
    if width <= 0 or height <= 0 or any(r < 0 for r in runs) or sum(runs) != width * height:
        raise FormatError(xml_file, f"{where}: mask run lengths add up to {sum(runs)}, not its "
                                    f"{width} x {height} = {width * height} pixels")
    values = np.repeat(np.arange(len(runs)) % 2, runs).astype(bool).reshape(height, width)
    polygons = [translate(p, left, top) for p in mask_to_polygons(values, min_area=1.0)]
    if not polygons:
        log.warning("%s: %s: mask is empty; skipped", xml_file, where)
    return polygons


def _extra(child: ET.Element) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if child.get("occluded") == "1":
        extra["occluded"] = True
    attributes = {a.get("name"): (a.text or "") for a in child.findall("attribute") if a.get("name")}
    if attributes:
        extra["attributes"] = attributes
    return extra
