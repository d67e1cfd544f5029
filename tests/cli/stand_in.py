"""Put a stand-in ``Predictor`` where ``bloodview evaluate --model`` imports it from, for tests without TensorFlow."""

from __future__ import annotations

import sys
import types


def use_stand_in_predictor(monkeypatch, predictor_class) -> None:
    """``bloodview.model.predict.Predictor`` is ``predictor_class`` for the rest of the test."""
    fake = types.ModuleType("bloodview.model.predict")
    fake.Predictor = predictor_class
    monkeypatch.setitem(sys.modules, "bloodview.model.predict", fake)
