"""COCO JSON exactly as MakeSense's "COCO JSON" polygon export writes it.

MakeSense (``src/logic/export/polygon/COCOExporter.ts``) writes compact JSON::

    {"info": {"description": "<project name>"},
     "images": [{"id": 1, "width": W, "height": H, "file_name": "<file name>"}, ...],
     "annotations": [{"id": 0, "iscrowd": 0, "image_id": 1, "category_id": 1,
                      "segmentation": [[x0, y0, x1, y1, ...]], "bbox": [x, y, w, h], "area": A}, ...],
     "categories": [{"id": 1, "name": "<label>"}, ...]}

Only images with polygons are listed, renumbered 1..N; annotation ids start at
0; one annotation per polygon (MakeSense has no multi-part labels); category id
= position in the label list + 1 (we list every catalogue class, in order);
polygons are not closed; bbox and area come from the vertices (shoelace, as
MakeSense computes it); no supercategory, no RLE, crowd regions left out (with a
warning saying how many in which images: :mod:`bloodview.io.crowd`).

Reading: MakeSense's own COCO importer skips ``iscrowd: 1``; so do we. Otherwise
it is plain COCO and goes through :func:`bloodview.io.coco.load_coco`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bloodview.core.annotation import Dataset
from bloodview.core.classes import ClassCatalogue
from bloodview.io.atomic import atomic_write_json, json_number
from bloodview.io.coco import load_coco
from bloodview.io.crowd import is_crowd, warn_left_out
from bloodview.io.paths import flat_export_names


def load_makesense_coco(
    path: str | Path,
    images_root: str | Path | None = None,
    classes: ClassCatalogue | None = None,
    add_unknown_classes: bool = False,
    check_images: bool = True,
) -> Dataset:
    """Read a MakeSense COCO export (crowd regions skipped, as MakeSense does)."""
    dataset = load_coco(path, images_root, classes, add_unknown_classes, check_images)
    for image in dataset.images:
        image.instances = [i for i in image.instances if not i.extra.get("iscrowd")]
    return dataset


def makesense_coco_dict(dataset: Dataset, description: str = "bloodview") -> dict[str, Any]:
    """The dataset as MakeSense would export it (see module doc)."""
    category_of = {name: index + 1 for index, name in enumerate(dataset.classes.names)}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for name, image in zip(flat_export_names(dataset), dataset.images):
        polygons = [
            (dataset.classes.resolve(instance.class_name), polygon)
            for instance in image.instances
            if not is_crowd(instance)
            for polygon in instance.polygons
        ]
        if not polygons:
            continue
        image_id = len(images) + 1
        images.append({"id": image_id, "width": image.width, "height": image.height, "file_name": name})
        for class_name, polygon in polygons:
            annotations.append({
                "id": len(annotations),
                "iscrowd": 0,
                "image_id": image_id,
                "category_id": category_of[class_name],
                "segmentation": [[json_number(v) for v in polygon.reshape(-1)]],
                "bbox": _bbox(polygon),
                "area": json_number(_area(polygon)),
            })
    return {
        "info": {"description": description},
        "images": images,
        "annotations": annotations,
        "categories": [{"id": category_of[n], "name": n} for n in dataset.classes.names],
    }


def save_makesense_coco(dataset: Dataset, path: str | Path, description: str = "bloodview") -> Path:
    """Write the MakeSense-style COCO JSON atomically (compact, old file kept as ``.bak``); the
    crowd regions it leaves out are counted in a warning."""
    warn_left_out(dataset, "makesense-coco")
    return atomic_write_json(Path(path), makesense_coco_dict(dataset, description), compact=True)


def _bbox(polygon: np.ndarray) -> list[int | float]:
    x_min, y_min = polygon.min(axis=0)
    x_max, y_max = polygon.max(axis=0)
    return [json_number(x_min), json_number(y_min), json_number(x_max - x_min), json_number(y_max - y_min)]


def _area(polygon: np.ndarray) -> float:
    """MakeSense's shoelace: sum of (x_j + x_i) * (y_j - y_i) over edges, halved."""
    x, y = polygon[:, 0], polygon[:, 1]
    xj, yj = np.roll(x, 1), np.roll(y, 1)
    return float(abs(np.sum((xj + x) * (yj - y)) / 2))
