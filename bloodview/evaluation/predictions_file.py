"""Read (and write) a predictions file for evaluation, each detection tied to its ground-truth image.

A COCO *results* list refers to the ground truth by ids: image ids and category
ids of the ground-truth COCO file, or, for ground truth in another format,
image positions ``1..N`` and catalogue class ids. Before the io layer reads it:

* images are paired by each detection's ``file_name`` when the detections carry
  one (``save_coco_results`` writes it: ``bloodview predict`` numbers images its
  own way), else by id, refused when the ids do not fit the ground truth
  (:mod:`bloodview.evaluation.results_pairing`); named images that are not in the
  ground truth are dropped and reported (a results file made for a larger set
  still evaluates on the images we have);
* classes are paired by each detection's ``category_name`` when the detections
  carry one (predict numbers the model's classes its own way), else by id; a
  class or category id that the ground truth does not have stops the evaluation
  with :class:`CategoryMismatchError`, listing both sets of categories.

Any other format (a COCO instances file with scores, LabelMe, a project …) is read
with ``load_annotations``; its images are paired by path or file name later
(``inputs.align``).
"""

from __future__ import annotations

from pathlib import Path

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.evaluation.inputs import CategoryMismatchError, align
from bloodview.evaluation.results_pairing import name_categories, pair_detections
from bloodview.io.atomic import atomic_write_json
from bloodview.io.coco import load_coco_with_ids
from bloodview.io.coco_results import coco_results_dataset, coco_results_list
from bloodview.io.detect import detect_format, load_annotations
from bloodview.io.jsonio import read_json


def load_predictions(
    path: str | Path, gt: Dataset, gt_path: str | Path | None = None, images: str | Path | None = None
) -> tuple[Dataset, list[str]]:
    """The predictions in ``path`` and warnings about what was left out.

    ``gt_path`` is the ground truth's file: when it is a COCO file, results ids
    are that file's ids; otherwise they are positions in ``gt``.
    """
    path = Path(path)
    if detect_format(path) != "coco-results":
        return load_annotations(path, images=images, add_unknown_classes=True), []
    reference = _reference(gt, gt_path)
    ids, categories = _reference_ids(gt, reference)
    entries = read_json(path, "COCO results file")
    if isinstance(entries, dict):  # a COCO file with only detections in "annotations"
        entries = entries.get("annotations", [])
    if not isinstance(entries, list):
        return coco_results_dataset(entries, reference, path), []  # the io layer reports the malformed file
    entries = name_categories(entries, categories, gt, path)
    _check_categories(entries, categories, path)
    paired, warnings = pair_detections(entries, gt, ids, path, Path(images) if images is not None else None)
    return coco_results_dataset(paired, reference, path), warnings


def save_predictions(gt: Dataset, pred: Dataset, path: str | Path, gt_path: str | Path | None = None) -> Path:
    """Write ``pred`` as a COCO results list that :func:`load_predictions` reads back against ``gt``.

    Image ids are those of the ground-truth COCO file when ``gt_path`` is one
    (results files refer to its ids), else positions ``1..N`` in ``gt``; each
    detection also names its image and class (:func:`coco_results_list`).
    """
    pairs = align(gt, pred).pairs
    ordered = Dataset([ImageAnnotation(g.image_path, g.width, g.height, p) for g, p in pairs], gt.classes)
    results = coco_results_list(ordered)
    reference = _reference(gt, gt_path)
    if isinstance(reference, Path):
        file_ids, _ = _reference_ids(gt, reference)
        for entry in results:
            entry["image_id"] = file_ids[entry["image_id"] - 1]
    return atomic_write_json(Path(path), results, compact=True)


def _reference(gt: Dataset, gt_path: str | Path | None) -> Dataset | Path:
    if gt_path is not None and Path(gt_path).is_file() and detect_format(Path(gt_path)) == "coco":
        return Path(gt_path)
    return gt


def _reference_ids(gt: Dataset, reference: Dataset | Path) -> tuple[list[int], dict[int, str]]:
    """The id that results use for each image of ``gt`` (in order), and category id -> name."""
    if isinstance(reference, Dataset):
        return list(range(1, len(reference.images) + 1)), {c.id: c.name for c in reference.classes}
    _, by_id, names = load_coco_with_ids(reference, check_images=False, add_unknown_classes=True)
    if len(by_id) == len(gt.images):  # ``gt`` was read from this file: its images in the file's order
        return list(by_id), dict(names)
    first_id: dict[Path, int] = {}
    for image_id, image in by_id.items():
        first_id.setdefault(image.image_path, image_id)
    return [first_id.get(image.image_path, -1) for image in gt.images], dict(names)


def _check_categories(entries: object, categories: dict[int, str], path: Path) -> None:
    if not isinstance(entries, list):
        return  # the io layer reports the malformed file
    used = {repr(c) if isinstance(c, (list, dict)) else c  # unhashable ids are reported, not crashed on
            for c in (e.get("category_id") for e in entries if isinstance(e, dict))}
    unknown = sorted(str(c) for c in used if c not in categories)
    if unknown:
        raise CategoryMismatchError(
            [f"id {c}" for c in unknown],
            [f"id {c}" for c in sorted(str(c) for c in used)],
            [f"{cid} {name}" for cid, name in sorted(categories.items())],
            path,
        )
