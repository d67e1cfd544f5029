"""Draw bootstrap outlines on a few cells per class into one PNG, to judge them by eye.

One row per class, ``per_class`` tiles per row. Each tile is a square crop
around one instance (1.7x its box, so neighbours are visible), its outline drawn
in the class colour, with the quality score written in the corner. Cells are
picked evenly over the run (``pick="spread"``) or the lowest quality first
(``pick="worst"``). The PNG is palette-quantised to stay small.

Command line::

    python -m bloodview.bootstrap.montage OUT.json --images INPUT --png montage.png
"""

from __future__ import annotations

import argparse
import io as _io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.instance import Instance
from bloodview.io.atomic import atomic_write_bytes
from bloodview.io.images import load_image

TILE = 150
ZOOM_OUT = 1.7


def pick_instances(dataset: Dataset, per_class: int, pick: str = "spread") -> dict[str, list[tuple[ImageAnnotation, Instance]]]:
    """``class -> [(image, instance)]`` in catalogue order (classes without cells left out)."""
    found: dict[str, list[tuple[ImageAnnotation, Instance]]] = {}
    for image in dataset.images:
        for instance in image.instances:
            found.setdefault(instance.class_name, []).append((image, instance))
    chosen = {}
    order = [c.name for c in dataset.classes] + sorted(set(found) - set(dataset.classes.names))
    for name in order:
        cells = found.get(name, [])
        if not cells:
            continue
        if pick == "worst":
            cells = sorted(cells, key=lambda pair: pair[1].quality if pair[1].quality is not None else 1.0)
            chosen[name] = cells[:per_class]
        else:
            index = np.linspace(0, len(cells) - 1, min(per_class, len(cells))).round().astype(int)
            chosen[name] = [cells[i] for i in index]
    return chosen


def tile(rgb: np.ndarray, instance: Instance, color: tuple[int, int, int], size: int = TILE) -> np.ndarray:
    """A ``size`` x ``size`` RGB crop around ``instance`` with its outline drawn."""
    x1, y1, x2, y2 = instance.bbox
    side = max(x2 - x1, y2 - y1, 24.0) * ZOOM_OUT
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    side_px = int(round(side))
    padded = cv2.copyMakeBorder(rgb, side_px, side_px, side_px, side_px, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    crop = padded[top + side_px: top + 2 * side_px, left + side_px: left + 2 * side_px]
    scale = size / side_px
    out = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    for polygon in instance.polygons:
        pts = (polygon - np.array([left, top])) * scale
        cv2.polylines(out, [np.round(pts * 4).astype(np.int32)], True, color, 2, cv2.LINE_AA, shift=2)
    label = f"{instance.quality:.2f}" if instance.quality is not None else ""
    cv2.putText(out, label, (4, size - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def montage_image(dataset: Dataset, per_class: int = 6, pick: str = "spread", size: int = TILE) -> np.ndarray:
    """The montage as an RGB array (rows = classes, with a name column on the left)."""
    rows = []
    name_width = 110
    for name, cells in pick_instances(dataset, per_class, pick).items():
        color = dataset.classes[name].color if name in dataset.classes else (0, 200, 0)
        tiles = [tile(load_image(dataset.resolve_image(image)), instance, _outline_colour(color), size)
                 for image, instance in cells]
        tiles += [np.full((size, size, 3), 255, np.uint8)] * (per_class - len(tiles))
        label = np.full((size, name_width, 3), 255, np.uint8)
        cv2.putText(label, name, (4, size // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        rows.append(np.hstack([label, *tiles]))
    if not rows:
        return np.full((size, size, 3), 255, np.uint8)
    return np.vstack(rows)


def _outline_colour(color: tuple[int, int, int]) -> tuple[int, int, int]:
    """A bright version of the class colour (the muted palette vanishes on purple nuclei)."""
    hsv = cv2.cvtColor(np.uint8([[color]]), cv2.COLOR_RGB2HSV)[0, 0].astype(int)
    hsv[1], hsv[2] = 255, 255
    rgb = cv2.cvtColor(np.uint8([[hsv]]), cv2.COLOR_HSV2RGB)[0, 0]
    return int(rgb[0]), int(rgb[1]), int(rgb[2])


def draw_montage(dataset: Dataset, path: str | Path, per_class: int = 6, pick: str = "spread") -> Path:
    """Write the montage PNG (256-colour palette) atomically; return its path."""
    image = Image.fromarray(montage_image(dataset, per_class, pick)).quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    buffer = _io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return atomic_write_bytes(Path(path), buffer.getvalue(), backup=False)


def main(argv: list[str] | None = None) -> int:
    from bloodview.io.coco import load_coco

    parser = argparse.ArgumentParser(prog="python -m bloodview.bootstrap.montage", description=__doc__.splitlines()[0])
    parser.add_argument("coco", type=Path, help="COCO file written by `bloodview bootstrap`")
    parser.add_argument("--images", type=Path, help="images folder (the bootstrap INPUT)")
    parser.add_argument("--png", type=Path, required=True)
    parser.add_argument("--per-class", type=int, default=6)
    parser.add_argument("--pick", choices=("spread", "worst"), default="spread")
    args = parser.parse_args(argv)
    dataset = load_coco(args.coco, images_root=args.images, check_images=False)
    print(draw_montage(dataset, args.png, args.per_class, args.pick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
