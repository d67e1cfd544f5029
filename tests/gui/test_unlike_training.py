"""Detect tells the user when a run's images look unlike the model's training images to its own two networks.

The measurement behind the threshold is in bloodview/core/second_opinion.py (PBC 8 % of white cells
disputed, another lab's crops 57-63 %, BCCD fields 95 %, the same lab after Retrain 13-25 %).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source

TITLE = "Images unlike the model's training images"


def _predictor(disputed_per_image: int, white_per_image: int = 5):
    class TwoOpinions:
        """Five white cells per image, named by a 'cell classifier'; the 'detector' said otherwise of some."""

        def __init__(self, model_dir: Path):
            self.model_dir = Path(model_dir)

        def predict(self, images, min_confidence=None, **_kw):
            out = []
            for _image in images:
                cells = []
                for k in range(white_per_image):
                    said = "neutrophil" if k < disputed_per_image else "eosinophil"
                    cells.append(Instance([rectangle(20 + 60 * k, 20, 70 + 60 * k, 70)], "eosinophil", score=0.9,
                                          source=Source.MODEL, origin="fake@test",
                                          extra={"detector_class": said, "detector_score": 0.8}))
                out.append(cells)
            return out

    return TwoOpinions


def _give_cell_classifier(model_store: Path, recipe: str | None = None) -> None:
    """The fake model's model.json gets a cell classifier (trained beside its detector, or adapted: ``recipe``)."""
    path = model_store / "fake-model" / "model.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    info["cell_classifier"] = {"backbone": "mobilenetv3large", "class_names": ["eosinophil", "neutrophil"],
                               "input_size": 224, "pixel_size_um": 0.146,
                               "training": {"recipe": recipe} if recipe else {"data": "pbc"}}
    path.write_text(json.dumps(info), encoding="utf-8")


@pytest.fixture
def two_networks(model_store):
    _give_cell_classifier(model_store)
    return model_store


def _detect_all(window, qtbot):
    with qtbot.waitSignal(window.detectionFinished, timeout=20000):
        assert window.models.detect("all")
    qtbot.wait(5)


def _advice(window) -> list[str]:
    return [text for title, text in window.prompts.messages if title == TITLE]


def test_a_run_whose_white_cells_the_two_networks_mostly_name_apart_gets_the_advice_once(
        make_window, smears, qtbot, two_networks):
    window = make_window(predictor=_predictor(disputed_per_image=3))  # 60 %, as another lab's crops
    assert window.files.open([smears])
    _detect_all(window, qtbot)  # 3 readable fields: 15 white cells, 9 disputed
    (advice,) = _advice(window)
    assert "9 of 15 white cells (60%)" in advice and "Retrain" in advice
    assert "disagree on many white cells" in window.status_label.text()
    _detect_all(window, qtbot)  # the same model again: said once is enough
    assert len(_advice(window)) == 1


def test_images_like_the_training_images_get_no_advice(make_window, smears, qtbot, two_networks):
    window = make_window(predictor=_predictor(disputed_per_image=0))
    assert window.files.open([smears])
    _detect_all(window, qtbot)
    assert _advice(window) == []
    assert "disagree" not in window.status_label.text()


def test_image_by_image_detection_adds_up_and_a_rerun_of_an_image_is_not_counted_twice(
        make_window, smears, qtbot, two_networks):
    window = make_window(predictor=_predictor(disputed_per_image=3))
    assert window.files.open([smears])
    for _ in range(3):  # one image, three times: 5 white cells, never 10 (the advice needs 10)
        with qtbot.waitSignal(window.detectionFinished, timeout=20000):
            assert window.models.detect("current")
    assert _advice(window) == []
    window.session.set_current(1)
    with qtbot.waitSignal(window.detectionFinished, timeout=20000):
        assert window.models.detect("current")
    assert "6 of 10 white cells" in _advice(window)[0]


@pytest.mark.parametrize("recipe", ["adapt-last-layer", "adapt"])
def test_a_model_adapted_to_a_lab_gives_no_advice_its_two_networks_were_not_taught_together(
        make_window, smears, qtbot, model_store, recipe):
    _give_cell_classifier(model_store, recipe)
    window = make_window(predictor=_predictor(disputed_per_image=3))
    assert window.files.open([smears])
    _detect_all(window, qtbot)
    assert _advice(window) == []


def test_a_model_without_a_cell_classifier_gives_no_advice(make_window, smears, qtbot):
    window = make_window(predictor=_predictor(disputed_per_image=3))
    assert window.files.open([smears])
    _detect_all(window, qtbot)
    assert _advice(window) == []
