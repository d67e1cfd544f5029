"""From the network's detections to cell outlines in the original image (NumPy, no TensorFlow).

The network works in the padded square model input ("input frame"); a box there
is ``(y1, x1, y2, x2)`` in pixels and its mask a small ``(m0, m1)`` grid of
probabilities covering exactly that box. Here each mask is pasted back into the
ORIGINAL image's pixel grid (undoing the resize through the ``window``), cut at
``threshold`` and traced into polygons with :func:`bloodview.core.geometry.mask_to_polygons`.
Traced outlines follow pixel edges (100-260 vertices a cell); by default they are
simplified for editing with :func:`bloodview.core.geometry.simplify_outline`
(~30 vertices, mask IoU > 0.99 with the traced outline); ``simplify=False`` keeps
full precision.

Coordinates follow :mod:`bloodview.core.geometry`: pixel ``(col, row)`` covers
``[col, col+1) x [row, row+1)``; a box ``(y1, x1, y2, x2)`` covers the same
continuous area, so a mask grid cell ``(i, j)`` covers
``[x1 + j*bw/m1, x1 + (j+1)*bw/m1)`` horizontally (and likewise vertically).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import cv2
import numpy as np

from bloodview.core.geometry import mask_to_polygons, simplify_outlines, translate
from bloodview.core.instance import Instance, Source
from bloodview.model.augment import centre_matrix

log = logging.getLogger(__name__)


def paste_mask_crop(
    mask: np.ndarray, box: Sequence[float], height: int, width: int, threshold: float = 0.5
) -> tuple[np.ndarray, int, int]:
    """Paste a ``(m0, m1)`` probability mask into its box; return only the box's pixels.

    ``box`` is ``(y1, x1, y2, x2)`` in the target frame of ``height x width``.
    Returns ``(crop, x0, y0)``: a bool array for the pixels
    ``[y0:y0+crop.shape[0], x0:x0+crop.shape[1]]`` of the frame. Pixels whose
    centre is outside the box stay False; the mask is sampled bilinearly.
    """
    y1, x1, y2, x2 = (float(v) for v in box)
    x0, y0 = max(0, math.floor(x1)), max(0, math.floor(y1))
    xe, ye = min(int(width), math.ceil(x2)), min(int(height), math.ceil(y2))
    if xe <= x0 or ye <= y0 or x2 <= x1 or y2 <= y1:
        return np.zeros((0, 0), dtype=bool), x0, y0
    m0, m1 = mask.shape
    edge = np.array([[(x2 - x1) / m1, 0.0, x1 - x0], [0.0, (y2 - y1) / m0, y1 - y0]])
    probs = cv2.warpAffine(
        np.ascontiguousarray(mask, dtype=np.float32),
        centre_matrix(edge),
        (xe - x0, ye - y0),
        flags=cv2.INTER_LINEAR | cv2.WARP_FILL_OUTLIERS,
        borderMode=cv2.BORDER_REPLICATE,
    )
    cols = np.arange(x0, xe) + 0.5
    rows = np.arange(y0, ye) + 0.5
    inside = ((rows >= y1) & (rows < y2))[:, None] & ((cols >= x1) & (cols < x2))[None, :]
    return (probs >= threshold) & inside, x0, y0


def paste_mask(
    mask: np.ndarray, box: Sequence[float], height: int, width: int, threshold: float = 0.5
) -> np.ndarray:
    """Like :func:`paste_mask_crop` but returns the whole ``(height, width)`` bool mask."""
    full = np.zeros((int(height), int(width)), dtype=bool)
    crop, x0, y0 = paste_mask_crop(mask, box, height, width, threshold)
    full[y0 : y0 + crop.shape[0], x0 : x0 + crop.shape[1]] = crop
    return full


def window_to_original(
    boxes: np.ndarray, window: Sequence[float], height: int, width: int
) -> np.ndarray:
    """Map ``(N, 4)`` ``(y1, x1, y2, x2)`` input-frame boxes to the original ``height x width`` image.

    ``window`` is the image's ``(y1, x1, y2, x2)`` inside the padded input; the
    resize is undone per axis (the rounding of the resized size is exact this way).
    """
    wy1, wx1, wy2, wx2 = (float(v) for v in window)
    sy = (wy2 - wy1) / float(height)
    sx = (wx2 - wx1) / float(width)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    out = (boxes - np.array([wy1, wx1, wy1, wx1])) / np.array([sy, sx, sy, sx])
    return np.clip(out, 0.0, np.array([height, width, height, width], dtype=np.float64))


def detections_to_instances(
    detections: dict[str, np.ndarray],
    window: Sequence[float],
    height: int,
    width: int,
    class_names: Sequence[str],
    min_confidence: float = 0.0,
    origin: str | None = None,
    threshold: float = 0.5,
    min_area: float = 4.0,
    simplify: bool = True,
) -> list[Instance]:
    """One image's detections (no batch axis) -> :class:`Instance` list in original pixels.

    ``detections`` holds ``boxes (D, 4)``, ``class_ids (D,)``, ``scores (D,)``,
    ``masks (D, m, m)`` (over ``mask_boxes (D, 4)`` where given, else over ``boxes``) and
    ``count`` (valid rows, sorted by score). Rows with
    class 0, a score below ``min_confidence`` or an empty mask are dropped.
    Each instance gets the largest connected part first (a cell cut by a
    neighbour may keep several parts). ``simplify`` turns each traced pixel-edge
    outline into a few editable vertices (see the module doc); ``False`` keeps
    the traced outline vertex for vertex.
    """
    count = int(detections["count"])
    # the masks cover ``mask_boxes`` (the boxes grown for the mask head) when the network gives them
    mask_boxes = detections.get("mask_boxes", detections["boxes"])
    boxes = window_to_original(mask_boxes[:count], window, height, width)
    instances: list[Instance] = []
    for row in range(count):
        class_id = int(detections["class_ids"][row])
        score = float(detections["scores"][row])
        if class_id <= 0 or score < min_confidence:
            continue
        if class_id > len(class_names):
            raise ValueError(f"class id {class_id} beyond the model's {len(class_names)} classes")
        crop, x0, y0 = paste_mask_crop(detections["masks"][row], boxes[row], height, width, threshold)
        if not crop.any():
            log.debug("dropped a %s detection with an empty mask", class_names[class_id - 1])
            continue
        polygons = [translate(p, x0, y0) for p in mask_to_polygons(crop, min_area=min_area)]
        if not polygons:
            continue
        if simplify:
            polygons = [np.clip(p, 0.0, [width, height]) for p in simplify_outlines(polygons)]
        instances.append(
            Instance(
                polygons=polygons,
                class_name=class_names[class_id - 1],
                score=score,
                source=Source.MODEL,
                origin=origin,
            )
        )
    return instances
