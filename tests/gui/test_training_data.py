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
from bloodview.gui.training_data import training_images, unreviewed_images, write_training_set
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
