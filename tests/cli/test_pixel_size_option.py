"""``--pixel-size UM`` on predict and evaluate: passed to the model, the scale kept in the output."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
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

TINY = Path(__file__).resolve().parents[1] / "model" / "tiny_model.json"



# --- evaluate --model, with a stand-in predictor (no TensorFlow) -------------------------------
class _ScalePredictor:
    """Finds one neutrophil per image and reads each at the pixel size given, else 0.1 µm from 'red cells'."""

    asked: list = []

    @classmethod
    def load(cls, model_dir, **options):
        return cls()

    def detect(self, images, progress=None, pixel_size=None):
        type(self).asked.append(pixel_size)
        sizes = pixel_size if isinstance(pixel_size, list) else [pixel_size] * len(images)
        cell = Instance([rectangle(0, 10, 20, 30)], "neutrophil", score=0.9, source=Source.MODEL)
        measured = ScaleEstimate(0.1, 75, 9, "red cells", "good")
        return [ImageDetections([cell.copy()], scale_from_pixel_size(s) if s else measured, 1, 1.0)
                for s in sizes]


@pytest.fixture
def gt(tmp_path, monkeypatch):
    for name in ("a.png", "b.png"):
        Image.new("RGB", (100, 100)).save(tmp_path / name)
    images = [ImageAnnotation("a.png", 100, 100, [Instance([rectangle(0, 10, 20, 30)], "neutrophil")]),
              ImageAnnotation("b.png", 100, 100, [Instance([rectangle(0, 10, 20, 30)], "neutrophil")],
                              pixel_size=PixelSize(0.25, "given"))]
    save_coco(Dataset(images, ClassCatalogue.pbc()), tmp_path / "gt.json")
    use_stand_in_predictor(monkeypatch, _ScalePredictor)
    _ScalePredictor.asked = []
    return tmp_path


def test_evaluate_passes_the_pixel_size_to_every_image(gt):
    assert main(["evaluate", "--gt", str(gt / "gt.json"), "--model", "m", "--pixel-size", "0.2",
                 "--out", str(gt / "r")]) == 0
    assert _ScalePredictor.asked == [[0.2, 0.2]]


def test_evaluate_without_the_option_uses_a_pixel_size_the_ground_truth_gives(gt):
    assert main(["evaluate", "--gt", str(gt / "gt.json"), "--model", "m", "--out", str(gt / "r")]) == 0
    assert _ScalePredictor.asked == [[None, 0.25]]  # a.png measured, b.png as its ground truth says


@pytest.mark.parametrize("bad", ["-0.1", "0", "ten"])
def test_a_bad_pixel_size_is_refused_in_a_sentence(gt, capsys, bad):
    with pytest.raises(SystemExit):
        main(["evaluate", "--gt", str(gt / "gt.json"), "--model", "m", f"--pixel-size={bad}", "--out", "r"])
    assert "µm per pixel" in capsys.readouterr().err
    assert _ScalePredictor.asked == []


# --- predict, with a real (tiny, scale-aware) model -------------------------------------------
@pytest.fixture(scope="module")
def scale_model(confident_tiny_model):
    """A tiny stored model trained 'at' 0.2 µm/px that finds cells whose masks cover their boxes."""
    return confident_tiny_model("tiny-scaled", pixel_size_um=0.2, fallback_pixel_size_um=0.2)


def test_predict_records_the_given_scale_and_each_cells_size_in_micrometres(scale_model, tmp_path):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (48, 56, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    out = tmp_path / "out.json"
    assert main(["predict", str(tmp_path / "a.png"), "--model", str(scale_model), "--out", str(out),
                 "--min-confidence", "0", "--pixel-size", "0.4"]) == 0
    data = json.loads(out.read_text())
    assert data["images"][0]["bloodview"]["pixel_size"] == {"um_per_pixel": 0.4, "source": "given"}
    assert data["annotations"], "the confident-mask model finds cells"
    for annotation in data["annotations"]:
        record = annotation["bloodview"]
        assert record["area_um2"] == pytest.approx(annotation["area"] * 0.16, abs=0.01)
        assert record["diameter_um"] == pytest.approx(2 * math.sqrt(record["area_um2"] / math.pi), abs=0.01)


def test_predict_without_the_option_says_how_each_image_was_scaled(scale_model, tmp_path, capsys):
    Image.new("RGB", (40, 40), (240, 240, 240)).save(tmp_path / "blank.png")  # no red cells: model default
    out = tmp_path / "out.json"
    assert main(["predict", str(tmp_path / "blank.png"), "--model", str(scale_model), "--out", str(out)]) == 0
    image = json.loads(out.read_text())["images"][0]
    assert image["bloodview"]["pixel_size"]["source"] == "model default"
    assert "1 image(s) model default" in capsys.readouterr().err


# --- train ---------------------------------------------------------------------------------------
def test_train_reads_each_images_recorded_scale_from_the_annotations_file(tmp_path):
    """A pixel size given for an image beats --pixel-size, which beats one measured on its red cells."""
    from bloodview.io.coco import load_coco
    from bloodview.model.config import MaskRCNNConfig
    from bloodview.model.data import prepare_records

    sizes = [PixelSize(0.05, "given"), PixelSize(0.3, "red cells", 8), PixelSize(0.1, "model default"), None]
    images = []
    for k, size in enumerate(sizes):
        Image.new("RGB", (60, 60)).save(tmp_path / f"{k}.png")
        images.append(ImageAnnotation(f"{k}.png", 60, 60, [Instance([rectangle(5, 5, 30, 30)], "neutrophil")],
                                      pixel_size=size))
    save_coco(Dataset(images, ClassCatalogue.pbc()), tmp_path / "train.json")
    loaded = load_coco(tmp_path / "train.json")
    config = MaskRCNNConfig.load(TINY).with_overrides({"pixel_size_um": 0.1})
    def read(given):
        return [r.pixel_size_um for r in prepare_records(loaded.images, loaded.resolve_image, config,
                                                         pixel_size_um=given)]
    assert read(None) == [0.05, 0.3, None, None]  # a model-default guess is not trained on
    assert read(0.2) == [0.05, 0.2, 0.2, 0.2]


def test_train_pixel_size_auto_means_measure_each_image(tmp_path, capsys):
    from bloodview.cli.cmd_train import _options
    from bloodview.cli.main import build_parser

    parser = build_parser()
    args = parser.parse_args(["train", "--data", "d.json", "--out", "m", "--pixel-size", "auto"])
    assert _options(args).pixel_size_um is None
    args = parser.parse_args(["train", "--data", "d.json", "--out", "m", "--pixel-size", "0.12"])
    assert _options(args).pixel_size_um == 0.12
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--data", "d.json", "--out", "m", "--pixel-size", "-1"])
    assert "positive number of µm per pixel" in capsys.readouterr().err



def test_predict_says_how_many_images_it_balanced_to_the_models_glass(confident_tiny_model, tmp_path, capsys):
    model = confident_tiny_model("tiny-glass", pixel_size_um=0.2, fallback_pixel_size_um=0.2,
                                 glass_colour_range=[[200, 200, 190], [255, 235, 230]])
    Image.new("RGB", (40, 40), (255, 255, 170)).save(tmp_path / "yellow.png")  # another lab's lamp
    Image.new("RGB", (40, 40), (250, 225, 200)).save(tmp_path / "pink.png")  # inside the range
    out = tmp_path / "out.json"
    assert main(["predict", str(tmp_path / "yellow.png"), str(tmp_path / "pink.png"), "--model", str(model),
                 "--out", str(out)]) == 0
    assert "glass colour: 1 image(s) outside the model's training range" in capsys.readouterr().err
