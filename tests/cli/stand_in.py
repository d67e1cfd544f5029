"""Put a stand-in ``Predictor`` where ``bloodview evaluate --model`` imports it from, for tests without TensorFlow."""

from __future__ import annotations

import sys
import types


def use_stand_in_predictor(monkeypatch, predictor_class) -> None:
    """``bloodview.model.predict.Predictor`` is ``predictor_class`` for the rest of the test."""
    fake = types.ModuleType("bloodview.model.predict")
    fake.Predictor = predictor_class
    monkeypatch.setitem(sys.modules, "bloodview.model.predict", fake)


def stand_in_predict_model(monkeypatch, tmp_path, predictor_class):
    """A model folder for ``bloodview predict`` with ``predictor_class`` as its ``Predictor`` and a
    CPU-only device plan, so the command runs end to end without TensorFlow. Returns the folder."""
    use_stand_in_predictor(monkeypatch, predictor_class)
    distribute = types.ModuleType("bloodview.model.distribute")
    distribute.use_devices = lambda requested="auto": types.SimpleNamespace(describe=lambda: "CPU (stand-in)")
    monkeypatch.setitem(sys.modules, "bloodview.model.distribute", distribute)
    folder = tmp_path / "model"
    folder.mkdir()
    return folder
