"""The evaluation on the real data beside the checkout (BCCD boxes, Zheng masks, PBC labels).

Predictions are made from the ground truth in ways whose effect is worked out
here (boxes moved by a quarter of their width, masks eroded, score = IoU), so the
expected figures are computed in the test, not copied from a run.
"""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import mask_to_polygons, rectangle
from bloodview.core.instance import Instance, Source
from bloodview.evaluation.coco_metrics import IOU_THRESHOLDS
from bloodview.evaluation.evaluate import evaluate
from bloodview.io.class_folders import load_class_folders
from bloodview.io.mask_png import load_mask_pngs
from bloodview.io.voc import load_voc

RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def _copy(dataset: Dataset, change) -> Dataset:
    images = []
    for image in dataset.images:
        instances = [new for i in image.instances if (new := change(image, i)) is not None]
        images.append(ImageAnnotation(image.image_path, image.width, image.height, instances))
    return Dataset(images, dataset.classes, dataset.root)


@pytest.fixture(scope="module")
def bccd(bccd_dir, tmp_path_factory):
    """The first 20 BCCD fields (VOC boxes: box-only ground truth)."""
    folder = tmp_path_factory.mktemp("bccd") / "Annotations"
    folder.mkdir()
    for xml in sorted((bccd_dir / "Annotations").glob("*.xml"))[:20]:
        shutil.copy(xml, folder)
    return load_voc(folder, images_root=bccd_dir / "JPEGImages", check_images=False)


def test_bccd_boxes_against_themselves_are_perfect_and_masks_are_not_claimed(bccd):
    pred = _copy(bccd, lambda image, i: i.copy(score=0.9, source=Source.MODEL, box_only=False))
    report = evaluate(bccd, pred)
    assert report["mask"] is None
    assert any("box-only" in note for note in report["notes"])
    assert report["box"]["mAP50_95"] == pytest.approx(1.0)
    assert report["classification"]["accuracy"] == pytest.approx(1.0)


def test_bccd_wbc_moved_a_quarter_width_counts_at_0_5_not_0_7(bccd):
    # a box moved right by w/4 overlaps (3w/4)h of a union (5w/4)h: IoU = 0.6
    def move_wbc(image, instance):
        x1, y1, x2, y2 = instance.bbox
        d = (x2 - x1) / 4 if instance.class_name == "wbc" else 0.0
        return instance.copy(polygons=[rectangle(x1 + d, y1, x2 + d, y2)], score=0.9, source=Source.MODEL)

    moved = _copy(bccd, move_wbc)
    for image in moved.images:  # keep moved boxes inside the image
        image.width += 200
    box = evaluate(bccd, moved)["box"]["per_class"]
    assert box["wbc"]["mAP50"] == pytest.approx(1.0)
    assert box["wbc"]["mAP70"] == pytest.approx(0.0)
    assert box["rbc"]["mAP90"] == pytest.approx(1.0)


@pytest.fixture(scope="module")
def zheng(zheng_dir):
    return load_mask_pngs(zheng_dir)


def test_zheng_eroded_masks_give_the_hand_computed_recall_and_precision(zheng):
    sample = Dataset(zheng.images[:40], zheng.classes, zheng.root)
    ious: dict[str, list[float]] = {}

    def erode(image, instance):
        # erode by 1, 2 or 3 px so the IoUs spread across COCO's thresholds
        k = 3 + 2 * (int(image.image_path.stem) % 3)
        mask = instance.to_mask(image.height, image.width)
        eroded = cv2.erode(mask.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
        iou = eroded.sum() / mask.sum()  # eroded lies inside the cell
        ious.setdefault(instance.class_name, []).append(float(iou))
        # score = IoU: every hit ranks above every miss, so precision is 1 up to the recall
        return Instance(mask_to_polygons(eroded, tolerance=0.0, min_area=1.0)[:1], instance.class_name,
                        score=float(iou), source=Source.MODEL)

    pred = _copy(sample, erode)
    mask = evaluate(sample, pred)["mask"]
    recall = {c: [np.mean(np.array(v) >= t) for t in IOU_THRESHOLDS] for c, v in ious.items()}
    expected_mar = np.mean([np.mean(r) for r in recall.values()])
    expected_ap50 = np.mean([np.mean(RECALL_POINTS <= r[0]) for r in recall.values()])
    assert mask["mAR"] == pytest.approx(expected_mar, abs=1e-9)
    assert mask["AR50"] == pytest.approx(np.mean([r[0] for r in recall.values()]), abs=1e-9)
    assert mask["mAP50"] == pytest.approx(expected_ap50, abs=1e-9)
    assert 0.2 < mask["mAR"] < 0.9  # the case exercises several thresholds


def test_pbc_labels_use_the_cell_of_interest(pbc_dir):
    full = load_class_folders(pbc_dir)
    labelled = [i for i in full.images if i.split == "val"][::30][:16]
    gt = Dataset(labelled, full.classes, full.root)

    def predictions(edge_score: float) -> Dataset:
        images = []
        for image in gt.images:
            w, h = image.width, image.height
            centre = Instance([rectangle(w / 2 - 40, h / 2 - 40, w / 2 + 40, h / 2 + 40)], image.image_label,
                              score=0.90, source=Source.MODEL)
            edge = Instance([rectangle(0, 0, 20, 20)], "platelet", score=edge_score, source=Source.MODEL)
            images.append(ImageAnnotation(image.image_path, w, h, [edge, centre]))
        return Dataset(images, gt.classes, gt.root)

    for edge_score in (0.91, 0.99):  # a neighbour as sure as the centred cell, or surer
        assert evaluate(gt, predictions(edge_score))["classification"]["accuracy"] == pytest.approx(1.0)
