"""Training data: annotated images -> the network's training batches.

Contract (see ``MODEL_CONTRACT.md``). A batch is a dict of tensors; ``B`` batch,
``S = config.image_max_dim``, ``G = config.max_gt_instances``, ``m`` the mask grid::

    images        float32 [B, S, S, 3]   RGB 0..255, scaled to fit and padded bottom/right
    windows       float32 [B, 4]         (y1, x1, y2, x2) of the real image inside the padding
    gt_class_ids  int32   [B, G]         1..N (index in config.class_names + 1), N+1 = a white cell of
                                         unknown type (label_groups), 0 = padding
    gt_boxes      float32 [B, G, 4]      (y1, x1, y2, x2) input-frame pixels, 0 for padding
    gt_masks      float32 [B, G, m0, m1] mini masks: the instance inside its box, 0/1
                                         (full S x S masks when config.use_mini_mask is False)

Masks are rasterised straight from the outlines in the final frame (mini masks
directly on the mini grid), so no full-size mask is ever resized. This module is
NumPy/OpenCV; only :func:`make_dataset` imports TensorFlow.

Documented behaviour for awkward data:

* any image size: scaled so the longer side is ``image_max_dim`` (tiny images are
  scaled up, as in Matterport's "square" mode), padded bottom/right;
* an image without instances is a negative sample (all rows padding);
* more than ``max_gt_instances`` instances: the largest are kept (one warning);
* white cells of unknown type (``WBC``, ``white cell``, ``leukocyte`` boxes of another source)
  get the group id after the model's classes (:mod:`label_groups`: a partial label);
* instances whose class is not in ``config.class_names``: :class:`ClassMismatchError`
  listing the unknown names, the model's and the data's classes;
* box-only instances (from VOC/YOLO boxes): :class:`FormatError` (a box is not an outline);
* an image whose size differs from its annotation: :class:`ImageError`.
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import clip_polygon, polygon_area, polygons_to_mask
from bloodview.errors import BloodviewError, FormatError, ImageError, UnknownClassError
from bloodview.io.images import load_image, read_image_size
from bloodview.core.scale import scale_from_pixel_size
from bloodview.model.glass_balance import balance_glass
from bloodview.model.image_scale import image_pixel_size, rescale, resize_factor
from bloodview.model.label_groups import group_id
from bloodview.model.stain_augment import stain_jitter
from bloodview.model.augment import (
    AugmentSettings,
    color_jitter,
    identity_geometry,
    random_geometry,
    transform_points,
    warp_image,
)

log = logging.getLogger(__name__)

BATCH_KEYS = ("images", "windows", "gt_class_ids", "gt_boxes", "gt_masks")


class ClassMismatchError(UnknownClassError):
    """The data holds cells of classes the model does not have."""

    def __init__(self, unknown: Sequence[str], model_classes: Sequence[str], data_classes: Sequence[str],
                 hint: str = ""):
        self.name = ", ".join(unknown)
        self.known = list(model_classes)
        self.unknown = list(unknown)
        message = (
            f"the training data has cells of class(es) {', '.join(map(repr, unknown))} that the model does not know; "
            f"model classes: {', '.join(model_classes)}; data classes: {', '.join(data_classes)}"
        )
        BloodviewError.__init__(self, message + (f". {hint}" if hint else ""))


# --- resize / pad ----------------------------------------------------------
def compute_scale(height: int, width: int, config) -> float:
    """Matterport "square" scaling: at least ``image_min_dim`` on the short side, longer side fits ``image_max_dim``."""
    scale = max(1.0, config.image_min_dim / min(height, width)) if config.image_min_dim else 1.0
    if round(max(height, width) * scale) > config.image_max_dim:
        scale = config.image_max_dim / max(height, width)
    return scale


def resized_size(height: int, width: int, scale: float, limit: int) -> tuple[int, int]:
    """``(h, w)`` after scaling, at least 1 pixel and at most ``limit``."""
    return (min(limit, max(1, round(height * scale))), min(limit, max(1, round(width * scale))))


def fit_to_input(image: np.ndarray, config) -> tuple[np.ndarray, float]:
    """``image`` scaled as :func:`compute_scale` says (no padding); returns it and the nominal scale."""
    height, width = image.shape[:2]
    scale = compute_scale(height, width, config)
    new_h, new_w = resized_size(height, width, scale, config.image_max_dim)
    if (new_h, new_w) == (height, width):
        return image, scale
    shrink = new_h < height or new_w < width
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return resized, scale


def resize_for_model(image: np.ndarray, config) -> tuple[np.ndarray, np.ndarray, float]:
    """``(H, W, 3)`` uint8 -> ``(padded float32 [S, S, 3], window float32 (y1, x1, y2, x2), scale)``.

    The resized image sits at the top-left; ``window`` is its exact extent, so
    per-axis scales are ``window_h / H`` and ``window_w / W`` (``scale`` is the
    nominal one before rounding to whole pixels).
    """
    image = as_rgb(image)
    size = config.image_max_dim
    resized, scale = fit_to_input(image, config)
    padded = np.zeros((size, size, 3), dtype=np.float32)
    padded[: resized.shape[0], : resized.shape[1]] = resized
    window = np.array([0, 0, resized.shape[0], resized.shape[1]], dtype=np.float32)
    return padded, window, scale


def as_rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.dtype != np.uint8:
        raise ImageError(None, f"expected a uint8 RGB image array, got {image.dtype} of shape {image.shape}")
    return image[:, :, :3]


# --- records -----------------------------------------------------------------
@dataclass
class TrainingRecord:
    """One image ready for sampling: its file and its instances in original pixels."""

    path: Path
    width: int
    height: int
    polygons: list[list[np.ndarray]]
    class_ids: np.ndarray  # int32 (n,), 1..N
    pixel_size_um: float | None = None  # µm per pixel of the file; None: estimated on first use


def _training_pixel_size(image: ImageAnnotation, given: float | None) -> float | None:
    recorded = getattr(image, "pixel_size", None)
    if recorded is not None and recorded.source == "given":
        return recorded.um_per_pixel
    return given or getattr(image, "pixel_size_um", None)


def prepare_records(
    images: Sequence[ImageAnnotation],
    resolve: Callable[[ImageAnnotation], Path],
    config,
    data_classes: Sequence[str] | None = None,
    check_sizes: bool = True,
    hint: str = "",
    pixel_size_um: float | None = None,
) -> list[TrainingRecord]:
    """Check the annotations against the config and turn them into records.

    Raises :class:`ClassMismatchError` for unknown classes (all listed at once),
    :class:`FormatError` for box-only instances and :class:`ImageError` when an
    image's real size differs from its annotation (``check_sizes``). For a
    scale-aware config each record's pixel size is, in this order: one given
    for that image (its annotation's ``pixel_size``, source ``"given"``),
    ``pixel_size_um`` (``--pixel-size``), one measured on its red cells and
    recorded in its annotation, else estimated when the sample is first built.
    """
    index = {name: i + 1 for i, name in enumerate(config.class_names)}
    # "WBC" / "white cell" boxes of another source: a white cell of unknown type (label_groups).
    for name in {inst.class_name for img in images for inst in img.instances} - set(index):
        group = group_id(name, config.class_names)
        if group is not None:
            index[name] = group
    unknown = sorted({inst.class_name for img in images for inst in img.instances if inst.class_name not in index})
    if unknown:
        present = sorted({inst.class_name for img in images for inst in img.instances})
        raise ClassMismatchError(unknown, config.class_names, data_classes or present, hint)
    boxes_only = sum(1 for img in images for inst in img.instances if inst.box_only)
    if boxes_only:
        raise FormatError(
            None,
            f"{boxes_only} instance(s) are boxes without outlines (imported from box annotations); "
            "Mask R-CNN needs cell outlines: outline them (bloodview bootstrap or by hand) or remove them",
        )
    records: list[TrainingRecord] = []
    too_many = 0
    for image in images:
        path = resolve(image)
        if check_sizes:
            width, height = read_image_size(path)
            if (width, height) != (image.width, image.height):
                raise ImageError(
                    path, f"image is {width}x{height} pixels but its annotation is for {image.width}x{image.height}"
                )
        instances = [i for i in image.instances if i.polygons]
        if len(instances) > config.max_gt_instances:
            too_many += 1
            instances = sorted(instances, key=lambda i: -i.area)[: config.max_gt_instances]
        records.append(
            TrainingRecord(
                path=path,
                width=image.width,
                height=image.height,
                polygons=[[np.asarray(p, dtype=np.float64) for p in i.polygons] for i in instances],
                class_ids=np.array([index[i.class_name] for i in instances], dtype=np.int32),
                pixel_size_um=_training_pixel_size(image, pixel_size_um),
            )
        )
    if too_many:
        log.warning(
            "%d image(s) have more than max_gt_instances=%d cells; only the largest %d of each are used",
            too_many, config.max_gt_instances, config.max_gt_instances,
        )
    return records


def split_images(
    images: Sequence[ImageAnnotation], val_ratio: float | None = None, seed: int = 0
) -> tuple[list[ImageAnnotation], list[ImageAnnotation]]:
    """Training and validation images; images in the ``test`` split are never used.

    ``val_ratio=None``: the images' own ``split`` (``val`` vs ``train``/unset) when any
    image is marked ``val``; otherwise 10 % at random when there are at least 10
    images, else no validation. A number: that share at random (seeded), ignoring
    the marks, at least one image when the ratio is positive and there are two or more.
    """
    usable = [i for i in images if i.split != "test"]
    if val_ratio is None:
        if any(i.split == "val" for i in usable):
            return [i for i in usable if i.split != "val"], [i for i in usable if i.split == "val"]
        val_ratio = 0.1 if len(usable) >= 10 else 0.0
    if not 0.0 <= val_ratio < 1.0:
        raise ValueError(f"the validation share must be in [0, 1), got {val_ratio}")
    if val_ratio == 0.0 or len(usable) < 2:
        return list(usable), []
    count = min(len(usable) - 1, max(1, round(len(usable) * val_ratio)))
    order = list(range(len(usable)))
    random.Random(seed).shuffle(order)
    val_index = set(order[:count])
    return (
        [img for k, img in enumerate(usable) if k not in val_index],
        [img for k, img in enumerate(usable) if k in val_index],
    )


def data_summary(images: Sequence[ImageAnnotation]) -> dict:
    """Counts for ``model.json``: images, instances per class, images without cells."""
    counts: Counter[str] = Counter(inst.class_name for img in images for inst in img.instances)
    return {
        "images": len(images),
        "instances": int(sum(counts.values())),
        "instances_per_class": dict(sorted(counts.items())),
        "images_without_cells": sum(1 for img in images if not img.instances),
    }


# --- one sample -------------------------------------------------------------------
def mask_grid_shape(config) -> tuple[int, int]:
    """Shape of each ``gt_masks`` entry: the mini mask, or the whole input when mini masks are off."""
    if config.use_mini_mask:
        return int(config.mini_mask_shape[0]), int(config.mini_mask_shape[1])
    return config.image_max_dim, config.image_max_dim


def mini_mask_from_polygons(
    polygons: Sequence[np.ndarray], box: Sequence[float], shape: Sequence[int]
) -> np.ndarray:
    """Rasterise outlines (frame pixels) on a ``shape`` grid spanning ``box`` ``(y1, x1, y2, x2)``."""
    y1, x1, y2, x2 = (float(v) for v in box)
    factor = np.array([shape[1] / (x2 - x1), shape[0] / (y2 - y1)])
    moved = [(np.asarray(p) - np.array([x1, y1])) * factor for p in polygons]
    return polygons_to_mask(moved, int(shape[0]), int(shape[1]))


def build_sample(
    record: TrainingRecord,
    config,
    rng: np.random.Generator | None = None,
    augment: AugmentSettings | None = None,
    image: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """One image's arrays (the batch dict without the batch axis), augmented when ``rng`` and ``augment`` are given."""
    if image is None:
        image = load_image(record.path)
    height, width = image.shape[:2]
    if (width, height) != (record.width, record.height):
        raise ImageError(
            record.path, f"image is {width}x{height} pixels but its annotation is for {record.width}x{record.height}"
        )
    size = config.image_max_dim
    resized = at_model_scale(as_rgb(image), record, config)
    new_h, new_w = resized.shape[:2]
    if rng is not None and augment is not None and augment.enabled:
        resized = color_jitter(stain_jitter(resized, rng, augment.stain), rng, augment.color_jitter)
        geometry = random_geometry(rng, new_h, new_w, size, augment)
    else:
        geometry = identity_geometry(new_h, new_w, size)
    canvas = warp_image(resized, geometry.matrix, size)
    to_frame = geometry.matrix @ np.diag([new_w / width, new_h / height, 1.0])
    wy1, wx1, wy2, wx2 = geometry.window

    grid = mask_grid_shape(config)
    limit = config.max_gt_instances
    class_ids = np.zeros((limit,), dtype=np.int32)
    boxes = np.zeros((limit, 4), dtype=np.float32)
    masks = np.zeros((limit, *grid), dtype=np.float32)
    row = 0
    for polygons, class_id in zip(record.polygons, record.class_ids):
        clipped = [
            part
            for polygon in polygons
            for part in clip_polygon(transform_points(polygon, to_frame), wx2, wy2)
            if polygon_area(part) > 0
        ]
        if not clipped:
            continue
        points = np.concatenate(clipped)
        x1, y1 = points.min(axis=0)
        x2, y2 = points.max(axis=0)
        if x2 - x1 < 1.0 or y2 - y1 < 1.0:
            continue  # thinner than a pixel after scaling or cropping: nothing to learn
        box = (y1, x1, y2, x2)
        if config.use_mini_mask:
            mask = mini_mask_from_polygons(clipped, box, grid)
        else:
            mask = polygons_to_mask(clipped, size, size)
        if not mask.any():
            continue
        class_ids[row] = class_id
        boxes[row] = box
        masks[row] = mask
        row += 1
    return {
        "images": canvas.astype(np.float32),
        "windows": np.array([wy1, wx1, wy2, wx2], dtype=np.float32),
        "gt_class_ids": class_ids,
        "gt_boxes": boxes,
        "gt_masks": masks,
    }


def at_model_scale(image: np.ndarray, record: TrainingRecord, config) -> np.ndarray:
    """The training image at the model's pixel size (scale-aware configs) or fitted to the input.

    At the model's pixel size an image larger than the input is cropped at random by
    the augmentation (or at its top-left without it), so fields and crops mix freely. Its glass
    colour is balanced into the config's ``glass_colour_range`` where it lies outside, as at
    detection, so the network is trained on what it will be shown.
    """
    if not config.scale_aware:
        return fit_to_input(image, config)[0]
    if record.pixel_size_um is None:
        record.pixel_size_um = image_pixel_size(image, config).um_per_pixel
    resized = rescale(image, resize_factor(scale_from_pixel_size(record.pixel_size_um), config))
    # as detection does (model/predict.py): an image whose glass the model's range does not hold is balanced
    return balance_glass(resized, config.glass_colour_range)[0]


# --- tf.data ----------------------------------------------------------------------
def make_dataset(
    dataset: Dataset | Sequence[ImageAnnotation],
    images_root: str | Path | None,
    config,
    training: bool,
    shuffle: bool | None = None,
    augment: bool | None = None,
    repeat: bool | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    records: Sequence[TrainingRecord] | None = None,
):
    """A ``tf.data.Dataset`` of training batches (see the module doc for the dict).

    ``training`` switches on shuffling, augmentation and repetition (each can be
    forced with its own argument). ``images_root`` resolves relative image paths
    (default: the dataset's root). Batches always hold ``batch_size`` images
    (default ``config.batch_size``; short data is repeated), so shapes are static.
    """
    import tensorflow as tf

    shuffle = training if shuffle is None else shuffle
    augment = training if augment is None else augment
    repeat = training if repeat is None else repeat
    batch_size = batch_size or config.batch_size
    if records is None:
        records = _records_of(dataset, images_root, config)
    if not records:
        raise FormatError(None, "no images to train on")
    settings = AugmentSettings.from_config(config) if augment else None
    size, limit = config.image_max_dim, config.max_gt_instances
    grid = mask_grid_shape(config)

    def load(counter, index):
        rng = np.random.default_rng([seed, int(counter)]) if settings is not None else None
        sample = build_sample(records[int(index)], config, rng=rng, augment=settings)
        return tuple(sample[k] for k in BATCH_KEYS)

    def as_dict(*arrays):
        shapes = ([size, size, 3], [4], [limit], [limit, 4], [limit, *grid])
        return {key: tf.ensure_shape(a, s) for key, a, s in zip(BATCH_KEYS, arrays, shapes)}

    data = tf.data.Dataset.range(len(records))
    if shuffle:
        data = data.shuffle(len(records), seed=seed, reshuffle_each_iteration=True)
    if repeat or len(records) < batch_size:
        data = data.repeat() if repeat else data.repeat(math.ceil(batch_size / len(records)))
    data = data.enumerate()
    data = data.map(
        lambda counter, index: tf.numpy_function(
            load, [counter, index], [tf.float32, tf.float32, tf.int32, tf.float32, tf.float32], stateful=False
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    data = data.map(as_dict)
    return data.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def _records_of(dataset, images_root, config) -> list[TrainingRecord]:
    if isinstance(dataset, Dataset):
        images = dataset.images
        root = Path(images_root) if images_root is not None else dataset.root
    else:
        images = list(dataset)
        root = Path(images_root) if images_root is not None else None

    def resolve(image: ImageAnnotation) -> Path:
        if image.image_path.is_absolute() or root is None:
            return image.image_path
        return root / image.image_path

    return prepare_records(images, resolve, config)
