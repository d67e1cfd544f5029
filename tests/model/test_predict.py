"""Prediction from a stored model: save -> load round trip, original-pixel outlines, broken folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bloodview.core.instance import Source
from bloodview.errors import ModelError
from bloodview.model.config import MaskRCNNConfig
from bloodview.model.store import MODEL_JSON, WEIGHTS_FILE

TINY = Path(__file__).with_name("tiny_model.json")


def tiny_config() -> MaskRCNNConfig:
    from bloodview.model.backbones import DEFAULT_FAST_BACKBONE

    return MaskRCNNConfig.load(TINY).with_overrides({"backbone": DEFAULT_FAST_BACKBONE})


def make_confident(model) -> None:
    """Random weights, but every ROI a cell (first cell class biased up, so background never wins
    by chance) with a mask covering its box (mask logits biased up), so outlines exist."""
    n = model.settings.num_classes
    bias = [v for v in model.mask_head.weights if tuple(v.shape) == (n,)][-1]
    bias.assign(np.full((n,), 6.0, dtype=np.float32))
    class_bias = np.zeros((n,), np.float32)
    class_bias[1] = 4.0
    model.box_head.classifier.bias.assign(class_bias)


@pytest.fixture(scope="module")
def stored_model(tmp_path_factory):
    from bloodview.model.maskrcnn import build_maskrcnn
    from bloodview.model.store_io import save_model

    model = build_maskrcnn(tiny_config())
    make_confident(model)
    folder = tmp_path_factory.mktemp("store") / "tiny"
    save_model(model, tiny_config(), folder, name="tiny", training={"images": 0})
    return model, folder


@pytest.fixture(scope="module")
def loaded(stored_model):
    from bloodview.model.predict import Predictor

    return Predictor.load(stored_model[1])


def smear(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)


def test_save_then_load_gives_identical_predictions(stored_model, loaded):
    from bloodview.model.predict import Predictor

    model, folder = stored_model
    direct = Predictor(model, loaded.info, loaded.config)
    images = [smear(363, 360, 1), smear(60, 90, 2), smear(20, 30, 3)]
    a = loaded.predict(images, batch_size=2, min_confidence=0.0)
    b = direct.predict(images, batch_size=2, min_confidence=0.0)
    assert sum(len(x) for x in a) > 0
    for left, right in zip(a, b):
        assert len(left) == len(right)
        for x, y in zip(left, right):
            assert x.class_name == y.class_name and x.score == pytest.approx(y.score, abs=1e-6)
            assert all(np.allclose(p, q) for p, q in zip(x.polygons, y.polygons))


@pytest.mark.parametrize("height,width", [(363, 360), (20, 30), (700, 200)])
def test_outlines_are_in_original_pixels(loaded, height, width):
    (found,) = loaded.predict([smear(height, width)], min_confidence=0.0)
    assert found, "a confident-mask model finds something in noise"
    for instance in found:
        x1, y1, x2, y2 = instance.bbox
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        assert instance.source is Source.MODEL and instance.class_name in ("neutrophil", "platelet")
        assert instance.origin.startswith("tiny@") and 0.0 <= instance.score <= 1.0


def test_confidence_threshold_and_batches_agree(loaded):
    predictor = loaded
    images = [smear(100, 100, k) for k in range(3)]
    every = predictor.predict(images, batch_size=3, min_confidence=0.0)
    one_by_one = predictor.predict(images, batch_size=1, min_confidence=0.0)
    assert [len(x) for x in every] == [len(x) for x in one_by_one]
    scores = sorted(i.score for x in every for i in x)
    cut = scores[len(scores) // 2]
    fewer = predictor.predict(images, batch_size=3, min_confidence=cut)
    assert all(i.score >= cut for x in fewer for i in x)
    assert sum(len(x) for x in fewer) < sum(len(x) for x in every)
    progress = []
    predictor.predict(images, batch_size=2, progress=lambda done, total: progress.append((done, total)))
    assert progress == [(2, 3), (3, 3)]


def test_greyscale_and_image_files(loaded, tmp_path):
    from PIL import Image

    Image.fromarray(smear(50, 40)[:, :, 0]).save(tmp_path / "grey.png")
    (found,) = loaded.predict([tmp_path / "grey.png"], min_confidence=0.0)
    assert all(0 <= i.bbox[2] <= 40 and 0 <= i.bbox[3] <= 50 for i in found)


@pytest.mark.parametrize("damage", ["truncate", "missing", "json"])
def test_broken_model_folder_names_the_file(stored_model, tmp_path, damage):
    from bloodview.model.predict import Predictor

    folder = tmp_path / "copy"
    shutil.copytree(stored_model[1], folder)
    weights = folder / WEIGHTS_FILE
    if damage == "truncate":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 3])
    elif damage == "missing":
        weights.unlink()
    else:
        (folder / MODEL_JSON).write_text('{"name": "copy", "backbone": ')
    with pytest.raises(ModelError) as err:
        Predictor.load(folder)
    named = folder / (MODEL_JSON if damage == "json" else WEIGHTS_FILE)
    assert str(named) in str(err.value)


@pytest.mark.parametrize("content", [b"", b"not an hdf5 file" * 100])
def test_unreadable_weights_name_the_file(stored_model, tmp_path, content):
    from bloodview.model.store_io import load_weights_checked

    path = tmp_path / WEIGHTS_FILE
    path.write_bytes(content)
    with pytest.raises(ModelError, match="weights") as err:
        load_weights_checked(stored_model[0], path)  # fails before touching any weight
    assert str(path) in str(err.value)


def test_weights_of_another_network_are_refused(stored_model, tmp_path):
    from bloodview.model.predict import Predictor
    from bloodview.model.store import read_model_info, write_model_info

    folder = tmp_path / "other"
    shutil.copytree(stored_model[1], folder)
    info = read_model_info(folder)
    info.config["fpn_classif_fc_layers_size"] = 32  # a different head: shapes no longer match
    write_model_info(info, folder)
    with pytest.raises(ModelError, match="cannot load the weights"):
        Predictor.load(folder)


def test_inference_settings_can_be_overridden_at_load(confident_tiny_model):
    """Predictor.load(overrides=...) changes proposals and detection limits, not the weights."""
    from bloodview.model.predict import Predictor

    folder = confident_tiny_model("overridable")
    few = Predictor.load(folder, overrides={"post_nms_rois_inference": 4, "detection_max_instances": 2})
    assert few.model.settings.rpn.post_nms_inference == 4 and few.config.detection_max_instances == 2
    image = np.full((64, 64, 3), 200, np.uint8)
    (cells,) = few.predict([image], min_confidence=0.0)
    assert 1 <= len(cells) <= 2
    assert len(Predictor.load(folder).predict([image], min_confidence=0.0)[0]) > 2
