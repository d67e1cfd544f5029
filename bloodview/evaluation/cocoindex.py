"""Ground truth and predictions as pycocotools objects, built in memory.

COCOeval needs a ``COCO`` index of the ground truth and a results index from
``COCO.loadRes``. Both are built here from core objects, never from files, so
any format the io layer reads can be evaluated.

Contract:

* image ids are ``1..N`` in the order of ``pairs``; category ids are the
  catalogue's class ids (``CellClass.id``);
* every outline is turned into a compressed RLE (pycocotools' own polygon
  rasteriser, pixel ``(col, row)`` covering ``[col, col+1) x [row, row+1)``, the
  same convention as ``bloodview.core.geometry``); the RLEs are reused for the
  mask COCOeval and for the one-to-one matching of the classification metrics;
* boxes go to pycocotools as COCO ``[x, y, w, h]``; predictions get ``area`` from
  pycocotools (mask area or ``w * h``); ``areaRng`` is "all", so areas never
  exclude anything.
"""

from __future__ import annotations

import contextlib
import io as _stdio
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance
from bloodview.errors import FormatError
from bloodview.io.coco import coco_dict


@dataclass
class EncodedImage:
    """One image's instances with their RLEs and COCO boxes, ready for pycocotools.

    ``gt_rles`` / ``pred_rles`` are compressed RLE dicts; ``gt_boxes`` /
    ``pred_boxes`` are ``(N, 4)`` COCO ``[x, y, w, h]`` float arrays.
    """

    image_id: int
    gt: ImageAnnotation
    predictions: list[Instance]
    gt_rles: list[dict] = field(default_factory=list)
    pred_rles: list[dict] = field(default_factory=list)
    gt_boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    pred_boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))

    @property
    def gt_box_only(self) -> bool:
        return any(i.box_only for i in self.gt.instances)

    @property
    def pred_box_only(self) -> bool:
        return any(i.box_only for i in self.predictions)


def instance_rle(instance: Instance, height: int, width: int) -> dict:
    """Compressed RLE of an instance's outline (union of its polygons)."""
    flat = [p.reshape(-1).tolist() for p in instance.polygons if len(p) >= 3]
    if not flat:
        return mask_utils.encode(np.zeros((height, width, 1), dtype=np.uint8, order="F"))[0]
    rles = mask_utils.frPyObjects(flat, height, width)
    return mask_utils.merge(rles) if len(rles) > 1 else rles[0]


def coco_boxes(instances: Sequence[Instance]) -> np.ndarray:
    """``(N, 4)`` COCO ``[x, y, w, h]`` boxes of ``instances`` (the box around all parts).

    Same numbers as ``Instance.bbox``; reads the already validated polygon arrays
    directly, as this runs for every cell of every image.
    """
    boxes = np.zeros((len(instances), 4))
    for k, instance in enumerate(instances):
        points = instance.polygons[0] if len(instance.polygons) == 1 else np.concatenate(instance.polygons)
        low, high = points.min(axis=0), points.max(axis=0)
        boxes[k] = (low[0], low[1], high[0] - low[0], high[1] - low[1])
    return boxes


def encode(pairs: Sequence[tuple[ImageAnnotation, list[Instance]]]) -> list[EncodedImage]:
    """RLEs and boxes of every ground-truth and predicted instance, image ids ``1..N``."""
    encoded = []
    for image_id, (gt, predictions) in enumerate(pairs, start=1):
        h, w = gt.height, gt.width
        if h <= 0 or w <= 0:
            raise FormatError(gt.image_path, f"the image size is unknown ({w}x{h}); evaluation needs it")
        encoded.append(
            EncodedImage(
                image_id=image_id,
                gt=gt,
                predictions=list(predictions),
                gt_rles=[instance_rle(i, h, w) for i in gt.instances],
                pred_rles=[instance_rle(i, h, w) for i in predictions],
                gt_boxes=coco_boxes(gt.instances),
                pred_boxes=coco_boxes(predictions),
            )
        )
    return encoded


def gt_index(images: Sequence[EncodedImage], classes: ClassCatalogue) -> COCO:
    """A pycocotools ``COCO`` of the ground truth (one index serves masks and boxes).

    Built with the io layer's :func:`bloodview.io.coco.coco_dict` (polygons, image
    ids ``1..N`` in the order of ``images``), so the evaluation reads exactly what
    a saved COCO file would hold.
    """
    subset = Dataset([image.gt for image in images], classes)
    coco = COCO()
    coco.dataset = coco_dict(subset)
    with contextlib.redirect_stdout(_stdio.StringIO()):
        coco.createIndex()
    return coco


def results_list(images: Sequence[EncodedImage], classes: ClassCatalogue, iou_type: str) -> list[dict]:
    """The predictions as a COCO results list for ``iou_type`` (RLE masks or boxes)."""
    results = []
    for image in images:
        for k, instance in enumerate(image.predictions):
            entry = {
                "image_id": image.image_id,
                "category_id": classes[instance.class_name].id,
                "score": float(instance.score),
            }
            if iou_type == "segm":
                entry["segmentation"] = image.pred_rles[k]
            else:
                entry["bbox"] = image.pred_boxes[k].tolist()
            results.append(entry)
    return results


def results_index(gt: COCO, results: list[dict]) -> COCO | None:
    """``gt.loadRes(results)`` without its console chatter; ``None`` for no results.

    pycocotools fails on an empty results list (it reads ``results[0]``), so the
    caller treats ``None`` as "nothing detected" (all figures zero).
    """
    if not results:
        return None
    with contextlib.redirect_stdout(_stdio.StringIO()):
        return gt.loadRes(results)
