"""Group labels ("a white cell, type unknown"): which ids they get and what the losses make of them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.instance import Instance
from bloodview.model.config import MaskRCNNConfig
from bloodview.model.data import ClassMismatchError, prepare_records
from bloodview.model.label_groups import group_id, membership_table, white_class_ids
from bloodview.model.losses import bbox_loss, class_loss, mask_loss
from bloodview.model.settings import settings_from_config

PBC = ["basophil", "eosinophil", "erythroblast", "ig", "lymphocyte", "monocyte", "neutrophil", "platelet"]


def test_white_classes_are_the_differential_ones():
    # Erythroblasts and platelets are not white cells: a "WBC" box must not teach them.
    assert [PBC[i - 1] for i in white_class_ids(PBC)] == [
        "basophil", "eosinophil", "ig", "lymphocyte", "monocyte", "neutrophil"]


def test_other_tools_white_cell_names_get_the_group_id():
    for name in ("WBC", "white cell", "Leukocyte", "white_blood_cell"):
        assert group_id(name, PBC) == len(PBC) + 1
    assert group_id("rbc", PBC) is None
    assert group_id("wbc", ["platelet", "rbc"]) is None  # a model without white classes has no group


def test_membership_table_rows():
    table = membership_table(PBC)
    assert table.shape == (len(PBC) + 2, len(PBC) + 1)
    np.testing.assert_array_equal(table[: len(PBC) + 1], np.eye(len(PBC) + 1))
    assert table[-1].sum() == 6 and table[-1][0] == 0  # never background


def test_only_models_with_white_classes_carry_a_table():
    assert settings_from_config(MaskRCNNConfig(class_names=PBC, num_classes=9)).train.label_table is not None
    plain = MaskRCNNConfig(class_names=["platelet", "rbc"], num_classes=3)
    assert settings_from_config(plain).train.label_table is None


def test_wbc_boxes_train_as_the_group_and_other_unknowns_are_still_refused(tmp_path):
    from PIL import Image

    path = tmp_path / "field.png"
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(path)
    square = np.array([[5, 5], [20, 5], [20, 20], [5, 20]], float)
    config = MaskRCNNConfig(class_names=PBC, num_classes=9, image_min_dim=64, image_max_dim=64)
    image = ImageAnnotation(path, 40, 40, instances=[Instance([square], "wbc"), Instance([square + 10], "platelet")])
    records = prepare_records([image], lambda image: image.image_path, config)
    assert records[0].class_ids.tolist() == [9, 8]
    image.instances.append(Instance([square + 5], "rbc"))
    with pytest.raises(ClassMismatchError, match="'rbc'"):
        prepare_records([image], lambda image: image.image_path, config)


# --- losses ------------------------------------------------------------------------------------
TABLE = membership_table(["a", "b", "neutrophil", "lymphocyte"])  # K = 5, group row 5 = {3, 4}


def test_one_class_labels_lose_the_same_with_or_without_the_table():
    rng = np.random.default_rng(0)
    ids = np.array([[1, 3, 0]], np.int32)
    logits = rng.normal(size=(1, 3, 5)).astype(np.float32)
    valid = np.array([[True, True, True]])
    assert float(class_loss(ids, logits, valid, TABLE)) == pytest.approx(float(class_loss(ids, logits, valid)), rel=1e-6)
    deltas, pred = rng.normal(size=(1, 3, 4)).astype(np.float32), rng.normal(size=(1, 3, 5, 4)).astype(np.float32)
    assert float(bbox_loss(ids, deltas, pred, TABLE)) == pytest.approx(float(bbox_loss(ids, deltas, pred)), rel=1e-6)
    masks = (rng.random((2, 4, 4)) > 0.5).astype(np.float32)
    mask_logits = rng.normal(size=(2, 4, 4, 5)).astype(np.float32)
    assert float(mask_loss(np.array([1, 3]), masks, mask_logits, TABLE)) == pytest.approx(
        float(mask_loss(np.array([1, 3]), masks, mask_logits)), rel=1e-6)


def test_a_group_label_costs_minus_log_of_its_classes_summed_probability():
    logits = np.log(np.array([[[0.1, 0.2, 0.1, 0.3, 0.3]]], np.float32))
    loss = float(class_loss(np.array([[5]]), logits, np.array([[True]]), TABLE))
    assert loss == pytest.approx(-math.log(0.6), rel=1e-5)
    # Whichever white class the network prefers, a confident white call costs almost nothing.
    sure = np.log(np.array([[[0.001, 0.001, 0.001, 0.996, 0.001]]], np.float32))
    assert float(class_loss(np.array([[5]]), sure, np.array([[True]]), TABLE)) == pytest.approx(-math.log(0.997), rel=1e-4)


def test_group_box_and_mask_losses_average_the_member_classes():
    target = np.zeros((1, 1, 4), np.float32)
    pred = np.zeros((1, 1, 5, 4), np.float32)
    pred[0, 0, 3] = 0.5  # member 3 off by 0.5 on every coordinate: smooth L1 0.125; member 4 exact
    pred[0, 0, 1] = 9.0  # a non-member's error must not count
    assert float(bbox_loss(np.array([[5]]), target, pred, TABLE)) == pytest.approx(0.125 / 2)
    masks = np.ones((1, 2, 2), np.float32)
    logits = np.zeros((1, 2, 2, 5), np.float32)
    logits[..., 4] = 50.0  # member 4 sure and right (loss ~0), member 3 at p = 0.5 (loss log 2)
    logits[..., 1] = -50.0
    assert float(mask_loss(np.array([5]), masks, logits, TABLE)) == pytest.approx(math.log(2) / 2, rel=1e-4)
