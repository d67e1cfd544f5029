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


def test_a_run_is_called_unlike_training_from_the_share_of_disputed_white_cells():
    from bloodview.core.second_opinion import MIN_NAMED_CELLS, Agreement

    like_pbc = Agreement()  # 8 % disputed, as the default model on PBC val
    like_pbc.add([call("neutrophil", detector_class="neutrophil")] * 46 + [call("ig", detector_class="monocyte")] * 4)
    assert like_pbc.named == 50 and like_pbc.disputed == 4 and not like_pbc.unlike_training()
    assert like_pbc.advice() == ""

    other_lab = Agreement()  # 60 %, as on Zheng's crops
    other_lab.add([call("eosinophil", detector_class="neutrophil")] * 30 + [call("neutrophil", detector_class="neutrophil")] * 20)
    other_lab.add([call("rbc"), call("platelet")])  # no second opinion: not counted
    assert other_lab.named == 50 and other_lab.unlike_training()
    assert "30 of 50 white cells (60%)" in other_lab.advice() and "Retrain" in other_lab.advice()

    few = Agreement()  # too few cells to say anything, however many disputed
    few.add([call("eosinophil", detector_class="neutrophil")] * (MIN_NAMED_CELLS - 1))
    assert not few.unlike_training()


def test_only_a_classifier_trained_beside_its_detector_makes_the_disagreement_a_measure_of_distance():
    from bloodview.core.second_opinion import second_opinion_tells_distance

    assert second_opinion_tells_distance({"backbone": "mobilenetv3large", "training": {"data": "pbc"}})
    assert second_opinion_tells_distance({"backbone": "mobilenetv3large"})  # older model.json: no training record
    assert not second_opinion_tells_distance(None)  # the detector alone: one opinion
    assert not second_opinion_tells_distance({"training": {"recipe": "adapt-last-layer"}})
    assert not second_opinion_tells_distance({"training": {"recipe": "adapt"}})
