"""Training data: resize/pad, mini masks, records, splits, batches."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import mask_iou, polygons_to_mask, rectangle
from bloodview.core.instance import Instance
from bloodview.errors import FormatError, ImageError
from bloodview.model.config import MaskRCNNConfig
from bloodview.model.data import (
    ClassMismatchError,
    build_sample,
    compute_scale,
    data_summary,
    mini_mask_from_polygons,
    prepare_records,
    resize_for_model,
    split_images,
)
from bloodview.model.postprocess import paste_mask, window_to_original


def tiny_config(**changes) -> MaskRCNNConfig:
    values = dict(image_min_dim=64, image_max_dim=64, max_gt_instances=5, mini_mask_shape=[28, 28],
                  class_names=["neutrophil", "platelet"])
    values.update(changes)
    return MaskRCNNConfig.from_dict(values)


def disc(cx: float, cy: float, r: float, n: int = 48) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)


def write_image(path: Path, width: int, height: int, mode: str = "RGB") -> Path:
    Image.new(mode, (width, height), color=200 if mode == "L" else (200, 180, 190)).save(path)
    return path


def resolve(image: ImageAnnotation) -> Path:
    return image.image_path


# --- resize / pad / window -----------------------------------------------------
@pytest.mark.parametrize("height,width", [(363, 360), (20, 30), (1000, 300), (64, 64), (30, 2000)])
def test_resize_pad_window_round_trip(height, width):
    """Any size fits the square input; window maps boxes back to the original exactly."""
    config = tiny_config(image_min_dim=64, image_max_dim=128)
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    padded, window, _ = resize_for_model(image, config)
    assert padded.shape == (128, 128, 3) and padded.dtype == np.float32
    y1, x1, y2, x2 = window
    assert (y1, x1) == (0, 0) and max(y2, x2) <= 128
    assert max(y2, x2) == 128 or min(y2, x2) == 64  # fits, and the short side reaches image_min_dim
    assert np.all(padded[int(y2):, :] == 0) and np.all(padded[:, int(x2):] == 0)
    # A box over the whole resized area maps back to the whole original image.
    back = window_to_original(np.array([window]), window, height, width)[0]
    np.testing.assert_allclose(back, [0, 0, height, width], atol=1e-6)
    # A box in original pixels survives there and back.
    sy, sx = (y2 - y1) / height, (x2 - x1) / width
    original = np.array([height * 0.2, width * 0.3, height * 0.6, width * 0.9])
    frame = original * np.array([sy, sx, sy, sx])
    np.testing.assert_allclose(window_to_original(frame[None], window, height, width)[0], original, atol=1e-4)


def test_scale_follows_config_min_and_max_dims():
    config = MaskRCNNConfig()  # 512 square
    assert compute_scale(363, 360, config) == pytest.approx(512 / 363)
    assert compute_scale(1024, 2048, config) == pytest.approx(0.25)
    small = tiny_config(image_min_dim=0, image_max_dim=128)
    assert compute_scale(40, 50, small) == 1.0  # image_min_dim=0: small images are not enlarged
    assert compute_scale(400, 500, small) == pytest.approx(128 / 500)


def test_greyscale_array_is_accepted_as_rgb():
    config = tiny_config()
    grey = np.full((30, 20), 100, dtype=np.uint8)
    padded, window, _ = resize_for_model(grey, config)
    assert padded.shape == (64, 64, 3)
    assert np.all(padded[: int(window[2]), : int(window[3])] == 100)


# --- mini masks ---------------------------------------------------------------------
def test_mini_mask_pastes_back_onto_the_full_mask():
    polygon = disc(40.3, 30.7, 17.2)
    full = polygons_to_mask([polygon], 80, 90)
    x1, y1 = polygon.min(axis=0)
    x2, y2 = polygon.max(axis=0)
    box = (y1, x1, y2, x2)
    mini = mini_mask_from_polygons([polygon], box, (56, 56))
    pasted = paste_mask(mini.astype(np.float32), box, 80, 90)
    assert mask_iou(pasted, full) >= 0.95


def test_thin_mini_mask_keeps_its_pixels():
    polygon = rectangle(10, 10, 50, 12)  # a 40 x 2 pixel sliver
    full = polygons_to_mask([polygon], 30, 60)
    mini = mini_mask_from_polygons([polygon], (10, 10, 12, 50), (28, 28))
    assert mini.all()
    assert mask_iou(paste_mask(mini.astype(np.float32), (10, 10, 12, 50), 30, 60), full) == 1.0


# --- records ---------------------------------------------------------------------------
def annotation(path: Path, width: int, height: int, instances) -> ImageAnnotation:
    return ImageAnnotation(image_path=path, width=width, height=height, instances=list(instances))


def test_unknown_class_names_both_lists(tmp_path):
    path = write_image(tmp_path / "a.png", 40, 40)
    image = annotation(path, 40, 40, [Instance(disc(20, 20, 8), "basophil"), Instance(disc(10, 10, 4), "platelet")])
    with pytest.raises(ClassMismatchError) as err:
        prepare_records([image], resolve, tiny_config())
    message = str(err.value)
    assert "'basophil'" in message and "neutrophil, platelet" in message and "data classes: basophil, platelet" in message


def test_box_only_instances_are_refused(tmp_path):
    path = write_image(tmp_path / "a.png", 40, 40)
    image = annotation(path, 40, 40, [Instance(rectangle(5, 5, 20, 20), "platelet", box_only=True)])
    with pytest.raises(FormatError, match="boxes without outlines"):
        prepare_records([image], resolve, tiny_config())


def test_image_size_mismatch_names_the_file(tmp_path):
    path = write_image(tmp_path / "odd.png", 50, 40)
    with pytest.raises(ImageError, match="odd.png.*50x40.*40x50"):
        prepare_records([annotation(path, 40, 50, [])], resolve, tiny_config())


def test_more_than_max_gt_keeps_the_largest_and_warns_once(tmp_path, caplog):
    path = write_image(tmp_path / "many.png", 100, 100)
    radii = [2, 9, 3, 8, 4, 7, 5, 6]
    cells = [Instance(disc(12 * k + 8, 50, r), "neutrophil") for k, r in enumerate(radii)]
    images = [annotation(path, 100, 100, cells), annotation(path, 100, 100, cells)]
    with caplog.at_level(logging.WARNING):
        records = prepare_records(images, resolve, tiny_config(max_gt_instances=3))
    assert len(records[0].polygons) == 3
    kept_radii = sorted(round(np.ptp(p[0][:, 0]) / 2) for p in records[0].polygons)
    assert kept_radii == [7, 8, 9]
    assert len([r for r in caplog.records if "max_gt_instances" in r.getMessage()]) == 1


def test_split_by_marks_or_ratio():
    images = [annotation(Path(f"{k}.png"), 10, 10, []) for k in range(10)]
    for k, img in enumerate(images):
        img.split = "val" if k < 3 else ("test" if k == 9 else "train")
    train, val = split_images(images)
    assert len(train) == 6 and len(val) == 3
    train, val = split_images(images, val_ratio=0.5, seed=1)
    assert len(train) + len(val) == 9 and len(val) == 4 or len(val) == 5
    assert not {i.image_path for i in train} & {i.image_path for i in val}
    assert split_images(images[:1], val_ratio=0.5) == (images[:1], [])


def test_data_summary_counts_per_class():
    images = [
        annotation(Path("a.png"), 10, 10, [Instance(disc(5, 5, 2), "platelet"), Instance(disc(5, 5, 2), "platelet")]),
        annotation(Path("b.png"), 10, 10, []),
    ]
    summary = data_summary(images)
    assert summary["instances_per_class"] == {"platelet": 2}
    assert summary["images_without_cells"] == 1 and summary["images"] == 2


# --- one sample ------------------------------------------------------------------------
def test_sample_of_a_tiny_greyscale_image_without_cells(tmp_path):
    path = write_image(tmp_path / "grey.png", 30, 20, mode="L")
    config = tiny_config()
    record = prepare_records([annotation(path, 30, 20, [])], resolve, config)[0]
    sample = build_sample(record, config)
    assert sample["images"].shape == (64, 64, 3)
    np.testing.assert_allclose(sample["windows"], [0, 0, round(20 * 64 / 30), 64])
    assert not sample["gt_class_ids"].any() and not sample["gt_masks"].any()


def test_sample_masks_and_boxes_follow_the_scaled_cells(tmp_path):
    path = write_image(tmp_path / "cells.png", 200, 160)
    config = tiny_config(image_max_dim=128, image_min_dim=128)
    cells = [Instance(disc(60, 50, 20), "neutrophil"), Instance(disc(150, 120, 10), "platelet")]
    record = prepare_records([annotation(path, 200, 160, cells)], resolve, config)[0]
    sample = build_sample(record, config)
    sx, sy = 128 / 200, round(160 * 128 / 200) / 160  # the resized height is whole pixels
    np.testing.assert_array_equal(sample["gt_class_ids"][:3], [1, 2, 0])
    np.testing.assert_allclose(sample["gt_boxes"][0], np.array([30 * sy, 40 * sx, 70 * sy, 80 * sx]), atol=0.01)
    pasted = paste_mask(sample["gt_masks"][1], sample["gt_boxes"][1], 128, 128)
    expected = polygons_to_mask([disc(150, 120, 10) * [sx, sy]], 128, 128)
    assert mask_iou(pasted, expected) >= 0.9


def test_full_masks_when_mini_masks_are_off(tmp_path):
    path = write_image(tmp_path / "cells.png", 64, 64)
    config = tiny_config(use_mini_mask=False)
    record = prepare_records([annotation(path, 64, 64, [Instance(disc(30, 30, 10), "platelet")])], resolve, config)[0]
    sample = build_sample(record, config)
    assert sample["gt_masks"].shape == (5, 64, 64)
    assert mask_iou(sample["gt_masks"][0] > 0, polygons_to_mask([disc(30, 30, 10)], 64, 64)) == 1.0


# --- tf.data ---------------------------------------------------------------------------
def test_make_dataset_batches_have_the_contract_shapes(tmp_path):
    from bloodview.model.data import make_dataset

    config = tiny_config(images_per_gpu=2)
    images = [
        annotation(write_image(tmp_path / "a.png", 80, 60), 80, 60, [Instance(disc(30, 30, 10), "platelet")]),
        annotation(write_image(tmp_path / "b.png", 50, 70), 50, 70, []),
        annotation(write_image(tmp_path / "c.png", 64, 64), 64, 64, [Instance(disc(20, 20, 5), "neutrophil")]),
    ]
    data = make_dataset(Dataset(images), None, config, training=True, seed=3)
    batch = next(iter(data))
    assert batch["images"].shape == (2, 64, 64, 3)
    assert batch["windows"].shape == (2, 4)
    assert batch["gt_class_ids"].shape == (2, 5) and batch["gt_class_ids"].dtype.name == "int32"
    assert batch["gt_boxes"].shape == (2, 5, 4)
    assert batch["gt_masks"].shape == (2, 5, 28, 28)
    # Validation data: no augmentation, same order every time, short data padded by repetition.
    val = make_dataset(Dataset(images[:1]), None, config, training=False)
    first = [b["images"].numpy() for b in val]
    again = [b["images"].numpy() for b in val]
    assert len(first) == 1 and np.array_equal(first[0], again[0])


# --- training at the model's pixel size --------------------------------------------------
def test_scale_aware_training_rescales_to_the_model_pixel_size_and_crops(tmp_path):
    """A field at half the model's magnification is enlarged 2x, not squeezed into the input."""
    path = write_image(tmp_path / "field.png", 300, 200)
    config = tiny_config(image_max_dim=128, image_min_dim=128, pixel_size_um=0.1)
    cell = Instance(disc(40, 30, 10), "neutrophil")
    record = prepare_records([annotation(path, 300, 200, [cell])], resolve, config, pixel_size_um=0.2)[0]
    sample = build_sample(record, config)
    # top-left 128 x 128 of the 600 x 400 enlarged field; the cell, 20 px across, is now 40 px
    np.testing.assert_allclose(sample["windows"], [0, 0, 128, 128])
    np.testing.assert_allclose(sample["gt_boxes"][0], [40, 60, 80, 100], atol=0.5)


def test_an_image_s_own_pixel_size_wins_over_the_training_default(tmp_path):
    path = write_image(tmp_path / "crop.png", 100, 100)
    image = annotation(path, 100, 100, [Instance(disc(50, 50, 10), "neutrophil")])
    image.pixel_size_um = 0.05
    config = tiny_config(image_max_dim=128, image_min_dim=128, pixel_size_um=0.1)
    record = prepare_records([image], resolve, config, pixel_size_um=0.2)[0]
    assert record.pixel_size_um == 0.05
    sample = build_sample(record, config)
    np.testing.assert_allclose(sample["windows"], [0, 0, 50, 50])  # shrunk to half
