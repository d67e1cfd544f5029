"""Pair predictions with ground truth, and refuse what cannot be evaluated.

Rules (each one is in docs/evaluation.md):

* An image is paired by its path as given, then by its absolute path, then by
  file name when that name is unique in the ground truth.
* Predictions for images that are not in the ground truth are left out and
  reported (``Alignment.unknown_images``); ground-truth images without
  predictions count as "nothing detected".
* A predicted class must be a ground-truth class (names resolved through the
  catalogue's aliases); otherwise :class:`CategoryMismatchError` lists both sets.
* A score that is NaN or infinite is an error (a broken results file, not a
  confidence); a missing score (``None``, e.g. a person's outlines compared with
  another's) counts as 1.0.
* ``min_score`` drops predictions below it before everything else.
* A ground truth without images is refused (:func:`require_images`): every figure
  would be an empty 0, which reads like a model that found nothing.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.instance import Instance, Source
from bloodview.errors import BloodviewError, FormatError, UnknownClassError

log = logging.getLogger(__name__)


class CategoryMismatchError(BloodviewError):
    """Predictions use class names that the ground truth does not have."""

    def __init__(self, unknown: list[str], predicted: list[str], ground_truth: list[str], path: Path | None):
        self.unknown = unknown
        where = f"{path}: " if path is not None else ""
        super().__init__(
            f"{where}predicted classes {', '.join(unknown)} are not ground-truth classes; "
            f"predictions use [{', '.join(predicted)}], ground truth has [{', '.join(ground_truth)}]"
        )


@dataclass
class Alignment:
    """Ground-truth images, each with its (filtered, class-resolved) predictions."""

    pairs: list[tuple[ImageAnnotation, list[Instance]]]
    unknown_images: list[str] = field(default_factory=list)
    dropped_low_score: int = 0
    unscored: int = 0
    unscored_classical: int = 0  # of those, cells of a classical finder (the red-cell finder): no score by design


def _key(path: Path) -> str:
    return str(path).replace("\\", "/")


def _absolute(path: Path) -> str:
    return _key(Path(path).expanduser().resolve())


class ImageIndex:
    """The ground truth's images, found by the pairing rules: path as given, then
    absolute path, then file name when that name is unique in the ground truth.

    Shared by :func:`align` and the pairing of results lists by ``file_name``
    (:mod:`bloodview.evaluation.results_pairing`), so both pair alike.
    """

    def __init__(self, gt: Dataset):
        self._by_path = {_key(i.image_path): i for i in gt.images}
        self._by_absolute = {_absolute(gt.resolve_image(i)): i for i in gt.images}
        self._names: dict[str, list[ImageAnnotation]] = {}
        for image in gt.images:
            self._names.setdefault(image.image_path.name, []).append(image)

    def find(self, name: Path, absolute: Path) -> ImageAnnotation | None:
        """The ground-truth image named ``name`` (whose file is ``absolute``), or None."""
        # Explicit ``is None`` tests: an ImageAnnotation without cells is falsy (len 0).
        target = self._by_path.get(_key(name))
        if target is None:
            target = self._by_absolute.get(_absolute(absolute))
        if target is None:
            same_name = self._names.get(name.name, [])
            target = same_name[0] if len(same_name) == 1 else None
        return target


def require_images(gt: Dataset, path: str | Path | None = None) -> None:
    """Refuse (:class:`FormatError` naming ``path``) a ground truth that holds no images.

    Evaluated, it gave a report of zeros ("accuracy 0.000") that looks like a result.
    """
    if not gt.images:
        raise FormatError(path, "the ground truth holds no images: there is nothing to evaluate against")


def align(
    gt: Dataset, pred: Dataset, min_score: float | None = None, source: Path | None = None
) -> Alignment:
    """Pair every ground-truth image with its predictions (see the module docstring).

    ``source`` names the predictions file in error messages. Raises :class:`FormatError`
    for a ground truth without images (:func:`require_images`).
    """
    require_images(gt)
    index = ImageIndex(gt)
    found: dict[int, list[Instance]] = {}
    alignment = Alignment(pairs=[])
    classes = _class_map(gt, pred, source)
    for image in pred.images:
        target = index.find(image.image_path, pred.resolve_image(image))
        if target is None:
            if image.instances:
                alignment.unknown_images.append(_key(image.image_path))
            continue
        kept = found.setdefault(id(target), [])
        for instance in image.instances:
            score = _score(instance, image, source)
            if instance.score is None:
                alignment.unscored += 1
                alignment.unscored_classical += instance.source == Source.BOOTSTRAP
            if min_score is not None and score < min_score:
                alignment.dropped_low_score += 1
                continue
            kept.append(instance.copy(class_name=classes[instance.class_name], score=score))
    if alignment.unknown_images:
        log.warning(
            "%d predicted images are not in the ground truth and were ignored (first: %s)",
            len(alignment.unknown_images),
            alignment.unknown_images[0],
        )
    alignment.pairs = [(image, found.get(id(image), [])) for image in gt.images]
    return alignment


def _score(instance: Instance, image: ImageAnnotation, source: Path | None) -> float:
    if instance.score is None:
        return 1.0
    if not math.isfinite(instance.score):
        raise FormatError(
            source,
            f"a prediction in {image.image_path.name} has score {instance.score}, which is not a "
            "finite number; fix or drop it before evaluating",
        )
    return float(instance.score)


def _class_map(gt: Dataset, pred: Dataset, source: Path | None) -> dict[str, str]:
    """Predicted class name -> ground-truth class name, or raise with both sets."""
    predicted = sorted({i.class_name for image in pred.images for i in image.instances})
    mapping: dict[str, str] = {}
    unknown = []
    for name in predicted:
        try:
            mapping[name] = gt.classes.resolve(name)
        except UnknownClassError:
            unknown.append(name)
    if unknown:
        raise CategoryMismatchError(unknown, predicted, gt.classes.names, source)
    return mapping
