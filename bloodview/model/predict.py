"""Running a stored model on images: ``Predictor.load(model_dir).predict(images)``.

Images of any size, grey or colour, are scaled into the model's square input
(:func:`bloodview.model.data.resize_for_model`), run through the network in
batches (the compiled graph takes any batch size, so a short last batch costs
no more than its images), and each detection's mask is pasted back into the ORIGINAL image's
pixels and traced into polygons (:mod:`bloodview.model.postprocess`). The result
is one list of :class:`Instance` per image (``source=Source.MODEL``, ``score``,
``origin="<model name>@<date>"``), in the order given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bloodview.core.instance import Instance
from bloodview.io.images import load_image
from bloodview.model.config import MaskRCNNConfig
from bloodview.model.data import resize_for_model
from bloodview.model.postprocess import detections_to_instances
from bloodview.model.store import ModelInfo

log = logging.getLogger(__name__)

ImageInput = np.ndarray | str | Path
Progress = Callable[[int, int], None]  # (images done, images in all)


class Predictor:
    """A loaded model ready to find cells. Not thread-safe: use one per worker thread."""

    def __init__(self, model, info: ModelInfo, config: MaskRCNNConfig):
        self.model = model
        self.info = info
        self.config = config

    @classmethod
    def load(cls, model_dir: str | Path) -> Predictor:
        """Build the network from ``model_dir/model.json`` and load its weights (ModelError if broken)."""
        from bloodview.model.store_io import load_model

        model, info = load_model(model_dir)
        return cls(model, info, info.to_config())

    @property
    def class_names(self) -> list[str]:
        return list(self.config.class_names)

    def predict(
        self,
        images: Sequence[ImageInput],
        batch_size: int | None = None,
        min_confidence: float | None = None,
        progress: Progress | None = None,
    ) -> list[list[Instance]]:
        """Cells in each image (uint8 RGB/grey arrays or image file paths), polygons in original pixels.

        ``min_confidence`` (default: the model's ``detection_min_confidence``) may be
        lower or higher than the model's; ``batch_size`` defaults to ``images_per_gpu``.
        """
        threshold = self.config.detection_min_confidence if min_confidence is None else float(min_confidence)
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"min_confidence must be between 0 and 1, got {threshold}")
        batch_size = max(1, int(batch_size or self.config.images_per_gpu))
        results: list[list[Instance]] = []
        for start in range(0, len(images), batch_size):
            chunk = [self._as_array(item) for item in images[start : start + batch_size]]
            results.extend(self._predict_batch(chunk, threshold))
            if progress is not None:
                progress(len(results), len(images))
        return results

    def _as_array(self, item: ImageInput) -> np.ndarray:
        if isinstance(item, (str, Path)):
            return load_image(item)
        return np.asarray(item)

    def _predict_batch(self, arrays: list[np.ndarray], threshold: float) -> list[list[Instance]]:
        size = self.config.image_max_dim
        inputs = np.zeros((len(arrays), size, size, 3), dtype=np.float32)
        windows = np.zeros((len(arrays), 4), dtype=np.float32)
        for row, array in enumerate(arrays):
            inputs[row], windows[row], _ = resize_for_model(array, self.config)
        found = self.model.detect(inputs, windows, min_confidence=threshold)
        out = []
        for row, array in enumerate(arrays):
            one = {key: found[key][row] for key in ("boxes", "class_ids", "scores", "masks")}
            one["count"] = found["counts"][row]
            out.append(
                detections_to_instances(
                    one, windows[row], array.shape[0], array.shape[1], self.class_names,
                    min_confidence=threshold, origin=self.info.origin,
                )
            )
        return out
