"""``bloodview evaluate --model`` reads an image without usable red cells at its camera's scale, as predict does."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from bloodview.cli.main import main
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.core.measure import PixelSize
from bloodview.core.scale import ScaleEstimate, scale_from_pixel_size
from bloodview.io.coco import save_coco
from bloodview.model.predict import ImageDetections  # the real result type; the Predictor is stood in for
from tests.cli.stand_in import use_stand_in_predictor

MEASURED = {"a.png": 0.080, "b.png": 0.081, "c.png": 0.082}  # their own red cells give these
CROWDED = "d.png"  # same camera (100 x 100), no red cell of its own
ODD = "e.png"  # another frame size: no camera to borrow a scale from


class _CameraPredictor:
    """Names the cell right only when the image is read at a measured scale (as a real model does, roughly)."""

    calls: list = []

    @classmethod
    def load(cls, model_dir, **options):
        return cls()

    def detect(self, images, progress=None, pixel_size=None, **options):
        names = [getattr(image, "name", str(image)) for image in images]
        type(self).calls.append((names, pixel_size))
        given = pixel_size if isinstance(pixel_size, list) else [pixel_size] * len(images)
        found = []
        for name, size in zip(names, given):
            if isinstance(size, ScaleEstimate):
                scale = size
            elif size:
                scale = scale_from_pixel_size(size)
            elif name in MEASURED:
                scale = ScaleEstimate(MEASURED[name], 7.5 / MEASURED[name], 20, "red cells", "good")
            else:
                scale = ScaleEstimate(0.1029, 72.9, 0, "model default", "low")
            label = "lymphocyte" if scale.source == "model default" else "neutrophil"
            cell = Instance([rectangle(10, 10, 50, 50)], label, score=0.9, source=Source.MODEL)
            found.append(ImageDetections([cell], scale, 1, 1.0))
        return found


@pytest.fixture
def gt(tmp_path, monkeypatch):
    images = []
    for name in (*MEASURED, CROWDED, ODD):
        side = 60 if name == ODD else 100
        Image.new("RGB", (side, side)).save(tmp_path / name)
        images.append(ImageAnnotation(name, side, side, [Instance([rectangle(10, 10, 50, 50)], "neutrophil")]))
    save_coco(Dataset(images, ClassCatalogue.pbc()), tmp_path / "gt.json")
    use_stand_in_predictor(monkeypatch, _CameraPredictor)
    _CameraPredictor.calls = []
    return tmp_path


def test_an_image_without_red_cells_is_scored_as_read_at_the_scale_of_its_cameras_other_images(gt, capsys):
    assert main(["evaluate", "--gt", str(gt / "gt.json"), "--model", "m", "--out", str(gt / "r")]) == 0
    assert "1 image(s) without usable red cells read again at their camera's scale" in capsys.readouterr().err
    first, *again = _CameraPredictor.calls
    assert len(first[0]) == 5 and len(again) == 1
    (name,), (camera,) = again[0]
    assert name == CROWDED  # the odd-sized image has no camera, the measured ones keep their own scale
    assert camera.source == "same camera" and camera.um_per_pixel == pytest.approx(0.081)
    report = json.loads((gt / "r" / "report.json").read_text())
    assert report["classification"]["accuracy"] == pytest.approx(4 / 5)  # d now right; e still read at the default


def test_a_pixel_size_the_user_gives_leaves_nothing_to_read_again(gt, capsys):
    assert main(["evaluate", "--gt", str(gt / "gt.json"), "--model", "m", "--pixel-size", "0.09",
                 "--out", str(gt / "r")]) == 0
    assert "read again" not in capsys.readouterr().err
    assert len(_CameraPredictor.calls) == 1


def test_a_pixel_size_the_ground_truth_gives_is_never_replaced(gt):
    data = json.loads((gt / "gt.json").read_text())
    save_coco(Dataset([ImageAnnotation(i["file_name"], i["width"], i["height"],
                                       [Instance([rectangle(10, 10, 50, 50)], "neutrophil")],
                                       pixel_size=PixelSize(0.1029, "given") if i["file_name"] == CROWDED else None)
                       for i in data["images"]], ClassCatalogue.pbc()), gt / "gt.json")
    assert main(["evaluate", "--gt", str(gt / "gt.json"), "--model", "m", "--out", str(gt / "r")]) == 0
    assert len(_CameraPredictor.calls) == 1  # d was read at the size its ground truth gives, not again
