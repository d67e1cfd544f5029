"""Evaluate predictions against ground truth: the paper's Tables 4 and 5 as one dict.

``evaluate(gt, pred)`` takes two core ``Dataset``s (any format the io layer reads)
and returns the report as a JSON-ready dict (written by ``reports``):

* ``mask`` / ``box``: Table 4 (see ``coco_metrics``), or ``None`` with a note
  when it cannot be computed (no annotated cells; box-only ground truth for masks);
* ``classification``: Table 5 (see ``classification`` and ``matching``);
* ``calibration``: whether the scores of matched cells mean what they say, and
  how many wrong calls land below the review threshold (see ``calibration``), or
  ``None`` with a note when the predictions carry no scores or nothing matched;
* ``notes`` (what was evaluated how) and ``warnings`` (input that was ignored).

Which image counts where:

* an image with annotated cells -> mask/box COCOeval and instance matching;
  its masks are evaluated only when neither its ground truth nor its
  predictions are box-only (VOC/YOLO rectangles are not outlines);
* an image with only an image label (PBC class folders) -> the cell-of-interest
  rule (``matching.cell_of_interest``), not part of mAP;
* an image with neither -> COCOeval and matching too (all its predictions are
  false positives / spurious).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from pycocotools.coco import COCO

from bloodview import __version__
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.instance import Instance
from bloodview.core.second_opinion import detector_disagrees
from bloodview.evaluation.calibration import DEFAULT_REVIEW_THRESHOLD, calibration
from bloodview.evaluation.classification import class_metrics, confusion_matrix
from bloodview.evaluation.coco_metrics import detection_metrics
from bloodview.evaluation.cocoindex import EncodedImage, encode, gt_index, results_index, results_list
from bloodview.evaluation.inputs import align, require_images
from bloodview.evaluation.matching import MATCH_IOU, TIE_TOLERANCE, cell_of_interest, iou_matrix, match_instances
from bloodview.evaluation.reference import PAPER_RESNET101

Event = tuple[str | None, str | None]
Call = tuple[float, bool, bool]  # a matched cell's (score, class right, detector disagreed: second_opinion)


def evaluate(
    gt: Dataset,
    pred: Dataset,
    min_score: float | None = None,
    source: Path | str | None = None,
    tie_tolerance: float = TIE_TOLERANCE,
    describe: dict | None = None,
    input_warnings: list[str] | None = None,
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
) -> dict:
    """The full report (see the module docstring).

    ``describe`` adds e.g. file names and the model; ``input_warnings`` are added
    to the report's warnings (e.g. detections a reader left out);
    ``review_threshold`` is the app's unidentified threshold, against which the
    calibration section counts the calls a person would be asked to review.
    """
    require_images(gt, (describe or {}).get("ground_truth"))  # named when the caller says which file
    alignment = align(gt, pred, min_score=min_score, source=Path(source) if source else None)
    instance_pairs = [(g, p) for g, p in alignment.pairs if g.instances or g.image_label is None]
    label_pairs = [(g, p) for g, p in alignment.pairs if not g.instances and g.image_label is not None]
    encoded = encode(instance_pairs)
    notes: list[str] = []
    warnings = list(input_warnings or []) + _warnings(alignment)

    box, mask = None, None
    if any(e.gt.instances for e in encoded):
        ground_truth = gt_index(encoded, gt.classes)
        box = _table4(encoded, ground_truth, gt, "bbox", [e.image_id for e in encoded])
        mask_ids = [e.image_id for e in encoded if not (e.gt_box_only or e.pred_box_only)]
        if mask_ids:
            mask = _table4(encoded, ground_truth, gt, "segm", mask_ids)
        if len(mask_ids) < len(encoded):
            notes.append(_box_only_note(encoded, len(mask_ids)))
    else:
        notes.append("no image has annotated cells: mask and box mAP are not computed")

    instance_events, instance_calls = _instance_events(encoded)
    label_events, label_calls = _label_events(label_pairs, tie_tolerance)
    events = instance_events + label_events
    classification = class_metrics(confusion_matrix(events, gt.classes.names))
    classification["images_by_instances"] = len(encoded)
    classification["images_by_label"] = len(label_pairs)
    if label_pairs:
        notes.append(
            f"{len(label_pairs)} images have only an image label: each is compared with the class of "
            f"the model's cell of interest (highest score; scores within {tie_tolerance} of it are "
            "near-ties, broken by the box centre nearest the image centre)"
        )

    predictions = sum(len(p) for _, p in alignment.pairs)
    calibrated = _calibration(instance_calls + label_calls, review_threshold, predictions, alignment.unscored, notes)

    report = {
        "bloodview_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **(describe or {}),
        "settings": {"min_score": min_score, "match_iou": MATCH_IOU, "tie_tolerance": tie_tolerance},
        "counts": {
            "images": len(alignment.pairs),
            "ground_truth_cells": sum(len(g.instances) for g, _ in alignment.pairs),
            "labelled_images": len(label_pairs),
            "predictions": predictions,
        },
        "classes": gt.classes.to_list(),
        "mask": mask,
        "box": box,
        "classification": classification,
        "calibration": calibrated,
        "notes": notes,
        "warnings": warnings,
        "reference": PAPER_RESNET101,
    }
    return report


def _table4(
    encoded: list[EncodedImage], ground_truth: COCO, gt: Dataset, iou_type: str, image_ids: list[int]
) -> dict:
    results = results_index(ground_truth, results_list(encoded, gt.classes, iou_type))
    return detection_metrics(ground_truth, results, gt.classes, iou_type, image_ids).to_dict()


def _instance_events(encoded: list[EncodedImage]) -> tuple[list[Event], list[Call]]:
    """Table 5 events of images with outlined cells, and the (score, correct) of each matched pair."""
    events: list[Event] = []
    calls: list[Call] = []
    for image in encoded:
        truth: list[Instance] = image.gt.instances
        predicted = image.predictions
        ious = iou_matrix(
            image.gt_rles, image.pred_rles, image.gt_boxes, image.pred_boxes,
            use_boxes=image.gt_box_only or image.pred_box_only,
        )
        matches = match_instances(ious, [p.score for p in predicted])
        matched_gt = {m.gt for m in matches}
        matched_pred = {m.pred for m in matches}
        events += [(truth[m.gt].class_name, predicted[m.pred].class_name) for m in matches]
        calls += [
            (predicted[m.pred].score, truth[m.gt].class_name == predicted[m.pred].class_name,
             detector_disagrees(predicted[m.pred]))
            for m in matches
        ]
        events += [(t.class_name, None) for k, t in enumerate(truth) if k not in matched_gt]
        events += [(None, p.class_name) for k, p in enumerate(predicted) if k not in matched_pred]
    return events, calls


def _label_events(
    pairs: list[tuple[ImageAnnotation, list[Instance]]], tolerance: float
) -> tuple[list[Event], list[Call]]:
    """Table 5 events of class-only images, and the (score, correct) of each cell of interest."""
    events: list[Event] = []
    calls: list[Call] = []
    for image, predicted in pairs:
        chosen = cell_of_interest(predicted, image.width, image.height, tolerance)
        events.append((image.image_label, None if chosen is None else predicted[chosen].class_name))
        if chosen is not None:
            call = predicted[chosen]
            calls.append((call.score, call.class_name == image.image_label, detector_disagrees(call)))
    return events, calls


def _calibration(
    calls: list[Call], threshold: float, predictions: int, unscored: int, notes: list[str]
) -> dict | None:
    """The calibration section, or ``None`` plus a note saying why there is none.

    Predictions without a score count as 1.0 elsewhere in the report; when none
    of them has a score there is nothing to calibrate.
    """
    if predictions == 0 or unscored >= predictions:
        notes.append("calibration not computed: the predictions carry no scores")
        return None
    if not calls:
        notes.append("calibration not computed: no prediction was matched to a ground-truth cell")
        return None
    if unscored:
        notes.append(f"calibration: {unscored} predictions without a score count as score 1.0 there too")
    try:
        return calibration(calls, threshold)
    except ValueError:
        notes.append("calibration not computed: some scores lie outside 0..1, so they are not probabilities")
        return None


def _box_only_note(encoded: list[EncodedImage], mask_images: int) -> str:
    gt_box = sum(1 for e in encoded if e.gt_box_only)
    pred_box = sum(1 for e in encoded if e.pred_box_only)
    if mask_images == 0:
        return (
            "box-only outlines (VOC/YOLO rectangles) in the ground truth or predictions: "
            "boxes are evaluated, masks are not"
        )
    return (
        f"masks evaluated on {mask_images} of {len(encoded)} images; the others have box-only "
        f"ground truth ({gt_box}) or box-only predictions ({pred_box}) and count for boxes only"
    )


def _warnings(alignment) -> list[str]:
    out = []
    if alignment.unknown_images:
        shown = ", ".join(alignment.unknown_images[:5])
        more = "" if len(alignment.unknown_images) <= 5 else ", …"
        out.append(
            f"{len(alignment.unknown_images)} predicted images are not in the ground truth and were "
            f"ignored: {shown}{more}"
        )
    if alignment.dropped_low_score:
        out.append(f"{alignment.dropped_low_score} predictions below min_score were dropped")
    if alignment.unscored:
        classical = alignment.unscored_classical
        why = (" (cells of a classical finder, such as the red-cell finder, which gives none)"
               if classical == alignment.unscored
               else f" ({classical} of them a classical finder's, such as the red-cell finder's, which gives none)"
               if classical else "")
        out.append(f"{alignment.unscored} predictions had no score{why} and count as score 1.0")
    return out
