"""Test pictures for benchmarks/fields.py, built from the public data in ../shared/data.

Every reference cell is an :class:`Instance` in the pixels of the picture it belongs to:
- PBC: the centred cell of a ``val`` image, outlined by the project's bootstrap segmenter
  (:func:`bloodview.bootstrap.segment_cell.segment_cell`, the same outlines as the bootstrap
  COCO file that benchmarks/default_model.py reads), class = the image's folder;
- k x k mosaics: k*k PBC tiles (centre crops of one common size) side by side, their outlines
  moved by the tile's offset;
- BCCD: the VOC boxes of the ``test`` split (ImageSets/Main/test.txt);
- Zheng Dataset 1: the expert mask's nucleus + cytoplasm (``png > 0``) as the whole cell, class
  from ``Class Labels of Dataset 1.csv`` (1..5 = neutrophil, lymphocyte, monocyte, eosinophil,
  basophil, as its README says);
- a big field: BCCD test fields tiled edge to edge and cropped to ``width x height``, with the
  boxes that lie wholly inside it.
Nothing here runs a model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.geometry import mask_to_polygons, rectangle, translate
from bloodview.core.instance import Instance

TILE = 360  # px: the common PBC tile (images are 360x363, 366x369 or 360x360)


@dataclass
class Picture:
    """One input to ``predict``: an RGB ``uint8 (H, W, 3)`` array and its reference cells."""

    name: str
    rgb: np.ndarray
    cells: list[Instance]

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])


# --- PBC -------------------------------------------------------------------------------------


def pbc_val(root: Path) -> list[ImageAnnotation]:
    """The ``val`` images of the PBC class folders (manifest.csv), sorted by path."""
    from bloodview.io.class_folders import load_class_folders

    val = [image for image in load_class_folders(root) if image.split == "val"]
    return sorted(val, key=lambda image: image.image_path.as_posix())


def centre_crop(rgb: np.ndarray, size: int = TILE) -> tuple[np.ndarray, tuple[int, int]]:
    """``(size x size crop around the centre, (x0, y0) of the crop in rgb's pixels)``.

    A side shorter than ``size`` is padded with the image's background colour; ``x0``/``y0`` are
    then negative.
    """
    from bloodview.bootstrap.stain import background_colour

    height, width = rgb.shape[:2]
    x0, y0 = (width - size) // 2, (height - size) // 2
    out = np.empty((size, size, 3), dtype=np.uint8)
    out[:] = np.clip(background_colour(rgb), 0, 255).astype(np.uint8)
    sx, sy = max(x0, 0), max(y0, 0)
    ex, ey = min(x0 + size, width), min(y0 + size, height)
    out[sy - y0 : ey - y0, sx - x0 : ex - x0] = rgb[sy:ey, sx:ex]
    return out, (x0, y0)


def pbc_outline(rgb: np.ndarray, class_name: str) -> list[np.ndarray]:
    """Bootstrap outline (polygons, largest first) of the centred cell; ``[]`` when it finds none."""
    from bloodview.bootstrap.runner import POLYGON_TOLERANCE
    from bloodview.bootstrap.segment_cell import segment_cell

    found = segment_cell(rgb, class_name)
    if not found.found:
        return []
    return mask_to_polygons(found.mask, tolerance=POLYGON_TOLERANCE, min_area=4.0)[:1]


def pbc_tiles(root: Path, images: Sequence[ImageAnnotation], seed: int) -> Iterator[Picture]:
    """Centre-cropped PBC tiles in a seeded random order, each with its bootstrap outline.

    Images whose centred cell the bootstrap cannot outline (a few pale platelets) are skipped:
    without an outline "found" cannot be decided. The cell is outlined on the whole image and
    the outline moved into the tile, so the crop never cuts the segmenter's view.
    """
    from bloodview.io.images import load_image

    for index in np.random.default_rng(seed).permutation(len(images)):
        image = images[int(index)]
        rgb = load_image(root / image.image_path)
        outline = pbc_outline(rgb, image.image_label)
        if not outline:
            continue
        tile, (x0, y0) = centre_crop(rgb)
        cell = Instance([translate(p, -x0, -y0) for p in outline], image.image_label)
        yield Picture(image.image_path.as_posix(), tile, [cell])


def mosaic(tiles: Sequence[Picture], k: int) -> Picture:
    """``k x k`` tiles (all the same size) side by side, row by row; cells moved with their tile."""
    if len(tiles) != k * k:
        raise ValueError(f"a {k}x{k} mosaic needs {k * k} tiles, got {len(tiles)}")
    th, tw = tiles[0].rgb.shape[:2]
    rgb = np.zeros((k * th, k * tw, 3), dtype=np.uint8)
    cells = []
    for n, tile in enumerate(tiles):
        row, col = divmod(n, k)
        rgb[row * th : (row + 1) * th, col * tw : (col + 1) * tw] = tile.rgb
        for cell in tile.cells:
            moved = [translate(p, col * tw, row * th) for p in cell.polygons]
            cells.append(cell.copy(polygons=moved, extra={"tile": tile.name}))
    return Picture(f"mosaic{k}x{k}[{tiles[0].name}...]", rgb, cells)


# --- BCCD ------------------------------------------------------------------------------------


def bccd_split(root: Path, split: str = "test") -> list[ImageAnnotation]:
    """The images of one BCCD split (ImageSets/Main/<split>.txt; ``"all"``: every field), boxes
    as box-only cells, sorted by name.

    Classes as :func:`bloodview.io.voc.load_voc` names them: ``wbc``, ``rbc``, ``platelet``.
    """
    from bloodview.io.voc import load_voc

    if split != "all" and not (root / "ImageSets" / "Main" / f"{split}.txt").is_file():
        raise FileNotFoundError(f"{root}: no ImageSets/Main/{split}.txt")
    images = [image for image in load_voc(root) if split == "all" or image.split == split]
    return sorted(images, key=lambda image: image.image_path.as_posix())


def big_field(root: Path, images: Sequence[ImageAnnotation], width: int, height: int) -> Picture:
    """BCCD fields tiled edge to edge, row by row, cropped to ``width x height``.

    The cells are the boxes that lie wholly inside the crop (a box cut by the crop is dropped).
    """
    from bloodview.io.images import load_image

    fw, fh = images[0].width, images[0].height
    cols, rows = -(-width // fw), -(-height // fh)
    if rows * cols > len(images):
        raise ValueError(f"a {width}x{height} field needs {rows * cols} BCCD fields, got {len(images)}")
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    cells = []
    for n in range(rows * cols):
        row, col = divmod(n, cols)
        x0, y0 = col * fw, row * fh
        field = load_image(root / "JPEGImages" / images[n].image_path)[:fh, :fw]
        part = field[: height - y0, : width - x0]
        rgb[y0 : y0 + part.shape[0], x0 : x0 + part.shape[1]] = part
        for cell in images[n].instances:
            x1, y1, x2, y2 = cell.bbox
            if x0 + x2 <= width and y0 + y2 <= height:
                cells.append(cell.copy(polygons=[rectangle(x0 + x1, y0 + y1, x0 + x2, y0 + y2)]))
    return Picture(f"bccd{width}x{height}", rgb, cells)


# --- Zheng Dataset 1 -------------------------------------------------------------------------


def zheng_pictures(folder: Path) -> Iterator[Picture]:
    """Zheng Dataset 1 crops, each with its expert whole-cell outline and class, by number."""
    from bloodview.bootstrap.reference import read_pair, reference_pairs
    from bloodview.io.mask_png import ZHENG_CLASSES, find_labels_csv, read_labels_csv

    labels_csv = find_labels_csv(folder)
    if labels_csv is None:
        raise FileNotFoundError(f"{folder}: no 'Class Labels of Dataset 1.csv' beside it")
    labels = read_labels_csv(labels_csv, ZHENG_CLASSES)
    for pair in reference_pairs(folder):
        rgb, whole_cell = read_pair(pair)
        outline = mask_to_polygons(whole_cell, tolerance=0.0)
        class_name = labels.get(str(int(pair.image.stem)), "unlabelled")
        yield Picture(pair.image.name, rgb, [Instance(outline, class_name)] if outline else [])
