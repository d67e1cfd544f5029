"""Shared fixtures: the real public data beside the checkout, offscreen Qt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("BLOODVIEW_SHARED_DATA", REPO.parent / "shared" / "data"))


def _data(sub: str) -> Path:
    path = SHARED_DATA / sub
    if not path.is_dir():
        pytest.skip(f"real data {path} is not here (expected ../shared/data beside the checkout)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is not here")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pbc_dir() -> Path:
    """PBC class folders: ``<class>/<image>.jpg`` plus ``manifest.csv``."""
    return _data("pbc")


@pytest.fixture(scope="session")
def bccd_dir() -> Path:
    """BCCD whole fields with Pascal VOC boxes."""
    return _data("bccd")


@pytest.fixture(scope="session")
def zheng_dir() -> Path:
    """Zheng WBC crops with nucleus/cytoplasm masks ("Dataset 1", with a space)."""
    return _data("zheng_wbc") / "Dataset 1"


TINY_MODEL_JSON = REPO / "tests" / "model" / "tiny_model.json"


@pytest.fixture(scope="session")
def confident_tiny_model(tmp_path_factory):
    """Factory: store a tiny random model that *always* finds cells, with masks covering their boxes.

    Random weights alone made "finds cells" a coin toss (a CI run lost it): the ROI classifier's
    background logit could win every proposal. Seeded, with the first cell class biased up (p ≈ 0.87)
    and the mask logits biased up, every proposal is a cell with an outline; no TF import until called.
    """

    def store(name: str, **overrides):
        import keras
        import numpy as np

        from bloodview.model.backbones import DEFAULT_FAST_BACKBONE
        from bloodview.model.config import MaskRCNNConfig
        from bloodview.model.maskrcnn import build_maskrcnn
        from bloodview.model.store_io import save_model

        keras.utils.set_random_seed(11)
        config = MaskRCNNConfig.load(TINY_MODEL_JSON).with_overrides({"backbone": DEFAULT_FAST_BACKBONE,
                                                                     **overrides})
        model = build_maskrcnn(config)
        n = config.num_classes
        [v for v in model.mask_head.weights if tuple(v.shape) == (n,)][-1].assign(np.full((n,), 6.0, np.float32))
        class_bias = np.zeros((n,), np.float32)
        class_bias[1] = 4.0
        model.box_head.classifier.bias.assign(class_bias)
        folder = tmp_path_factory.mktemp("models") / name
        save_model(model, config, folder, name=name)
        return folder

    return store
