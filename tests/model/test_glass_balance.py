"""The glass colour a model was trained on, measured, recorded and applied before detection."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from bloodview.errors import FormatError
from bloodview.model.config import MaskRCNNConfig
from bloodview.model.glass_balance import balance_glass, check_range, glass_gains, measure_glass_range
from bloodview.model.predict import Predictor
from bloodview.model.stain_augment import glass_colour
from bloodview.model.store import ModelInfo
from tests.model.test_predict_tiles import DiscFinder

PBC_LIKE = ((202.0, 203.0, 198.0), (255.0, 231.0, 230.0))
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "default"


def smear(glass, cell=(0.5, 0.7, 0.4), size=200) -> np.ndarray:
    """Glass of colour ``glass`` with three cells that pass ``cell`` of each channel's light."""
    image = np.empty((size, size, 3), np.float32)
    image[:] = glass
    for cx, cy in ((50, 60), (140, 80), (100, 150)):
        disc = np.zeros((size, size), np.uint8)
        cv2.circle(disc, (cx, cy), 22, 1, -1)
        image[disc > 0] = np.asarray(glass, np.float32) * np.asarray(cell, np.float32)
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)


def test_a_glass_colour_outside_the_range_is_brought_to_its_nearest_colour_inside():
    yellow = smear((255, 255, 174))  # Zheng et al.'s lamp
    balanced, gains = balance_glass(yellow, PBC_LIKE)
    assert gains is not None
    assert glass_colour(balanced) == pytest.approx([255, 231, 198], abs=1.0)
    # the stain keeps its colours relative to the glass: a cell passes the same share of each channel's light
    cell = balanced[60, 50].astype(float) / glass_colour(balanced)
    assert cell == pytest.approx([0.5, 0.7, 0.4], abs=0.02)


def test_an_image_whose_glass_is_inside_the_range_is_left_byte_for_byte():
    pink = smear((255, 228, 203))
    same, gains = balance_glass(pink, PBC_LIKE)
    assert gains is None and same is pink
    assert balance_glass(smear((255, 255, 174)), None)[1] is None, "a model without a range balances nothing"


def test_the_range_is_the_spread_of_the_training_glass_colours():
    images = [smear((250 - k, 220 + k % 7, 200)) for k in range(50)]
    low, high = measure_glass_range(images)
    assert low[0] == pytest.approx(201, abs=1) and high[0] == pytest.approx(249, abs=1)
    assert 220 <= low[1] <= high[1] <= 226 and low[2] == high[2] == 200
    assert measure_glass_range([]) is None


@pytest.mark.parametrize("value", [[[1, 2], [3, 4]], [[300, 2, 3], [301, 5, 6]], [[200, 200, 200], [100, 255, 255]],
                                   [[float("nan"), 2, 3], [4, 5, 6]], "pink", None])
def test_a_broken_range_is_refused_with_the_reason(value):
    with pytest.raises(ValueError, match="glass_colour_range"):
        check_range(value)
    if value is not None:
        with pytest.raises(FormatError, match="glass_colour_range"):
            MaskRCNNConfig().with_overrides({"glass_colour_range": value})


class InputKeeper(DiscFinder):
    """The disc finder, keeping the tiles it was given."""

    def __init__(self, size: int):
        super().__init__(size)
        self.inputs: list[np.ndarray] = []

    def detect(self, images, windows, min_confidence=None):
        self.inputs.append(np.array(images))
        return super().detect(images, windows, min_confidence)


def predictor(glass_range) -> tuple[Predictor, InputKeeper]:
    config = MaskRCNNConfig(image_min_dim=256, image_max_dim=256, pixel_size_um=0.1, fallback_pixel_size_um=0.1,
                            detection_min_confidence=0.5, glass_colour_range=glass_range)
    info = ModelInfo(name="discs", backbone="none", class_names=list(config.class_names), config=config.to_dict())
    network = InputKeeper(256)
    return Predictor(network, info, config), network


def test_detection_sees_the_image_on_the_models_glass_and_says_so():
    image = smear((255, 255, 174), cell=(0.3, 0.3, 0.5))
    engine, network = predictor([list(PBC_LIKE[0]), list(PBC_LIKE[1])])
    (found,) = engine.detect([image], pixel_size=0.1)
    seen = network.inputs[-1][0, :200, :200].astype(np.uint8)
    assert glass_colour(seen) == pytest.approx([255, 231, 198], abs=1.0)
    assert found.glass_gains == pytest.approx((1.0, 231 / 255, 198 / 174), abs=0.01)
    assert len(found.instances) == 3, "the cells are found as before"

    plain, network = predictor(None)
    (found,) = plain.detect([image], pixel_size=0.1)
    assert found.glass_gains is None
    assert np.array_equal(network.inputs[-1][0, :200, :200].astype(np.uint8), image)


def test_training_records_the_glass_of_its_images_and_a_fine_tune_keeps_the_start_range(tmp_path):
    from bloodview.model.data import TrainingRecord
    from bloodview.model.glass_balance import training_glass_range

    records = []
    for k, glass in enumerate([(255, 255, 174)] * 3 + [(250, 250, 180)] * 3):
        path = tmp_path / f"{k}.png"
        cv2.imwrite(str(path), cv2.cvtColor(smear(glass), cv2.COLOR_RGB2BGR))
        records.append(TrainingRecord(path, 200, 200, [], np.zeros(0, np.int32)))
    base = MaskRCNNConfig(pixel_size_um=0.1)
    fresh = training_glass_range(base, records, None, {})
    (low, high) = fresh.glass_colour_range
    assert low[1] >= 249 and high[2] <= 181, "from scratch: the training images' own glass"

    pbc_range = [list(PBC_LIKE[0]), list(PBC_LIKE[1])]
    start = ModelInfo(name="start", backbone="none", class_names=list(base.class_names),
                      config=base.with_overrides({"glass_colour_range": pbc_range}).to_dict())
    tuned = training_glass_range(base, records, start, {})
    assert tuned.glass_colour_range == pbc_range, "a lab's yellow glass is balanced into the start's range, not learnt"

    old = ModelInfo(name="old", backbone="none", class_names=list(base.class_names), config=base.to_dict())
    assert training_glass_range(base, records, old, {}).glass_colour_range is None, (
        "a start model that never balanced its images: neither does the fine-tuned one")
    given = {"glass_colour_range": [[1, 1, 1], [255, 255, 255]]}
    assert training_glass_range(base, records, None, given).glass_colour_range is None, "--set wins (applied later)"
    assert training_glass_range(MaskRCNNConfig(), records, None, {}).glass_colour_range is None, "no scale, no balance"


def test_the_shipped_model_balances_another_labs_yellow_glass_and_leaves_pbc_alone():
    if not (DATA / "zheng_wbc").is_dir() or not (DATA / "pbc").is_dir():
        pytest.skip(f"{DATA}: the shared blood-smear data is not here")
    from bloodview.io.images import load_image
    from bloodview.model.data import as_rgb

    glass = json.loads((DEFAULT_MODEL / "model.json").read_text(encoding="utf-8"))["config"]["glass_colour_range"]
    zheng = [as_rgb(load_image(DATA / "zheng_wbc" / "Dataset 1" / f"{k:03d}.bmp")) for k in (1, 50, 100, 200)]
    assert all(glass_gains(image, glass) is not None for image in zheng)
    pbc = sorted((DATA / "pbc" / "neutrophil").glob("*.jpg"))[:20]
    unchanged = [glass_gains(as_rgb(load_image(path)), glass) is None for path in pbc]
    assert sum(unchanged) >= 18, "PBC images lie inside the range they made"


def test_training_shows_the_network_the_glass_detection_will_show_it(tmp_path):
    """A training image of a glass colour outside the model's range is balanced as detection balances it."""
    from bloodview.model.data import TrainingRecord, at_model_scale

    record = TrainingRecord(tmp_path / "unused.png", 200, 200, [], np.zeros(0, np.int32), pixel_size_um=0.1)
    config = MaskRCNNConfig(pixel_size_um=0.1, glass_colour_range=[list(PBC_LIKE[0]), list(PBC_LIKE[1])])
    yellow, pink = smear((255, 255, 174)), smear((255, 228, 203))
    assert glass_colour(at_model_scale(yellow, record, config)) == pytest.approx([255, 231, 198], abs=1.0)
    assert np.array_equal(at_model_scale(pink, record, config), pink)
    unranged = MaskRCNNConfig(pixel_size_um=0.1)
    assert np.array_equal(at_model_scale(yellow, record, unranged), yellow)
