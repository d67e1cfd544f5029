"""The whole network: builds with every backbone, trains, overfits two images, round-trips weights.

Inputs are 64-128 px with a tiny stand-in backbone so the file stays well under a minute
or two on a shared 2-core CPU.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from bloodview.model.backbones import available_backbones
from bloodview.model.config import MaskRCNNConfig
from bloodview.model.maskrcnn import LOSS_NAMES, MaskRCNN, build_maskrcnn, detection_network

SIZE = 128
DISKS = [  # per image: (centre y, centre x, radius, class)
    [(30, 30, 12, 1), (80, 90, 16, 2), (100, 30, 14, 1)],
    [(60, 60, 18, 2), (20, 100, 10, 1)],
]


def tiny_config(size: int = SIZE, **overrides) -> MaskRCNNConfig:
    values = dict(
        image_min_dim=size,
        image_max_dim=size,
        class_names=["red", "blue"],
        num_classes=3,
        rpn_anchor_scales=[8, 16, 32, 64, 128],
        pre_nms_limit=500,
        post_nms_rois_training=200,
        post_nms_rois_inference=100,
        train_rois_per_image=32,
        max_gt_instances=4,
        top_down_pyramid_size=32,
        fpn_classif_fc_layers_size=64,
        mini_mask_shape=[28, 28],
        detection_max_instances=10,
        learning_rate=0.02,
    )
    values.update(overrides)
    return MaskRCNNConfig(**values)


def tiny_backbone(size: int = SIZE, height: int | None = None) -> keras.Model:
    """Stand-in backbone: strided convolutions giving C2..C5 at strides 4..32 (``height`` x ``size`` input)."""
    images = keras.Input((height or size, size, 3))
    x = layers.Rescaling(1 / 255.0)(images)
    outputs = []
    for i, width in enumerate([16, 16, 32, 32, 32]):
        x = layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(x)
        if i >= 1:
            outputs.append(x)
    return keras.Model(images, outputs)


def disk_batch(size: int = SIZE, disks=DISKS, max_gt: int = 4) -> dict:
    """Bright disks of two colours (= two classes) on black; mini masks are filled circles."""
    count = len(disks)
    images = np.zeros((count, size, size, 3), np.float32)
    boxes = np.zeros((count, max_gt, 4), np.float32)
    ids = np.zeros((count, max_gt), np.int32)
    masks = np.zeros((count, max_gt, 28, 28), np.float32)
    rows, cols = np.mgrid[:size, :size] + 0.5
    circle = np.hypot(*(np.mgrid[:28, :28] + 0.5 - 14)) <= 14
    for b, image_disks in enumerate(disks):
        for g, (cy, cx, r, cls) in enumerate(image_disks):
            images[b][np.hypot(rows - cy, cols - cx) <= r] = (230, 60, 60) if cls == 1 else (60, 60, 230)
            boxes[b, g] = [cy - r, cx - r, cy + r, cx + r]
            ids[b, g] = cls
            masks[b, g] = circle
    windows = np.tile(np.array([[0, 0, size, size]], np.float32), (count, 1))
    return {"images": images, "windows": windows, "gt_class_ids": ids, "gt_boxes": boxes, "gt_masks": masks}


def _box_iou(a, b):
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    area = lambda x: (x[2] - x[0]) * (x[3] - x[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


@pytest.fixture(scope="module")
def trained():
    """A tiny model trained on the two disk images (the overfit run), with its loss history."""
    keras.utils.set_random_seed(7)
    model = build_maskrcnn(tiny_config(), backbone=tiny_backbone())
    batch = disk_batch()
    data = tf.data.Dataset.from_tensors(batch).repeat(10)
    history = [model.evaluate(data.take(1), verbose=0, return_dict=True)]
    for _ in range(10):
        history.append(model.fit(data, epochs=1, verbose=0).history)
    return model, batch, history


def test_build_returns_a_built_compiled_model():
    model = build_maskrcnn(tiny_config(64), backbone=tiny_backbone(64))
    assert isinstance(model, MaskRCNN) and model.built and model.optimizer is not None
    names = [v.path for v in model.weights]
    assert len(names) == len(set(names)) and len(names) > 20
    again = build_maskrcnn(tiny_config(64), backbone=tiny_backbone(64))
    assert [v.shape for v in again.weights] == [v.shape for v in model.weights]


@pytest.mark.parametrize("backbone", available_backbones())
def test_every_backbone_builds_and_takes_a_train_step(backbone):
    config = tiny_config(64, backbone=backbone, images_per_gpu=1, post_nms_rois_training=64, pre_nms_limit=200)
    model = build_maskrcnn(config)
    batch = disk_batch(64, [[(30, 30, 12, 1)]])
    head = model.box_head.weights[0]
    before = np.array(head)
    logs = model.train_step(batch)
    assert set(logs) == {"loss", *LOSS_NAMES}
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert not np.allclose(before, np.array(head))


def test_images_without_cells_give_zero_box_and_mask_losses():
    model = build_maskrcnn(tiny_config(64), backbone=tiny_backbone(64))
    batch = disk_batch(64, [[], []])
    losses = {k: float(v) for k, v in model.compute_losses(batch, training=True).items()}
    assert losses["rpn_bbox_loss"] == 0.0 and losses["bbox_loss"] == 0.0 and losses["mask_loss"] == 0.0
    assert losses["rpn_class_loss"] > 0.0 and losses["class_loss"] > 0.0
    logs = model.train_step(batch)
    assert np.isfinite(float(logs["loss"]))


def test_overfit_two_images_losses_fall_and_cells_are_found(trained):
    model, batch, history = trained
    first, last = history[0], history[-1]
    assert last["loss"][-1] < 0.5 * first["loss"]
    for name in ("rpn_class_loss", "class_loss", "mask_loss"):
        assert last[name][-1] < 0.6 * first[name], name
    found = model.detect(batch["images"], batch["windows"], min_confidence=0.5)
    for b, disks in enumerate(DISKS):
        assert found["counts"][b] >= len(disks)
        for g, (_, _, _, cls) in enumerate(disks):
            gt = batch["gt_boxes"][b, g]
            ious = [_box_iou(gt, found["boxes"][b, d]) for d in range(found["counts"][b])]
            best = int(np.argmax(ious))
            assert ious[best] > 0.6 and found["class_ids"][b, best] == cls


def test_detect_output_contract(trained):
    model, batch, _ = trained
    found = model.detect(batch["images"][:1], batch["windows"][:1], min_confidence=0.0)
    d = model.settings.detection.max_instances
    assert found["boxes"].shape == (1, d, 4) and found["masks"].shape == (1, d, 28, 28)
    assert found["class_ids"].dtype == np.int32 and found["counts"].dtype == np.int32
    n = int(found["counts"][0])
    assert np.all(np.diff(found["scores"][0, :n]) <= 0)
    assert np.all(found["class_ids"][0, n:] == 0) and np.all(found["masks"][0, n:] == 0)
    # a detected disk's mask is a blob: inside high, corners low (the four corners together: the tiny
    # model trains for seconds, and one corner once came out at 0.504 on a run of CI)
    mask = found["masks"][0, 0]
    corners = mask[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert mask[14, 14] > 0.5 and corners.mean() < 0.5 and mask[14, 14] - corners.max() > 0.25
    none = model.detect(batch["images"][:1], batch["windows"][:1], min_confidence=1.0)
    assert none["counts"][0] == 0
    # calling the Keras model gives the same detections at the config's threshold
    eager = model({"images": batch["images"][:1], "windows": batch["windows"][:1]})
    compiled = model.detect(batch["images"][:1], batch["windows"][:1])
    np.testing.assert_array_equal(np.asarray(eager["class_ids"]), compiled["class_ids"])
    np.testing.assert_allclose(np.asarray(eager["boxes"]), compiled["boxes"], atol=1e-3)


def test_weights_round_trip_gives_identical_detections(trained, tmp_path):
    model, batch, _ = trained
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    fresh = build_maskrcnn(tiny_config(), backbone=tiny_backbone())
    fresh.load_weights(path)
    a = model.detect(batch["images"], batch["windows"], min_confidence=0.3)
    b = fresh.detect(batch["images"], batch["windows"], min_confidence=0.3)
    assert a["counts"].sum() > 0
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_detection_can_leave_out_the_finest_rpn_level_and_still_find_cells_the_size_of_its_coarser_anchors(
    trained, tmp_path
):
    """``rpn_inference_skip_levels``: proposals come from P3.. only (the anchors are sliced to match)."""
    from bloodview.model.anchors import level_anchors

    model, batch, _ = trained
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    coarse = build_maskrcnn(tiny_config(rpn_inference_skip_levels=1), backbone=tiny_backbone())
    coarse.load_weights(path)
    p2 = level_anchors(8, [0.5, 1.0, 2.0], (SIZE // 4, SIZE // 4), 4)
    assert coarse._anchors_before_level(1) == len(p2) and coarse._anchors_before_level(0) == 0
    found = coarse.detect(batch["images"], batch["windows"], min_confidence=0.5)
    for b, disks in enumerate(DISKS):
        for g, (_, _, radius, cls) in enumerate(disks):
            if radius < 14:
                continue  # smaller than P3's 16-px anchors can fairly be asked to hold
            gt = batch["gt_boxes"][b, g]
            ious = [_box_iou(gt, found["boxes"][b, d]) for d in range(found["counts"][b])]
            assert ious and max(ious) > 0.6


def test_a_network_built_for_a_wider_field_finds_the_same_cells_with_the_same_weights(trained):
    """``detection_network``: the trained weights in a 128 x 256 input; the disks, padded on the
    right, are found and named. Twice the area: twice the proposals and cells."""
    from bloodview.errors import ModelError

    model, batch, _ = trained
    wide = detection_network(model, tiny_config(), 128, 256, backbone=tiny_backbone(256, height=128))
    assert wide.settings.input_shape == (128, 256)
    assert wide.settings.rpn.post_nms_inference == 2 * model.settings.rpn.post_nms_inference
    assert wide.settings.detection.max_instances == 2 * model.settings.detection.max_instances
    padded = np.zeros((2, 128, 256, 3), np.float32)
    padded[:, :, :SIZE] = batch["images"]
    shaped = wide.detect(padded, batch["windows"], min_confidence=0.5)
    # every disk found and named, as the square network does (test_overfit_...); the boxes may come
    # from other proposals than the square network's (twice as many), so they are not compared exactly
    for b, disks in enumerate(DISKS):
        for g, (_, _, _, cls) in enumerate(disks):
            gt = batch["gt_boxes"][b, g]
            ious = [_box_iou(gt, shaped["boxes"][b, d]) for d in range(shaped["counts"][b])]
            best = int(np.argmax(ious))
            assert ious[best] >= 0.5 and shaped["class_ids"][b, best] == cls  # found, as benchmarks count it
        window = shaped["boxes"][b, : shaped["counts"][b]]
        assert (window[:, 3] <= SIZE + 1e-3).all(), "nothing detected in the padding right of the image"
    with pytest.raises(ValueError, match="shape"):
        wide.detect(batch["images"], batch["windows"])
    with pytest.raises(ModelError, match="multiples of 64"):
        detection_network(model, tiny_config(), 128, 200, backbone=tiny_backbone(200, height=128))


def test_a_big_tile_gets_proposals_by_area_up_to_the_models_limit(trained):
    """``tile_proposal_limit`` caps a big tile's proposals (a camera tile holds tens of cells, and the
    box head's time grows with them), never below the input's own count; 0 keeps them by area."""
    from bloodview.model.maskrcnn import tile_proposals

    assert tile_proposals(300, 11.7) == 3510
    assert tile_proposals(300, 11.7, limit=1000) == 1000
    assert tile_proposals(300, 3.0, limit=1000) == 900  # under the limit: by area, as before
    assert tile_proposals(300, 0.5, limit=1000) == 300  # a smaller network keeps the input's count
    assert tile_proposals(300, 11.7, limit=100) == 300  # a limit under the input's count is no cut
    model, _, _ = trained
    base = model.settings.rpn.post_nms_inference
    big = detection_network(model, tiny_config(tile_proposal_limit=base + 1), 256, 256, backbone=tiny_backbone(256, height=256))
    assert big.settings.rpn.post_nms_inference == base + 1
    assert big.settings.detection.max_instances == 4 * model.settings.detection.max_instances
    with pytest.raises(ValueError, match="tile_proposal_limit"):
        tiny_config(tile_proposal_limit=-1)


def test_a_skip_of_every_rpn_level_is_refused():
    with pytest.raises(ValueError, match="rpn_inference_skip_levels"):
        tiny_config(rpn_inference_skip_levels=5)


def test_detect_rejects_images_of_the_wrong_size(trained):
    model, batch, _ = trained
    with pytest.raises(ValueError, match="shape"):
        model.detect(batch["images"][:, :64, :64], batch["windows"])


def test_mask_shape_that_the_head_cannot_produce_is_refused():
    from bloodview.errors import ModelError

    with pytest.raises(ModelError, match="mask_pool_size"):
        build_maskrcnn(tiny_config(64, mask_shape=[28, 28], mask_pool_size=7), backbone=tiny_backbone(64))


def test_validation_loss_is_the_weighted_losses_plus_weight_decay():
    config = tiny_config(64, weight_decay=0.01, loss_weights={"mask_loss": 2.0})
    model = build_maskrcnn(config, backbone=tiny_backbone(64))
    batch = disk_batch(64, [[(30, 30, 12, 1)]])
    logs = model.evaluate(tf.data.Dataset.from_tensors(batch), verbose=0, return_dict=True)
    penalty = 0.5 * 0.01 * sum(float(np.sum(np.square(v))) for v in model.trainable_variables if len(v.shape) > 1)
    weighted = sum(logs[name] for name in LOSS_NAMES) + logs["mask_loss"]
    assert logs["loss"] == pytest.approx(weighted + penalty, rel=1e-4)


def test_the_mask_head_reads_the_detected_boxes_grown_by_mask_box_scale(trained, tmp_path):
    """``mask_box_scale``: ``mask_boxes`` are the boxes grown about their centres, cut to the window;
    1.0 (older models) reads the boxes themselves."""
    model, batch, _ = trained
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    plain = model.detect(batch["images"], batch["windows"], min_confidence=0.5)
    np.testing.assert_array_equal(plain["mask_boxes"], plain["boxes"])
    grown = build_maskrcnn(tiny_config(mask_box_scale=1.2), backbone=tiny_backbone())
    grown.load_weights(path)
    found = grown.detect(batch["images"], batch["windows"], min_confidence=0.5)
    np.testing.assert_allclose(found["boxes"], plain["boxes"], atol=1e-4)
    for b in range(len(found["counts"])):
        y0, x0, y1, x1 = (float(v) for v in batch["windows"][b])
        for d in range(found["counts"][b]):
            box, mask_box = found["boxes"][b, d], found["mask_boxes"][b, d]
            h, w = box[2] - box[0], box[3] - box[1]
            expected = np.clip(box + np.array([-0.1 * h, -0.1 * w, 0.1 * h, 0.1 * w]), [y0, x0, y0, x0], [y1, x1, y1, x1])
            np.testing.assert_allclose(mask_box, expected, atol=1e-3)
    with pytest.raises(ValueError, match="mask_box_scale"):
        tiny_config(mask_box_scale=0.9)
