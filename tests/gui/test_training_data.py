"""What a retrain learns from: only cells a person checked, or imports the user vouched for.

Issue 19, bug 2: an unchecked model cell imported into a signed-off image counted
as reviewed training data, so a model guess would have taught the next model.
"""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance, Source
from bloodview.gui.training_data import held_out_images, training_images, unreviewed_images, write_training_set
from bloodview.io.detect import load_annotations
from tests.io.test_provenance import MAKESENSE_VGG


def ellipse(cx, cy, r):
    t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)


def test_a_signed_off_image_holding_an_unchecked_model_cell_is_not_training_data(tmp_path):
    checked = Instance([ellipse(40, 40, 15)], "neutrophil", score=0.9, source=Source.MODEL, reviewed=True)
    imported_guess = Instance([ellipse(120, 40, 15)], "monocyte", score=0.6, source=Source.MODEL)
    signed = ImageAnnotation("a.png", 200, 160, [checked, imported_guess], signed_off=True)
    drawn = ImageAnnotation("b.png", 200, 160, [Instance([ellipse(80, 80, 20)], "lymphocyte")])
    corrected = ImageAnnotation("c.png", 200, 160, [
        Instance([ellipse(80, 80, 20)], "basophil", score=0.4, source=Source.MODEL, corrected=True)])
    guesses = ImageAnnotation("d.png", 200, 160, [Instance([ellipse(80, 80, 20)], "ig", 0.99, Source.MODEL)])
    empty = ImageAnnotation("e.png", 200, 160, signed_off=True)
    dataset = Dataset([signed, drawn, corrected, guesses, empty], ClassCatalogue.pbc(), tmp_path)

    assert [i.image_path.name for i in training_images(dataset)] == ["b.png", "c.png"]
    assert [i.image_path.name for i in unreviewed_images(dataset)] == ["a.png", "d.png"]
    assert [i.image_path.name for i in training_images(dataset, broken=[1])] == ["c.png"]

    for name in ("b.png", "c.png"):
        Image.new("RGB", (200, 160)).save(tmp_path / name)
    written = write_training_set(dataset, training_images(dataset), tmp_path / "train")
    coco = json.loads(written.coco.read_text())
    assert [i["file_name"] for i in coco["images"]] == ["b.png", "c.png"]
    assert written.cell_count == 2 and len(coco["annotations"]) == 2


def test_imports_teach_only_when_the_user_marks_them_reviewed(tmp_path):
    Image.new("RGB", (200, 160), "white").save(tmp_path / "a.png")
    (tmp_path / "labels.json").write_text(MAKESENSE_VGG)
    plain = load_annotations(tmp_path / "labels.json")
    assert training_images(plain) == [] and len(unreviewed_images(plain)) == 1
    vouched = load_annotations(tmp_path / "labels.json", reviewed=True)
    (image,) = training_images(vouched)
    assert len(image.instances) == 2


def reviewed_dataset(tmp_path, count: int, cells: int = 2) -> Dataset:
    images = [ImageAnnotation(f"field{k:02d}.png", 200, 160,
                              [Instance([ellipse(30 + 40 * j, 60, 15)], "neutrophil") for j in range(cells)])
              for k in range(count)]
    for image in images:
        Image.new("RGB", (200, 160)).save(tmp_path / image.image_path)
    return Dataset(images, ClassCatalogue.pbc(), tmp_path)


def test_a_fifth_of_ten_reviewed_images_is_held_out_as_val_and_written_apart(tmp_path):
    dataset = reviewed_dataset(tmp_path, 10)
    images = training_images(dataset)
    held = held_out_images(images)
    assert len(held) == 2
    assert held_out_images(list(reversed(images))) == list(reversed(held))  # the same images, any order
    written = write_training_set(dataset, images, tmp_path / "train", held_out=held)
    coco = json.loads(written.coco.read_text())
    assert len(coco["images"]) == 10 and len(coco["annotations"]) == 20  # train.json keeps every image
    val = sorted(i["file_name"] for i in coco["images"] if i.get("split") == "val")
    assert val == sorted(i.image_path.name for i in held)
    apart = json.loads(written.held_out.read_text())
    assert written.held_out.parent == written.coco.parent
    assert sorted(i["file_name"] for i in apart["images"]) == val and len(apart["annotations"]) == 4
    assert (written.held_out_images, written.held_out_cells) == (2, 4)
    assert all(i.split is None for i in dataset.images)  # the user's images are not changed


def test_images_the_user_marked_val_are_the_ones_held_out(tmp_path):
    dataset = reviewed_dataset(tmp_path, 7)
    dataset.images[3].split = "val"
    assert held_out_images(training_images(dataset)) == [dataset.images[3]]


def test_fewer_than_five_reviewed_images_all_train(tmp_path):
    dataset = reviewed_dataset(tmp_path, 4)
    images = training_images(dataset)
    assert held_out_images(images) == []
    written = write_training_set(dataset, images, tmp_path / "train", held_out=[])
    assert written.held_out is None and not (tmp_path / "train" / "heldout.json").exists()
    assert not any(i.get("split") == "val" for i in json.loads(written.coco.read_text())["images"])
    assert len(held_out_images(training_images(reviewed_dataset(tmp_path, 5)))) == 1  # 5: one held out
