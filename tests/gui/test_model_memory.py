"""Only the model in use stays in memory (bloodview.gui.workers.loaded_models, model_choice.py).

The real predictor cache (loaded_models.load_predictor) is used, with a stand-in
``bloodview.model.predict`` module so no TensorFlow loads: each "model" a technician detects with is
loaded once into the cache, as in the app. RSS with real models: /tmp measurement in the change notes.
"""

from __future__ import annotations

import gc
import sys
import threading
import types
import weakref
from pathlib import Path

import pytest

from bloodview.gui.workers import loaded_models as model_cache
from bloodview.gui.workers.loaded_models import loaded_models
from tests.gui.conftest import FakePredictor, make_fake_model

pytestmark = pytest.mark.gui


class HeldPredictor(FakePredictor):
    """Detects only once ``go`` is set: a run still using its model while the person switches."""

    go = threading.Event()
    predicting = threading.Event()

    def predict(self, images, min_confidence=None, **kw):
        HeldPredictor.predicting.set()
        assert HeldPredictor.go.wait(10)
        return super().predict(images, min_confidence, **kw)


@pytest.fixture
def loads(monkeypatch):
    """Every predictor the real cache loads, in order (a stand-in Predictor.load; no TensorFlow)."""
    loaded: list = []

    def load(model_dir, red_cells=True):
        predictor = HeldPredictor(model_dir)
        loaded.append(predictor)
        return predictor

    monkeypatch.setattr(model_cache, "_PREDICTORS", {})
    monkeypatch.setitem(sys.modules, "bloodview.model.predict",
                        types.SimpleNamespace(Predictor=types.SimpleNamespace(load=load)))
    HeldPredictor.go.set()
    HeldPredictor.predicting.clear()
    return loaded


@pytest.fixture
def three(window, model_store, loads):
    """The window with three models in the store, detecting through the app's own predictor cache."""
    for name in ("lab-b", "lab-c"):
        make_fake_model(model_store, name)
    window.models.refresh_models()
    window.models.runner.predictor_factory = None  # the app's: load_predictor, cached per model folder
    window.models.warm.predictor_factory = None
    return window


def choose(window, name):
    selector = window.models.selector
    selector.setCurrentIndex(selector.findText(name))
    assert window.models.model_dir().name == name


def key(path: Path) -> str:
    return str(Path(path).resolve())


def test_switching_models_keeps_only_the_one_in_use_in_memory(three, loads, detect_current, model_store):
    """Before, each model detected with stayed loaded for the whole session (~100 MB or more each)."""
    for name in ("fake-model", "lab-b", "lab-c"):
        choose(three, name)
        detect_current(three)
        assert loaded_models() == [key(model_store / name)], name
    assert [p.model_dir.name for p in loads] == ["fake-model", "lab-b", "lab-c"]
    earlier = [weakref.ref(p) for p in loads[:2]]
    del loads[:2]
    gc.collect()
    assert [ref() for ref in earlier] == [None, None], "let go, not only dropped from the cache"
    choose(three, "fake-model")
    detect_current(three)  # loads again
    assert loaded_models() == [key(model_store / "fake-model")]


def test_a_detection_running_with_the_old_model_keeps_it_until_it_ends(three, loads, qtbot, model_store):
    choose(three, "fake-model")
    HeldPredictor.go.clear()
    done = []
    three.detectionFinished.connect(done.append)
    assert three.models.detect("current")
    assert HeldPredictor.predicting.wait(10)
    choose(three, "lab-b")  # while fake-model's run is detecting
    assert loaded_models() == [key(model_store / "fake-model")], "never let go under a running detection"
    HeldPredictor.go.set()
    qtbot.waitUntil(lambda: bool(done), timeout=10000)
    assert done == [False]
    image = three.session.current_image
    assert len(image.instances) == 3, "the run's cells arrived"
    qtbot.waitUntil(lambda: key(model_store / "fake-model") not in loaded_models(), timeout=5000)


def test_a_model_let_go_is_loaded_again_in_the_background_when_chosen_again(three, loads, qtbot, model_store):
    models = three.models
    models.warm_up_enabled = True
    warmed = []
    models.warm.finished.connect(lambda folder, _s, error: warmed.append((Path(folder).name, error)))
    for name, count in (("fake-model", 1), ("lab-b", 2), ("fake-model", 3)):
        choose(three, name)
        if count == 1:
            models.warm_up()
        qtbot.waitUntil(lambda: len(warmed) == count and not models.warm.is_running(), timeout=5000)
        assert loaded_models() == [key(model_store / name)]
    assert warmed == [("fake-model", ""), ("lab-b", ""), ("fake-model", "")]
