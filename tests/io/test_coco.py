"""COCO instances and results files, checked against real pycocotools."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import mask_iou, rectangle
from bloodview.core.instance import Instance, Source
from bloodview.errors import FormatError, UnknownClassError
from bloodview.io.coco import coco_dict, load_coco, load_coco_results, save_coco, save_coco_results
from bloodview.io.rle import mask_to_rle, mask_to_uncompressed_rle


def _dataset() -> Dataset:
    cell = Instance(np.array([[10, 10], [30, 12], [28, 35], [9, 30]], float), "neutrophil",
                    score=0.91, source=Source.MODEL, origin="resnet50-v3", quality=None)
    two_parts = Instance([rectangle(40, 40, 50, 50), rectangle(52, 40, 60, 48)], "lymphocyte",
                         reviewed=True, corrected=True)
    box = Instance(rectangle(1.5, 2.5, 20, 22), "platelet", box_only=True, extra={"note": "from VOC"})
    crowd = Instance(rectangle(0, 60, 20, 80), "erythroblast", extra={"iscrowd": True})
    images = [
        ImageAnnotation("a.png", 64, 96, [cell, two_parts, crowd], split="train"),
        ImageAnnotation("sub/b.png", 40, 30, [box], split="val", image_label="platelet", signed_off=True),
        ImageAnnotation("c.png", 20, 20, []),
    ]
    return Dataset(images, ClassCatalogue.pbc())


def test_round_trip_keeps_outlines_provenance_and_splits(tmp_path):
    original = _dataset()
    save_coco(original, tmp_path / "ann.json")
    loaded = load_coco(tmp_path / "ann.json")
    assert loaded.root == tmp_path
    assert [i.image_path.as_posix() for i in loaded] == ["a.png", "sub/b.png", "c.png"]
    assert [i.split for i in loaded] == ["train", "val", None]
    assert loaded.images[1].image_label == "platelet" and loaded.images[1].signed_off
    for before, after in zip(original, loaded):
        assert len(before) == len(after)
        for a, b in zip(before, after):
            if a.extra.get("iscrowd"):  # crowd regions travel as RLE: same pixels
                np.testing.assert_array_equal(a.to_mask(96, 64), b.to_mask(96, 64))
            else:
                assert a.same_as(b), (a, b)
            assert (a.id, a.origin, a.quality, a.extra) == (b.id, b.origin, b.quality, b.extra)


def test_file_is_plain_coco_for_pycocotools(tmp_path):
    dataset = _dataset()
    save_coco(dataset, tmp_path / "ann.json")
    coco = COCO(str(tmp_path / "ann.json"))
    assert sorted(coco.getCatIds()) == list(range(1, 9))
    assert coco.loadCats(7)[0]["name"] == "neutrophil"
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[1]))
    assert [a["category_id"] for a in anns] == [7, 5, 3]
    assert [a["iscrowd"] for a in anns] == [0, 0, 1]
    masks = [coco.annToMask(a).astype(bool) for a in anns]
    ours = [i.to_mask(96, 64) for i in dataset.images[0].instances]
    # pycocotools rasterises slanted edges its own way (a pixel may differ); straight ones agree
    assert mask_iou(masks[0], ours[0]) > 0.98
    np.testing.assert_array_equal(masks[1], ours[1])
    np.testing.assert_array_equal(masks[2], ours[2])
    assert anns[1]["bbox"] == [40, 40, 20, 10]
    assert anns[1]["area"] == 100 + 64


def test_categories_matched_by_name_not_id(tmp_path):
    data = {
        "images": [{"id": 5, "file_name": "x.png", "width": 50, "height": 50}],
        "annotations": [
            {"id": 1, "image_id": 5, "category_id": 42, "segmentation": [[1, 1, 20, 1, 20, 20]], "iscrowd": 0},
            {"id": 2, "image_id": 5, "category_id": 3, "bbox": [5, 5, 10, 10], "iscrowd": 0},
        ],
        "categories": [{"id": 42, "name": "Neutrophil"}, {"id": 3, "name": "Platelets"}],
    }
    (tmp_path / "foreign.json").write_text(json.dumps(data))
    loaded = load_coco(tmp_path / "foreign.json")
    assert [i.class_name for i in loaded.images[0]] == ["neutrophil", "platelet"]
    assert loaded.images[0].instances[1].box_only
    exported = coco_dict(loaded)
    assert [a["category_id"] for a in exported["annotations"]] == [7, 8]


def test_unknown_category_lists_known_classes_or_is_added(tmp_path):
    data = {
        "images": [{"id": 1, "file_name": "x.png", "width": 50, "height": 50}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 20, 1, 20, 20]]}],
        "categories": [{"id": 1, "name": "RBC"}],
    }
    (tmp_path / "a.json").write_text(json.dumps(data))
    with pytest.raises(UnknownClassError, match=r"a.json: unknown cell class 'RBC'; known classes: basophil, .*platelet"):
        load_coco(tmp_path / "a.json")
    loaded = load_coco(tmp_path / "a.json", add_unknown_classes=True)
    assert loaded.images[0].instances[0].class_name == "rbc"
    assert loaded.classes["rbc"].id == 9
    save_coco(loaded, tmp_path / "b.json")
    # our own file restores its catalogue (rbc included) without being asked
    again = load_coco(tmp_path / "b.json")
    assert again.classes.names[-1] == "rbc" and again.images[0].instances[0].class_name == "rbc"


def test_rle_segmentations_become_polygons(tmp_path):
    mask = np.zeros((30, 40), bool)
    mask[5:15, 8:20] = True
    crowd = np.zeros((30, 40), bool)
    crowd[20:28, 0:30] = True
    data = {
        "images": [{"id": 1, "file_name": "x.png", "width": 40, "height": 30}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "segmentation": mask_to_rle(mask), "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 1, "segmentation": mask_to_uncompressed_rle(crowd), "iscrowd": 1},
        ],
        "categories": [{"id": 1, "name": "monocyte"}],
    }
    (tmp_path / "rle.json").write_text(json.dumps(data))
    COCO(str(tmp_path / "rle.json"))  # pycocotools accepts the hand-made file
    first, second = load_coco(tmp_path / "rle.json").images[0].instances
    np.testing.assert_array_equal(first.to_mask(30, 40), mask)
    np.testing.assert_array_equal(second.to_mask(30, 40), crowd)
    assert second.extra["iscrowd"] and not first.extra


def _write(tmp_path, data, name="bad.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def _one(segmentation=None, file_name="x.png", **image):
    ann = {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0}
    if segmentation is not None:
        ann["segmentation"] = segmentation
    return {
        "images": [{"id": 1, "file_name": file_name, "width": 50, "height": 40, **image}],
        "annotations": [ann],
        "categories": [{"id": 1, "name": "basophil"}],
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"images": [', r"bad.json: is not valid JSON: .*line 1.*truncated"),
        ("{images: []}", r"bad.json: is not valid JSON"),
        ("", r"bad.json: COCO file is empty"),
        ('{"foo": 1}', r"bad.json: is not a COCO instances file"),
        (_one([[1, 1, 5, 5]]), r"annotation 1: outline has 2 point\(s\)"),
        (_one([[1, 1, 5, 5, 1, 9]], file_name="../secret.png"), r"'../secret.png' points outside the data folder"),
        (_one([[1, 1, 5, 5, 1, 9]], width="50"), r"needs positive integer 'width' and 'height'"),
        (_one(), r"annotation 1 has neither a segmentation nor a bbox"),
        # was "a region has an empty or missing class label ('')": which region, of which category?
        ({**_one([[1, 1, 5, 5, 1, 9]]), "categories": [{"id": 1, "name": " "}]},
         r"bad.json: annotation 1 is in category id 1, whose 'name' is empty$"),
    ],
)
def test_bad_input_gives_one_clear_sentence(tmp_path, content, message):
    path = _write(tmp_path, content)
    with pytest.raises(FormatError, match=message) as info:
        load_coco(path)
    assert "\n" not in str(info.value)


def test_outline_wholly_outside_the_image_is_skipped_and_the_rest_kept(tmp_path, caplog):
    data = _one([[100, 100, 120, 100, 120, 120]])
    data["annotations"].append({"id": 2, "image_id": 1, "category_id": 1, "iscrowd": 0,
                                "segmentation": [[1, 1, 9, 1, 9, 9]]})
    with caplog.at_level(logging.WARNING):
        (image,) = load_coco(_write(tmp_path, data)).images
    assert [i.bbox for i in image.instances] == [(1, 1, 9, 9)]
    assert "annotation 1: outline lies outside the 50x40 image; skipped" in caplog.text


def test_polygon_crossing_border_is_clipped(tmp_path):
    path = _write(tmp_path, _one([[-5, -5, 20, -5, 20, 20, -5, 20]]))
    (instance,) = load_coco(path).images[0].instances
    assert instance.bbox == (0, 0, 20, 20)


def test_annotation_size_must_match_image_file(tmp_path):
    Image.new("RGB", (60, 40)).save(tmp_path / "x.png")
    path = _write(tmp_path, _one([[1, 1, 5, 5, 1, 9]]))
    with pytest.raises(FormatError, match=r"says x.png is 50x40 but the image file is 60x40"):
        load_coco(path)
    assert load_coco(path, check_images=False).images[0].width == 50


def test_references_to_missing_image_or_category(tmp_path):
    data = _one([[1, 1, 5, 5, 1, 9]])
    data["annotations"][0]["image_id"] = 7
    with pytest.raises(FormatError, match="image id 7, which is not in 'images'"):
        load_coco(_write(tmp_path, data))
    data = _one([[1, 1, 5, 5, 1, 9]])
    data["annotations"][0]["category_id"] = 9
    with pytest.raises(FormatError, match="category id 9, which is not in 'categories'"):
        load_coco(_write(tmp_path, data))


def test_images_root_and_backup_on_overwrite(tmp_path):
    (tmp_path / "imgs").mkdir()
    dataset = _dataset()
    save_coco(dataset, tmp_path / "ann.json")
    first = (tmp_path / "ann.json").read_text()
    dataset.images.pop()
    save_coco(dataset, tmp_path / "ann.json")
    assert (tmp_path / "ann.json.bak").read_text() == first
    loaded = load_coco(tmp_path / "ann.json", images_root=tmp_path / "imgs")
    assert loaded.resolve_image(loaded.images[1]) == tmp_path / "imgs" / "sub" / "b.png"


def test_save_refuses_an_image_without_size_and_keeps_the_old_file(tmp_path):
    """Bug: save_coco wrote unreadable images as 0 x 0, a file load_coco then refused."""
    dataset = _dataset()
    save_coco(dataset, tmp_path / "ann.json")
    before = (tmp_path / "ann.json").read_text()
    dataset.images.append(ImageAnnotation("broken.jpg", 0, 0))
    with pytest.raises(FormatError, match=r"ann\.json: cannot write image 'broken\.jpg': its size is unknown"):
        save_coco(dataset, tmp_path / "ann.json")
    assert (tmp_path / "ann.json").read_text() == before
    assert len(load_coco(tmp_path / "ann.json", check_images=False).images) == 3


def test_results_round_trip_and_cocoeval_perfect_score(tmp_path):
    gt = _dataset()
    for image in gt:
        image.instances = [i for i in image.instances if not i.extra.get("iscrowd")]
    predictions = Dataset(
        [ImageAnnotation(i.image_path, i.width, i.height,
                         [x.copy(score=0.8, source=Source.MODEL) for x in i.instances]) for i in gt],
        gt.classes,
    )
    save_coco_results(predictions, tmp_path / "res.json")
    listed = json.loads((tmp_path / "res.json").read_text())
    assert isinstance(listed, list)
    assert set(listed[0]) == {"image_id", "file_name", "category_id", "category_name", "segmentation", "bbox",
                              "score"}
    # each detection names its image and class: ids are only positions and catalogue ids, and a ground truth
    # numbered otherwise pairs by name
    assert [e["file_name"] for e in listed] == [gt.images[e["image_id"] - 1].image_path.as_posix() for e in listed]
    assert [e["category_name"] for e in listed] == [gt.classes[e["category_id"]].name for e in listed]
    back = load_coco_results(tmp_path / "res.json", gt)
    assert [len(i) for i in back] == [2, 1, 0]
    assert all(x.source == Source.MODEL and x.score == pytest.approx(0.8) for i in back for x in i)
    np.testing.assert_array_equal(back.images[0].instances[1].to_mask(96, 64), gt.images[0].instances[1].to_mask(96, 64))

    coco_gt = COCO()
    coco_gt.dataset = coco_dict(gt)
    coco_gt.createIndex()
    coco_dt = coco_gt.loadRes(str(tmp_path / "res.json"))  # the extra file_name key does not bother it
    evaluator = COCOeval(coco_gt, coco_dt, "segm")
    evaluator.params.areaRng = [[0, 1e10]] * 4
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    assert evaluator.stats[1] == pytest.approx(1.0)  # AP@0.5


def test_results_against_ground_truth_file_ids(tmp_path):
    gt = {
        "images": [{"id": 42, "file_name": "x.png", "width": 50, "height": 40}],
        "annotations": [],
        "categories": [{"id": 17, "name": "eosinophil"}],
    }
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    results = [{"image_id": 42, "category_id": 17, "bbox": [1, 2, 10, 10], "score": 0.5}]
    (tmp_path / "res.json").write_text(json.dumps(results))
    back = load_coco_results(tmp_path / "res.json", tmp_path / "gt.json")
    (det,) = back.images[0].instances
    assert det.class_name == "eosinophil" and det.box_only and det.bbox == (1, 2, 11, 12)
    results[0]["image_id"] = 1
    (tmp_path / "res.json").write_text(json.dumps(results))
    with pytest.raises(FormatError, match="image id 1, which is not in the ground truth"):
        load_coco_results(tmp_path / "res.json", tmp_path / "gt.json")


def test_coco_dict_rle_gives_our_exact_pixels_to_pycocotools():
    dataset = _dataset()
    coco = COCO()
    coco.dataset = coco_dict(dataset, rle=True)
    coco.createIndex()
    for ann, instance in zip(coco.loadAnns(coco.getAnnIds(imgIds=[1])), dataset.images[0].instances):
        np.testing.assert_array_equal(coco.annToMask(ann).astype(bool), instance.to_mask(96, 64))
