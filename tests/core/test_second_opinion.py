"""A call the model's detector named otherwise than its cell classifier."""

from __future__ import annotations

from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.core.second_opinion import detector_disagrees


def call(name: str, **extra) -> Instance:
    return Instance([rectangle(0, 0, 10, 10)], name, score=0.9, source=Source.MODEL, extra=extra)


def test_only_a_different_detector_class_is_a_disagreement():
    assert detector_disagrees(call("neutrophil", detector_class="eosinophil", detector_score=0.8))
    assert not detector_disagrees(call("neutrophil", detector_class="neutrophil"))
    assert not detector_disagrees(call("neutrophil")), "a model without a cell classifier has one opinion"
    assert not detector_disagrees(call("neutrophil", detector_class=None))


def test_the_models_own_call_is_compared_not_a_persons_correction():
    corrected = call("monocyte", model_class="neutrophil", detector_class="neutrophil")
    assert not detector_disagrees(corrected)
    assert detector_disagrees(call("monocyte", model_class="lymphocyte", detector_class="neutrophil"))
