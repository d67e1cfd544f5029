"""Pascal VOC XML boxes (e.g. BCCD): read as box-only cells, written back as XML.

What we read: a VOC data set folder (``Annotations/*.xml`` beside
``JPEGImages/``, splits from ``ImageSets/Main/{train,val,test}.txt``), a folder
of XML files, or one XML file. Per ``<object>``: ``<name>`` (matched to the
catalogue; unknown names such as ``RBC``/``WBC`` are added as project classes
``rbc``/``wbc`` by default, ``Platelets`` becomes ``platelet``) and
``<bndbox>``. Coordinates are taken as pixel-edge coordinates (as MakeSense and
LabelImg write them): the box ``xmin..xmax`` becomes the rectangle polygon
``(xmin, ymin)-(xmax, ymax)`` with ``box_only=True``. Boxes with
``xmax <= xmin`` or ``ymax <= ymin`` are skipped with a logged warning; boxes
crossing the image border are clipped, boxes wholly outside it skipped with a warning. ``<difficult>1`` is kept in
``extra["difficult"]``. Image sizes come from ``<size>``, or from the image
file when missing or zero.

What we write: one ``<image stem>.xml`` per image into a folder, boxes rounded
to whole pixels.
"""

from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.errors import FormatError, ImageError
from bloodview.io.atomic import atomic_write_text
from bloodview.io.images import check_image_size, read_image_size
from bloodview.io.jsonio import read_text
from bloodview.io.labels import ClassResolver
from bloodview.io.outlines import fit_to_image
from bloodview.io.paths import member_path, output_relative, visible
from bloodview.io.provenance import imported_instance

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


def voc_folders(path: Path, images_root: Path | None) -> tuple[list[Path], Path, Path]:
    """``(xml files, images folder, data set folder)`` for a file, XML folder or VOC root."""
    if path.is_file():
        xml_files, xml_dir = [path], path.parent
    else:
        xml_dir = path / "Annotations" if (path / "Annotations").is_dir() else path
        xml_files = visible(sorted(xml_dir.glob("*.xml")))
        if not xml_files and any((path / f"Segmentation{k}").is_dir() for k in ("Object", "Class")):
            raise FormatError(path, "holds VOC segmentation masks (Segmentation*/, as CVAT's \"Segmentation "
                                    "mask 1.1\" exports) but no Annotations/*.xml; bloodview does not read those "
                                    "masks: export \"CVAT for images 1.1\" or COCO instead")
        if not xml_files:
            raise FormatError(path, "holds no Pascal VOC .xml files")
    if images_root is None:
        sibling = xml_dir.parent / "JPEGImages"
        images_root = sibling if sibling.is_dir() else xml_dir
    base = xml_dir.parent if xml_dir.name == "Annotations" else xml_dir
    return xml_files, Path(images_root), base


def load_voc(
    path: str | Path,
    images_root: str | Path | None = None,
    classes: ClassCatalogue | None = None,
    add_unknown_classes: bool = True,
    check_images: bool = True,
) -> Dataset:
    """Read VOC boxes into a Dataset of box-only instances (see module doc)."""
    xml_files, root, base = voc_folders(Path(path), Path(images_root) if images_root else None)
    classes = classes if classes is not None else ClassCatalogue.pbc()
    splits = _splits(base / "ImageSets" / "Main")
    images = []
    for xml_file in xml_files:
        image = _read_xml(xml_file, root, ClassResolver(classes, add_unknown_classes, xml_file), check_images)
        image.split = splits.get(xml_file.stem)
        images.append(image)
    return Dataset(images, classes, root)


def _read_xml(xml_file: Path, root: Path, resolver: ClassResolver, check: bool) -> ImageAnnotation:
    try:
        tree = ET.parse(xml_file)
    except ET.ParseError as exc:
        raise FormatError(xml_file, f"is not valid XML ({exc})") from exc
    except OSError as exc:
        raise FormatError(xml_file, f"cannot be read ({exc.strerror or exc})") from exc
    node = tree.getroot()
    if node.tag != "annotation":
        raise FormatError(xml_file, f"is not a Pascal VOC annotation (root element <{node.tag}>)")
    name = node.findtext("filename") or f"{xml_file.stem}.jpg"
    relative = member_path(name.strip(), xml_file)
    width, height = _int(node.findtext("size/width")), _int(node.findtext("size/height"))
    if width <= 0 or height <= 0:
        try:
            width, height = read_image_size(root / relative)
        except ImageError as exc:  # name the XML too: which file wanted the image, and why
            raise ImageError(root / relative, f"{exc.reason}; {xml_file.name} gives no <size>, so it needs its "
                             "image (give the images folder)") from exc
    elif check:
        check_image_size(root / relative, width, height, xml_file)
    image = ImageAnnotation(relative, width, height)
    for index, obj in enumerate(node.iter("object")):
        where = f"object {index}"
        box = [obj.findtext(f"bndbox/{k}") for k in ("xmin", "ymin", "xmax", "ymax")]
        try:
            x1, y1, x2, y2 = (float(v) for v in box)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise FormatError(xml_file, f"{where}: <bndbox> needs numbers xmin, ymin, xmax, ymax, got {box}") from exc
        if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
            raise FormatError(xml_file, f"{where}: <bndbox> needs finite numbers, got {box}")
        if x2 <= x1 or y2 <= y1:
            log.warning("%s: %s: empty box (%g, %g, %g, %g) skipped", xml_file, where, x1, y1, x2, y2)
            continue
        class_name = resolver((obj.findtext("name") or "").strip())
        polygons = fit_to_image([rectangle(x1, y1, x2, y2)], width, height, xml_file, where)
        if not polygons:
            continue
        extra = {"difficult": True} if (obj.findtext("difficult") or "0").strip() == "1" else {}
        image.instances.append(imported_instance(polygons, class_name, box_only=True, extra=extra))
    return image


def _int(text: str | None) -> int:
    try:
        return int(float(text)) if text is not None else 0
    except (ValueError, OverflowError):
        return 0


def _splits(folder: Path) -> dict[str, str]:
    splits: dict[str, str] = {}
    for split in SPLITS:
        listing = folder / f"{split}.txt"
        if listing.is_file():
            for line in read_text(listing, "image list").split():  # a BOM is not part of the first name
                splits.setdefault(line.strip(), split)
    return splits


def voc_xml(image: ImageAnnotation) -> str:
    """One image's cells as a VOC ``<annotation>`` (boxes of the outlines, whole pixels)."""
    lines = [
        "<annotation>",
        f"\t<filename>{escape(image.image_path.name)}</filename>",
        f"\t<size>\n\t\t<width>{image.width}</width>\n\t\t<height>{image.height}</height>\n\t\t<depth>3</depth>\n\t</size>",
        "\t<segmented>0</segmented>",
    ]
    for instance in image.instances:
        x1, y1, x2, y2 = (int(round(v)) for v in instance.bbox)
        difficult = int(bool(instance.extra.get("difficult")))
        lines.append(
            f"\t<object>\n\t\t<name>{escape(instance.class_name)}</name>\n\t\t<pose>Unspecified</pose>\n"
            f"\t\t<truncated>0</truncated>\n\t\t<difficult>{difficult}</difficult>\n\t\t<bndbox>\n"
            f"\t\t\t<xmin>{x1}</xmin>\n\t\t\t<ymin>{y1}</ymin>\n\t\t\t<xmax>{x2}</xmax>\n\t\t\t<ymax>{y2}</ymax>\n"
            "\t\t</bndbox>\n\t</object>"
        )
    lines.append("</annotation>\n")
    return "\n".join(lines)


def save_voc(dataset: Dataset, folder: str | Path) -> list[Path]:
    """Write ``<image path>.xml`` for every image under ``folder``; return the files."""
    folder = Path(folder)
    written = []
    for image in dataset.images:
        target = folder / output_relative(image.image_path).with_suffix(".xml")
        target.parent.mkdir(parents=True, exist_ok=True)
        written.append(atomic_write_text(target, voc_xml(image)))
    return written
