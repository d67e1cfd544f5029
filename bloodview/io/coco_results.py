"""COCO results files: the bare list that detectors write and COCOeval reads.

Each entry is ``{"image_id", "category_id", "segmentation", "bbox", "score"}``
(segmentation as compressed RLE or polygons; bbox ``[x, y, w, h]``), plus
``file_name`` and ``category_name`` in what we write (:func:`coco_results_list`).
Image and category ids refer to a ground-truth set: either a :class:`Dataset` (ids as
:func:`bloodview.io.coco.coco_dict` numbers them: images 1..N in order,
categories = catalogue ids) or the path of the ground-truth COCO file (its own
ids). Predictions come back as ``source="model"`` instances with their score.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import mask_to_polygons, polygons_bbox, rectangle
from bloodview.core.instance import Instance, Source
from bloodview.io.atomic import atomic_write_json, json_number
from bloodview.io.jsonio import as_number, read_json, require
from bloodview.io.outlines import fit_to_image, polygon_from_points
from bloodview.io.rle import mask_to_rle, rle_to_mask

log = logging.getLogger(__name__)


def load_coco_results(path: str | Path, gt: Dataset | str | Path) -> Dataset:
    """Predictions in ``path`` as a Dataset mirroring the ground truth's images."""
    path = Path(path)
    return coco_results_dataset(read_json(path, "COCO results file"), gt, path)


def coco_results_dataset(data: Any, gt: Dataset | str | Path, path: Path) -> Dataset:
    """As :func:`load_coco_results` for detections already read from ``path`` (named in errors)."""
    from bloodview.io.coco import load_coco_with_ids

    if isinstance(gt, Dataset):
        gt_set = gt
        images_by_id = {i: image for i, image in enumerate(gt.images, start=1)}
        class_by_id = {c.id: c.name for c in gt.classes}
    else:
        gt_set, images_by_id, names = load_coco_with_ids(gt, check_images=False, add_unknown_classes=True)
        class_by_id = {cid: gt_set.classes.resolve(name) for cid, name in names.items()}
    copies = {
        id(image): ImageAnnotation(image.image_path, image.width, image.height,
                                   image_label=image.image_label, split=image.split)
        for image in gt_set.images
    }
    if isinstance(data, dict) and isinstance(data.get("annotations"), list):
        data = data["annotations"]
    require(isinstance(data, list), path, "is not a COCO results file (expected a list of detections)")
    for index, entry in enumerate(data):
        where = f"detection #{index}"
        require(isinstance(entry, dict), path, f"{where} is not an object")
        image_id, category_id = entry.get("image_id"), entry.get("category_id")
        image = images_by_id.get(image_id) if isinstance(image_id, int) else None
        require(image is not None, path, f"{where} refers to image id {entry.get('image_id')!r}, which is not in the ground truth")
        class_name = class_by_id.get(category_id) if isinstance(category_id, int) else None
        require(class_name is not None, path, f"{where} has unknown category id {entry.get('category_id')!r}")
        score = as_number(entry.get("score"), path, f"{where} score")
        instance = _detection(entry, image, class_name, score, path, where)
        if instance is not None:
            copies[id(image)].instances.append(instance)
    return Dataset([copies[id(i)] for i in gt_set.images], gt_set.classes, gt_set.root)


def _detection(
    entry: dict[str, Any], image: ImageAnnotation, class_name: str, score: float, path: Path, where: str
) -> Instance | None:
    segmentation = entry.get("segmentation")
    box_only = False
    if isinstance(segmentation, dict):
        polygons = mask_to_polygons(rle_to_mask(segmentation, image.height, image.width, path, where))
        if not polygons:
            return None  # an empty predicted mask carries no outline
    elif isinstance(segmentation, list) and segmentation:
        polygons = [polygon_from_points(p, path, where) for p in segmentation]
        polygons = fit_to_image(polygons, image.width, image.height, path, where)
    else:
        bbox = entry.get("bbox")
        require(isinstance(bbox, list) and len(bbox) == 4, path, f"{where} has neither a segmentation nor a bbox")
        x, y, w, h = (as_number(v, path, f"{where} bbox") for v in bbox)
        if w <= 0 or h <= 0:
            return None
        polygons = fit_to_image([rectangle(x, y, x + w, y + h)], image.width, image.height, path, where)
        box_only = True
    if not polygons:
        return None  # wholly outside the image (warned by fit_to_image)
    return Instance(polygons, class_name, score=score, source=Source.MODEL, box_only=box_only)


def coco_results_list(dataset: Dataset) -> list[dict[str, Any]]:
    """Every instance as a detection (RLE of its mask); image ids 1..N by position.

    Each detection also carries its image's ``file_name`` (the image path, ``/``
    separated) and its class's ``category_name``: ids are only positions and
    catalogue ids of ``dataset``, and a ground truth numbered otherwise pairs by
    name instead (``COCO.loadRes`` ignores the extra keys).
    Instances without a score (drawn by people) get score 1.0.
    """
    results = []
    for image_id, image in enumerate(dataset.images, start=1):
        for instance in image.instances:
            name = dataset.classes.resolve(instance.class_name)
            x1, y1, x2, y2 = polygons_bbox(instance.polygons)
            results.append({
                "image_id": image_id,
                "file_name": image.image_path.as_posix(),
                "category_id": dataset.classes[name].id,
                "category_name": name,
                "segmentation": mask_to_rle(instance.to_mask(image.height, image.width)),
                "bbox": [json_number(v) for v in (x1, y1, x2 - x1, y2 - y1)],
                "score": 1.0 if instance.score is None else float(instance.score),
            })
    return results


def save_coco_results(dataset: Dataset, path: str | Path) -> Path:
    """Write :func:`coco_results_list` atomically as compact JSON."""
    return atomic_write_json(Path(path), coco_results_list(dataset), compact=True)
