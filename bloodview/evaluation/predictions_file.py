"""Read (and write) a predictions file for evaluation; what has no ground truth is reported and left out.

A COCO *results* list refers to the ground truth by ids: image ids and category
ids of the ground-truth COCO file, or, for ground truth in another format,
image positions ``1..N`` and catalogue class ids (what ``save_coco_results``
writes). Before the io layer reads it:

* detections whose image id is not in the ground truth are dropped and reported
  (a results file made for a larger set still evaluates on the images we have);
* a category id that the ground truth does not have stops the evaluation with
  :class:`CategoryMismatchError`, listing both sets of categories.

Any other format (a COCO instances file with scores, LabelMe, a project …) is read
with ``load_annotations``; its images are paired by path or file name later
(``inputs.align``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.evaluation.inputs import CategoryMismatchError, align
from bloodview.io.atomic import atomic_write_json
from bloodview.io.coco import load_coco_results, load_coco_with_ids
from bloodview.io.coco_results import coco_results_list
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
    image_ids, categories = _reference_ids(reference)
    entries = read_json(path, "COCO results file")
    if isinstance(entries, dict):  # a COCO file with only detections in "annotations"
        entries = entries.get("annotations", [])
    _check_categories(entries, categories, path)
    kept = [e for e in entries if not isinstance(e, dict) or _known(e.get("image_id"), image_ids)]
    unknown = sorted({str(e.get("image_id")) for e in entries if isinstance(e, dict)} - {str(i) for i in image_ids})
    if not unknown:
        return load_coco_results(path, reference), []
    warning = (
        f"{len(entries) - len(kept)} detections in {path.name} refer to {len(unknown)} image ids that are not in "
        f"the ground truth and were ignored (ids {', '.join(unknown[:5])}{', …' if len(unknown) > 5 else ''})"
    )
    with tempfile.TemporaryDirectory() as folder:
        filtered = Path(folder) / path.name
        filtered.write_text(json.dumps(kept), encoding="utf-8")
        return load_coco_results(filtered, reference), [warning]


def save_predictions(gt: Dataset, pred: Dataset, path: str | Path, gt_path: str | Path | None = None) -> Path:
    """Write ``pred`` as a COCO results list that :func:`load_predictions` reads back against ``gt``.

    Image ids are those of the ground-truth COCO file when ``gt_path`` is one
    (results files refer to its ids), else positions ``1..N`` in ``gt``.
    """
    pairs = align(gt, pred).pairs
    ordered = Dataset([ImageAnnotation(g.image_path, g.width, g.height, p) for g, p in pairs], gt.classes)
    results = coco_results_list(ordered)
    reference = _reference(gt, gt_path)
    if isinstance(reference, Path):
        _, by_id, _ = load_coco_with_ids(reference, check_images=False, add_unknown_classes=True)
        file_ids = list(by_id)
        for entry in results:
            entry["image_id"] = file_ids[entry["image_id"] - 1]
    return atomic_write_json(Path(path), results, compact=True)


def _reference(gt: Dataset, gt_path: str | Path | None) -> Dataset | Path:
    if gt_path is not None and Path(gt_path).is_file() and detect_format(Path(gt_path)) == "coco":
        return Path(gt_path)
    return gt


def _known(image_id: object, image_ids: set[int]) -> bool:
    return isinstance(image_id, int) and image_id in image_ids


def _reference_ids(reference: Dataset | Path) -> tuple[set[int], dict[int, str]]:
    if isinstance(reference, Dataset):
        return set(range(1, len(reference.images) + 1)), {c.id: c.name for c in reference.classes}
    _, by_id, names = load_coco_with_ids(reference, check_images=False, add_unknown_classes=True)
    return set(by_id), dict(names)


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
