"""What ``model.json`` says about a model's cell classifier (``"cell_classifier"``), TensorFlow-free.

A model folder may carry a second network that looks again at each detected
white cell or platelet and names its class (:mod:`bloodview.model.cell_classifier`).
Its description lives inside the model's ``model.json`` so that the GUI and
``bloodview models`` can show it without TensorFlow; a model without the field
(every model made before it) classifies with the detector alone, exactly as before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bloodview.errors import ModelError

CLASSIFIER_WEIGHTS_FILE = "cell_classifier.weights.h5"


@dataclass
class ClassifierSpec:
    """One cell classifier.

    ``class_names``: its outputs, in order; detections of these classes are
    re-classified, others (red cells, classes it was not trained on) keep the
    detector's call. ``input_size``: square crop side in pixels; ``pixel_size_um``:
    the crop's µm per pixel (the crop covers ``input_size * pixel_size_um`` µm).
    ``temperature`` divides the logits before the softmax (fitted on held-out
    cells so the scores mean what they say). ``colour``: how the crop's colours are
    prepared (:data:`bloodview.model.cell_crops.COLOUR_MODES`; "raw" for classifiers that
    predate the field). ``views``: crops per cell whose logits are averaged (1, 2, 4 or
    8 mirrored / turned copies; the temperature was fitted on the same). ``replay_file``: the pooled
    features of some of its training cells (:mod:`bloodview.model.classifier_replay`), replayed when
    the classifier is adapted to a lab so it keeps its classes; None for classifiers without one,
    which are adapted by a whole fine-tune as before. ``training``/``metrics``: what it
    was trained on and how it did, for the model card and ``bloodview models``.
    """

    backbone: str
    class_names: list[str]
    input_size: int
    pixel_size_um: float
    temperature: float = 1.0
    colour: str = "raw"
    views: int = 1
    weights_file: str = CLASSIFIER_WEIGHTS_FILE
    replay_file: str | None = None
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def field_um(self) -> float:
        """Width of the square the classifier sees, in µm."""
        return self.input_size * self.pixel_size_um

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Any, where: str = "model.json") -> ClassifierSpec:
        if not isinstance(values, dict):
            raise ModelError(f"{where}: 'cell_classifier' must be an object")
        known = set(cls.__dataclass_fields__)
        missing = [k for k in ("backbone", "class_names", "input_size", "pixel_size_um") if k not in values]
        if missing:
            raise ModelError(f"{where}: 'cell_classifier' lacks {', '.join(missing)}")
        try:
            spec = cls(**{k: v for k, v in values.items() if k in known})
            spec.class_names = [str(n) for n in spec.class_names]
            spec.input_size = int(spec.input_size)
            spec.pixel_size_um = float(spec.pixel_size_um)
            spec.temperature = float(spec.temperature)
            spec.views = int(spec.views)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{where}: 'cell_classifier' has a malformed field ({exc})") from exc
        if not spec.class_names or spec.input_size < 32 or not spec.pixel_size_um > 0 or not spec.temperature > 0:
            raise ModelError(
                f"{where}: 'cell_classifier' needs classes, input_size >= 32 and positive "
                "pixel_size_um and temperature"
            )
        if spec.colour not in ("raw", "stretch"):
            raise ModelError(f"{where}: 'cell_classifier' colour {spec.colour!r} is not raw or stretch "
                             "(a newer bloodview wrote it?)")
        if spec.views not in (1, 2, 4, 8):
            raise ModelError(f"{where}: 'cell_classifier' views must be 1, 2, 4 or 8, got {spec.views}")
        for name, value in (("weights_file", spec.weights_file), ("replay_file", spec.replay_file)):
            if value is None and name == "replay_file":
                continue
            if not isinstance(value, str) or not value or "/" in value or "\\" in value or value.startswith("."):
                raise ModelError(f"{where}: 'cell_classifier' {name} must be a plain file name")
        return spec
