"""A second look at each detected cell: a crop classifier that names its class.

The detector (Mask R-CNN) finds and outlines the cells well, but names white
cells from a 7x7 grid pooled out of its feature maps, which is where most of its
errors are (immature granulocytes and monocytes, told apart by texture). The cell
classifier sees the whole cell at a fixed pixel size (:mod:`bloodview.model.cell_crops`)
through the same kind of backbone, initialised from the detector's own backbone,
and replaces the detector's class and score for the classes it knows. Outlines are
never changed.

The network: backbone -> C5 -> global average pool -> dropout -> one logit per
class; scores are ``softmax(logits / temperature)`` with the temperature fitted on
held-out cells (:func:`fit_temperature`), so a score of 0.9 is right about 9 times in 10.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from bloodview.core.classes import is_platelet_name
from bloodview.core.instance import Instance
from bloodview.core.measure import cell_size
from bloodview.errors import ModelError
from bloodview.model.cell_crops import cell_crop
from bloodview.model.classifier_spec import ClassifierSpec

log = logging.getLogger(__name__)

BATCH = 32
# A platelet is 1.5-4 µm across; a cell the detector calls platelet at 5 µm or more may be a small
# lymphocyte of a stain the detector never saw (Zheng's, 6-7 µm). A classifier adapted to a lab's
# corrections names such a cell among all its classes: on Zheng after 10-100 corrected crops, three
# more of 149 held-out cells named right at every N, PBC val unchanged. The shipped classifier does
# not (it lost a PBC platelet clump and gained nothing on Zheng): docs/adaptation.md.
PLATELET_MAX_UM = 5.0
ADAPTED_RECIPES = ("adapt-last-layer", "adapt")


def build_classifier_network(
    spec: ClassifierSpec, dropout: float = 0.2, batchnorm_momentum: float = 0.9
) -> keras.Model:
    """The classifier network for ``spec`` (random weights): RGB 0..255 crops -> logits."""
    from bloodview.model.backbones import build_backbone

    size = int(spec.input_size)
    backbone = build_backbone(spec.backbone, (size, size, 3), weights=None, batchnorm_momentum=batchnorm_momentum)
    features = keras.layers.GlobalAveragePooling2D(name="cell_pool")(backbone.outputs[-1])
    features = keras.layers.Dropout(dropout, name="cell_dropout")(features)
    logits = keras.layers.Dense(len(spec.class_names), name="cell_logits")(features)
    network = keras.Model(backbone.inputs[0], logits, name="cell_classifier")
    network.backbone = backbone  # for init_from_detector
    return network


def init_from_detector(network: keras.Model, detector) -> int:
    """Copy the detector's backbone weights into the classifier's backbone; returns how many arrays.

    Both backbones must be the same architecture (the weights do not depend on the input size).
    """
    source, target = detector.backbone.weights, network.backbone.weights
    if len(source) != len(target) or any(a.shape != b.shape for a, b in zip(source, target)):
        raise ModelError("the classifier's backbone is not the detector's; cannot start from its weights")
    for a, b in zip(source, target):
        b.assign(a)
    return len(target)


VIEW_COUNTS = (1, 2, 4, 8)


def dihedral_views(crops: np.ndarray, views: int) -> np.ndarray:
    """``crops`` (N, S, S, 3) -> (N * views, S, S, 3): each crop, mirrored and turned.

    A cell has no up or left, so the classifier's call should not change when its crop is
    flipped or turned by 90 degrees; averaging the logits of these views (test-time
    augmentation) evens out the calls that do. 1: the crop; 2: + mirrored; 4: + flipped
    upside down, + both; 8: the four again turned 90 degrees. Rows stay grouped by crop.
    """
    if views not in VIEW_COUNTS:
        raise ValueError(f"views must be one of {VIEW_COUNTS}, got {views}")
    turned = [crops, crops[:, :, ::-1], crops[:, ::-1], crops[:, ::-1, ::-1]][: min(views, 4)]
    if views == 8:
        turned += [np.rot90(v, axes=(1, 2)) for v in turned]
    return np.ascontiguousarray(np.stack(turned, axis=1).reshape((-1,) + crops.shape[1:]))


def view_logits(forward, crops: np.ndarray, views: int, batch: int) -> np.ndarray:
    """Logits of ``crops`` averaged over their ``views`` (``forward``: crops -> logits, in batches)."""
    if len(crops) == 0:
        return np.zeros((0, 0), np.float32)
    per_batch = max(1, batch // views)
    out = []
    for k in range(0, len(crops), per_batch):
        chunk = dihedral_views(crops[k : k + per_batch], views)
        logits = np.asarray(forward(chunk))
        out.append(logits.reshape(-1, views, logits.shape[-1]).mean(axis=1))
    return np.concatenate(out)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = np.asarray(logits, dtype=np.float64) / float(temperature)
    scaled -= scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels`` (Guo et al. 2017).

    A 1-D search over 0.05..10 (log grid, then refined): one number, no overfitting to speak of.
    """
    labels = np.asarray(labels, dtype=int)
    if len(labels) == 0:
        return 1.0

    def nll(t: float) -> float:
        p = softmax(logits, t)[np.arange(len(labels)), labels]
        return float(-np.log(np.maximum(p, 1e-12)).mean())

    grid = np.exp(np.linspace(np.log(0.05), np.log(10.0), 61))
    best = float(grid[int(np.argmin([nll(t) for t in grid]))])
    fine = np.linspace(best / 1.15, best * 1.15, 31)
    return float(fine[int(np.argmin([nll(t) for t in fine]))])


def joint_score(classifier_probability: float, detector_score: float | None) -> float:
    """How sure the model is of a re-named cell: P(a cell of this kind) x P(this class | the kind).

    The classifier answers only the second factor (which white cell is it?). Whether the object
    is a white cell at all is the detector's judgement, and its score for its own class is a
    lower bound of it; without it a 3-µm speck the detector doubted (0.57) came out "eosinophil
    0.92" and was counted. A detector without a score counts as sure.
    """
    if detector_score is None:
        return classifier_probability
    return classifier_probability * float(detector_score)


class CellClassifier:
    """A loaded cell classifier: crops -> class probabilities, instances -> re-classified instances."""

    def __init__(self, network: keras.Model, spec: ClassifierSpec):
        import tensorflow as tf

        self.network = network
        self.spec = spec
        self._index = {name: k for k, name in enumerate(spec.class_names)}
        size = int(spec.input_size)
        # One traced graph for any number of cells: an eager call costs ~0.3 s per image on the CPU.
        self._forward = tf.function(
            lambda crops: network(crops, training=False),
            input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)],
        )

    @classmethod
    def load(cls, model_dir: str | Path, spec: ClassifierSpec) -> CellClassifier:
        from bloodview.model.store_io import load_weights_checked

        path = Path(model_dir) / spec.weights_file
        if not path.is_file():
            raise ModelError(f"{path}: the model's cell classifier weights are missing")
        network = build_classifier_network(spec)
        load_weights_checked(network, path)
        return cls(network, spec)

    def knows(self, class_name: str) -> bool:
        return class_name in self._index

    def logits(self, crops: np.ndarray) -> np.ndarray:
        """Raw logits for float32 crops (N, S, S, 3), averaged over the spec's views, in batches."""
        if len(crops) == 0:
            return np.zeros((0, len(self.spec.class_names)), np.float32)
        return view_logits(lambda x: self._forward(x).numpy(), crops, self.spec.views, BATCH)

    def probabilities(self, crops: np.ndarray) -> np.ndarray:
        return softmax(self.logits(crops), self.spec.temperature)

    def crops(self, image: np.ndarray, centres: Sequence[tuple[float, float]], image_um_per_px: float) -> np.ndarray:
        size = self.spec.input_size
        batch = np.zeros((len(centres), size, size, 3), np.float32)
        for row, centre in enumerate(centres):
            batch[row] = cell_crop(image, centre, image_um_per_px, self.spec.pixel_size_um, size,
                                   colour=self.spec.colour)
        return batch

    @property
    def learnt_a_lab(self) -> bool:
        """Whether this classifier was adapted to a lab's corrected cells (``train --init``: its
        last layer, or the whole network), rather than trained on the model's own data."""
        return (self.spec.training or {}).get("recipe") in ADAPTED_RECIPES

    def too_big_for_a_platelet(self, cell: Instance, image_um_per_px: float) -> bool:
        """A cell the detector calls platelet that measures :data:`PLATELET_MAX_UM` or more across
        (equivalent diameter), judged only by a classifier that learnt a lab (:attr:`learnt_a_lab`)."""
        if not self.learnt_a_lab or not is_platelet_name(cell.class_name) or image_um_per_px <= 0:
            return False
        return cell_size(cell.area, image_um_per_px).diameter_um >= PLATELET_MAX_UM

    def kind_mask(self, detector_class: str) -> np.ndarray:
        """The classifier's classes that may replace ``detector_class``: those of the same kind.

        The detector tells a platelet from a nucleated cell by its size and its place among its
        neighbours in the whole field, which the classifier's fixed-size crop does not show; on
        another lab's fields (BCCD) a crop-only call turned 31 of 71 detected white cells into
        platelets. So the classifier names the white cell (or erythroblast) and leaves the kind,
        platelet or not, to the detector.
        """
        platelet = is_platelet_name(detector_class)
        return np.array([is_platelet_name(name) == platelet for name in self.spec.class_names])

    def reclassify(self, image: np.ndarray, instances: Sequence[Instance], image_um_per_px: float) -> list[Instance]:
        """``instances`` with class and score from the classifier where it knows the detector's class.

        The classifier chooses among the classes of the detector's kind (:meth:`kind_mask`), its
        probabilities renormalised over them. The detector's own call is kept in
        ``extra["detector_class"]`` / ``extra["detector_score"]``.
        """
        # a kind of which the classifier knows one class only (platelets) leaves it nothing to choose:
        # such cells keep the detector's call and score (a renormalised 1.0 would rank them all alike),
        # except a "platelet" too big to be one, which a classifier that learnt a lab names among all
        any_kind = {k for k, one in enumerate(instances) if self.too_big_for_a_platelet(one, image_um_per_px)}
        chosen = [k for k, one in enumerate(instances)
                  if self.knows(one.class_name) and (k in any_kind or self.kind_mask(one.class_name).sum() > 1)]
        result = list(instances)
        if not chosen:
            return result
        centres = []
        for k in chosen:
            x1, y1, x2, y2 = instances[k].bbox
            centres.append(((y1 + y2) / 2.0, (x1 + x2) / 2.0))
        probs = self.probabilities(self.crops(image, centres, image_um_per_px))
        for row, k in enumerate(chosen):
            old = instances[k]
            allowed = probs[row] * (1.0 if k in any_kind else self.kind_mask(old.class_name))
            if allowed.sum() <= 0:  # cannot happen for a known class; keep the plain call if it does
                allowed = probs[row]
            probs[row] = allowed / allowed.sum()
            best = int(np.argmax(probs[row]))
            extra = dict(old.extra) | {"detector_class": old.class_name, "detector_score": old.score,
                                       "classifier_score": float(probs[row, best])}
            result[k] = old.copy(class_name=self.spec.class_names[best],
                                 score=joint_score(float(probs[row, best]), old.score), extra=extra)
        return result
