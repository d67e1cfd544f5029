"""Tie each detection of a COCO results list to its ground-truth image, or refuse.

A results list names its images by ``image_id`` only, and ids are the writer's own
numbering: ``bloodview predict`` numbers images 1..N in the order it read them,
other tools number theirs. Paired by id with a ground truth numbered otherwise,
the wrong images are scored against each other and the figures still look
plausible. So:

* detections that carry ``file_name`` (``bloodview predict`` and ``evaluate``
  write it; ``COCO.loadRes`` ignores it) are paired by that name, with the rules of
  :class:`bloodview.evaluation.inputs.ImageIndex`, and their ids are ignored;
  names that match no ground-truth image are left out and reported;
* detections without names keep their ids only when the ids fit: each must be a
  ground-truth image id, and each mask (its RLE size) and box must fit that
  image; otherwise :class:`FormatError` says the ids do not fit;
* either way a mask whose size is not its image's means another picture, and is
  refused; so is a file where only some detections carry names.

Category ids are the writer's numbering too (predict numbers the model's classes),
so detections that carry ``category_name`` get the ground truth's id for that class
(names through the catalogue's aliases) before the ids are checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.errors import FormatError, UnknownClassError
from bloodview.evaluation.inputs import CategoryMismatchError, ImageIndex

# How far (pixels) a box may reach past the image before it belongs to another picture:
# detectors round box corners, they do not place cells off the image.
BOX_SLACK = 2.0


def pair_detections(
    entries: list[Any], gt: Dataset, ids: list[int], path: Path, images_root: Path | None = None
) -> tuple[list[Any], list[str]]:
    """``entries`` with ``image_id`` set to the ground truth's own ids, and warnings.

    ``ids[k]`` is the id that the results refer to for ``gt.images[k]`` (the ground-truth
    COCO file's id, or ``k + 1``). Names are resolved against ``images_root``, else the
    results file's folder. Entries that are not objects are passed on for the io layer
    to report.
    """
    names = [e.get("file_name") for e in entries if isinstance(e, dict)]
    if any(name is not None for name in names):
        if any(not isinstance(name, str) or not name.strip() for name in names):
            raise FormatError(path, "some detections carry a file_name and others do not (or it is not text), "
                                    "so they cannot all be paired with ground-truth images")
        return _by_name(entries, gt, ids, path, images_root or path.parent)
    _check_ids_fit(entries, dict(zip(ids, gt.images)), path)
    return entries, []


def _by_name(
    entries: list[Any], gt: Dataset, ids: list[int], path: Path, root: Path
) -> tuple[list[Any], list[str]]:
    index = ImageIndex(gt)
    id_of = {id(image): image_id for image, image_id in zip(gt.images, ids)}
    targets: dict[str, ImageAnnotation | None] = {}
    kept, unknown, dropped = [], [], 0
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            kept.append(entry)
            continue
        name = entry["file_name"]
        if name not in targets:
            given = Path(name.replace("\\", "/"))
            targets[name] = index.find(given, given if given.is_absolute() else root / given)
        image = targets[name]
        if image is None:
            dropped += 1
            if name not in unknown:
                unknown.append(name)
            continue
        reason = _misfit(entry, image)
        if reason is not None:
            raise FormatError(path, f"detection #{number} for {name} {reason} of the ground truth's "
                                    f"{image.image_path}, so it was made on another picture of that name")
        kept.append(dict(entry, image_id=id_of[id(image)]))
    warnings = []
    if unknown:
        warnings.append(
            f"{dropped} detections in {path.name} are for {len(unknown)} images that are not in the ground truth "
            f"and were ignored ({', '.join(unknown[:5])}{', …' if len(unknown) > 5 else ''})"
        )
    return kept, warnings


def _check_ids_fit(entries: list[Any], by_id: dict[int, ImageAnnotation], path: Path) -> None:
    """Refuse, in one sentence, results whose image ids are not the ground truth's."""
    advice = ("so its image ids are not the ground truth's; results from bloodview predict carry file names to "
              "pair by (predict again), other results need the ground truth's image ids")
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        image_id = entry.get("image_id")
        image = by_id.get(image_id) if isinstance(image_id, int) and not isinstance(image_id, bool) else None
        if image is None:
            raise FormatError(path, f"detection #{number} refers to image id {image_id!r}, which is not in the "
                                    f"ground truth ({_describe_ids(list(by_id))}), {advice}")
        reason = _misfit(entry, image)
        if reason is not None:
            raise FormatError(path, f"detection #{number} for image id {image_id} {reason} of the ground truth's "
                                    f"{image.image_path}, {advice}")


def _misfit(entry: dict[str, Any], image: ImageAnnotation) -> str | None:
    """Why ``entry`` cannot be a detection on ``image`` (its mask's size, its box), or None."""
    w, h = image.width, image.height
    segmentation = entry.get("segmentation")
    size = segmentation.get("size") if isinstance(segmentation, dict) else None
    if isinstance(size, list) and len(size) == 2 and size != [h, w]:
        return f"has a mask of {_size(size[1])}x{_size(size[0])} px, not the {w}x{h} px"
    box = entry.get("bbox")
    if isinstance(box, list) and len(box) == 4 and all(_number(v) for v in box):
        x, y, bw, bh = box
        if x < -BOX_SLACK or y < -BOX_SLACK or x + bw > w + BOX_SLACK or y + bh > h + BOX_SLACK:
            return f"has a box {box} reaching outside the {w}x{h} px"
    return None


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _size(value: object) -> str:
    return str(value) if _number(value) else repr(value)


def _describe_ids(ids: list[int]) -> str:
    if not ids:
        return "no images"
    return f"{len(ids)} images, ids {min(ids)} to {max(ids)}"


def name_categories(entries: list[Any], categories: dict[int, str], gt: Dataset, path: Path) -> list[Any]:
    """``entries`` with ``category_id`` set to the ground truth's id for each ``category_name``.

    ``categories`` is the ground truth's ``id -> name``. Entries without names are returned
    as they are (their ids are checked later); a name the ground truth lacks raises
    :class:`CategoryMismatchError` listing both sets.
    """
    names = [e.get("category_name") for e in entries if isinstance(e, dict)]
    if all(name is None for name in names):
        return entries
    if any(not isinstance(name, str) for name in names):
        raise FormatError(path, "some detections carry a category_name and others do not (or it is not text), "
                                "so their classes cannot all be told")
    id_of: dict[str, int] = {}
    for category_id, category in categories.items():
        id_of.setdefault(_resolved(category, gt), category_id)
    unknown = sorted({name for name in names if _resolved(name, gt) not in id_of})
    if unknown:
        raise CategoryMismatchError(unknown, sorted(set(names)), [f"{i} {n}" for i, n in sorted(categories.items())],
                                    path)
    return [dict(e, category_id=id_of[_resolved(e["category_name"], gt)]) if isinstance(e, dict) else e
            for e in entries]


def _resolved(name: str, gt: Dataset) -> str | None:
    try:
        return gt.classes.resolve(name)
    except UnknownClassError:
        return None
