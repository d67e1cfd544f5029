"""Lab review rules: unidentified bucket, sign-off, review queue order, provenance."""

from __future__ import annotations

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.review import (
    OVERLAP_IOU,
    counted_instances,
    is_checked,
    is_unidentified,
    next_unchecked,
    overlapping_cells,
    provenance,
    review_queue,
    shown_score,
    sign_off_check,
)


def cell(x, y, score=0.9, **kw) -> Instance:
    kw.setdefault("source", Source.MODEL)
    return Instance([rectangle(x, y, x + 10, y + 10)], kw.pop("cls", "neutrophil"), score=score, **kw)


def test_low_score_machine_cells_are_unidentified_until_a_person_checks_them():
    low = cell(0, 0, score=0.4)
    assert is_unidentified(low, 0.75)
    assert not is_unidentified(low.copy(reviewed=True), 0.75)
    assert not is_unidentified(low.copy(corrected=True), 0.75)
    assert not is_unidentified(cell(0, 0, score=None, source=Source.HUMAN), 0.75)
    assert is_unidentified(cell(0, 0, score=None, source=Source.BOOTSTRAP, quality=0.3), 0.75)
    image = ImageAnnotation("a.png", 100, 100, [low, cell(20, 0, score=0.95)])
    assert [i.score for i in counted_instances(image, 0.75)] == [0.95]


def test_a_call_the_detector_disputed_still_counts_by_its_score():
    """Measured (core/second_opinion.py): holding disputed calls back helps on PBC and counts worse
    cells on another lab's, so a disagreement alone does not make a cell unidentified."""
    overruled = cell(0, 0, 0.93, extra={"detector_class": "monocyte", "detector_score": 0.81})
    doubtful = cell(20, 0, 0.6, extra={"detector_class": "monocyte", "detector_score": 0.81})
    assert not is_unidentified(overruled, 0.75) and is_unidentified(doubtful, 0.75)
    image = ImageAnnotation("a.png", 100, 100, [overruled, doubtful])
    assert [i.id for i in counted_instances(image, 0.75)] == [overruled.id]
    assert "the detector alone said monocyte 0.81" in provenance(overruled)


def test_sign_off_needs_every_cell_checked():
    image = ImageAnnotation("a.png", 100, 100, [cell(0, 0, score=0.4), cell(20, 0, score=0.95)])
    check = sign_off_check(image, 0.75)
    assert not check.ok and check.unidentified == 1 and check.unchecked == 2
    assert "1 unidentified" in check.reason and "1 unreviewed" in check.reason
    image.set_instances([i.copy(reviewed=True) for i in image.instances])
    assert sign_off_check(image, 0.75).ok


def test_queue_puts_least_certain_first_across_images_and_skips_checked_cells():
    a = ImageAnnotation("a.png", 100, 100, [cell(0, 0, 0.9), cell(20, 0, 0.3, reviewed=True)])
    b = ImageAnnotation("b.png", 100, 100, [cell(0, 0, 0.5), cell(20, 0, None, source=Source.BOOTSTRAP,
                                                                    quality=0.7)])
    queue = review_queue([a, b], 0.75, ClassCatalogue.pbc())
    assert [(e.image_index, round(e.certainty, 2)) for e in queue] == [(1, 0.5), (1, 0.7), (0, 0.9)]
    assert [e.unidentified for e in queue] == [True, True, False]


def test_queue_puts_white_cells_first_then_platelets_then_red_cells():
    """A camera field's doubtful red-cell outlines (0.13-0.54) must not bury the white cell a
    technician checks for the differential; erythroblasts (counted per 100 white cells) and a class
    the catalogue lacks go with the white cells."""
    classes = ClassCatalogue.pbc()
    classes.add("rbc")
    red = [cell(10 * k, 50, 0.13 + 0.04 * k, cls="rbc") for k in range(10)]
    image = ImageAnnotation("a.png", 200, 200, [*red, cell(0, 0, 0.9, cls="neutrophil"),
                                                cell(0, 20, 0.2, cls="platelet"), cell(20, 0, 0.95, cls="erythroblast"),
                                                cell(40, 0, 0.99, cls="smudge")])
    other = ImageAnnotation("b.png", 200, 200, [cell(0, 0, 0.8, cls="rbc"), cell(0, 20, 0.6, cls="lymphocyte")])
    queue = review_queue([image, other], 0.75, classes)
    assert [(e.class_name, e.image_index) for e in queue[:6]] == [
        ("lymphocyte", 1), ("neutrophil", 0), ("erythroblast", 0), ("smudge", 0), ("platelet", 0), ("rbc", 0)]
    assert [round(e.certainty, 2) for e in queue[5:]] == [round(0.13 + 0.04 * k, 2) for k in range(10)] + [0.8]
    assert review_queue([image, other], 0.75, classes, limit=2) == queue[:2]


def test_next_unchecked_follows_reading_order_and_wraps():
    top_right, top_left, bottom = cell(60, 0), cell(0, 2), cell(0, 80)
    image = ImageAnnotation("a.png", 100, 100, [bottom, top_right, top_left])
    assert next_unchecked(image).id == top_left.id
    assert next_unchecked(image, top_left.id).id == top_right.id
    assert next_unchecked(image, bottom.id).id == top_left.id
    image.set_instances([i.copy(reviewed=True) for i in image.instances])
    assert next_unchecked(image) is None


def test_provenance_names_model_version_and_person():
    text = provenance(cell(0, 0, 0.87, origin="resnet50-pbc@2026-11-20", corrected=True))
    assert "resnet50-pbc@2026-11-20" in text and "0.87" in text and "corrected by a person" in text
    assert "confirmed" in provenance(cell(0, 0, reviewed=True))
    assert provenance(cell(0, 0, None, source=Source.HUMAN)) == "drawn by a person"
    assert "bootstrap" in provenance(cell(0, 0, None, source=Source.BOOTSTRAP, quality=0.6))


def test_provenance_gives_the_detectors_own_call_only_where_the_cell_classifier_overruled_it():
    overruled = cell(0, 0, 0.93, extra={"detector_class": "monocyte", "detector_score": 0.81})
    assert "the detector alone said monocyte 0.81" in provenance(overruled)
    agreed = cell(0, 0, 0.93, extra={"detector_class": "neutrophil", "detector_score": 0.7})
    assert "detector" not in provenance(agreed)
    # a person's re-classification compares with the model's call, not with the class a person chose
    relabelled = cell(0, 0, 0.93, cls="ig", extra={"model_class": "neutrophil", "detector_class": "neutrophil"})
    assert "detector" not in provenance(relabelled)
    assert "detector" not in provenance(cell(0, 0, 0.9))


def box(x1, y1, x2, y2, cls, score=0.9, **kw) -> Instance:
    kw.setdefault("source", Source.MODEL)
    return Instance([rectangle(x1, y1, x2, y2)], cls, score=score, **kw)


def test_one_cell_found_three_times_is_one_overlap_keeping_the_best_guess():
    """Issue 19: an ig became ig 0.64 + monocyte 0.61 + erythroblast 0.50 (IoU ~0.9)."""
    ig, monocyte, erythroblast = box(0, 0, 60, 60, "ig", 0.64), box(2, 1, 61, 60, "monocyte", 0.61), \
        box(1, 3, 60, 62, "erythroblast", 0.50)
    neighbour = box(45, 0, 105, 60, "neutrophil", 0.99)  # a real cell touching it: IoU 0.14
    platelet = box(10, 10, 18, 18, "platelet", 0.95)  # lying on the ig: IoU 0.02
    image = ImageAnnotation("a.png", 200, 100, [monocyte, neighbour, erythroblast, platelet, ig])
    (overlap,) = overlapping_cells(image)
    assert overlap.keep == ig.id and set(overlap.drop) == {monocyte.id, erythroblast.id}
    assert 0.9 < overlap.iou <= 1.0
    assert overlapping_cells(ImageAnnotation("b.png", 200, 100, [ig, neighbour, platelet])) == []


def test_the_overlap_threshold_is_strict_and_a_person_checked_cell_is_kept():
    a = box(0, 0, 30, 10, "neutrophil", 0.99)
    b = box(10, 0, 40, 10, "eosinophil", 0.50, reviewed=True)  # IoU exactly 20/40 = 0.5
    assert OVERLAP_IOU == 0.5 and overlapping_cells(ImageAnnotation("a.png", 50, 20, [a, b])) == []
    c = box(9, 0, 39, 10, "eosinophil", 0.50, reviewed=True)  # IoU 21/39 = 0.54
    (overlap,) = overlapping_cells(ImageAnnotation("a.png", 50, 20, [a, c]))
    assert overlap.keep == c.id and overlap.drop == (a.id,)


def test_a_relabelled_cell_shows_no_score_for_its_new_class():
    relabelled = cell(0, 0, 0.92, cls="neutrophil", corrected=True, extra={"model_class": "platelet"})
    assert shown_score(relabelled) is None
    assert "score 0.92 as Platelet" in provenance(relabelled, str.capitalize)
    assert shown_score(cell(0, 0, 0.92, corrected=True)) == 0.92  # outline corrected only: score stands


def test_provenance_says_an_import_has_no_known_maker_and_is_not_checked():
    imported = cell(0, 0, None, source=Source.IMPORT)
    assert provenance(imported).startswith("imported from a file") and not is_checked(imported)
    assert "confirmed by a person" in provenance(imported.copy(reviewed=True))


def test_touching_pairs_are_the_box_pairs_with_positive_iou():
    """The overlap search's box test without the N x N IoU matrix (90 ms for 2,000 cells per key
    press) finds exactly the pairs ``box_iou > 0`` found: edge contact and empty boxes are no touch."""
    import numpy as np

    from bloodview.core.geometry import box_iou
    from bloodview.gui.review import touching_pairs

    rng = np.random.default_rng(3)
    corners = rng.integers(0, 200, (300, 2)).astype(float)
    sizes = rng.integers(0, 30, (300, 2)).astype(float)  # some boxes have no width or height
    boxes = np.hstack([corners, corners + sizes])
    boxes[1] = [boxes[0, 2], boxes[0, 1], boxes[0, 2] + 5, boxes[0, 3]]  # touches box 0 at an edge only
    expected = np.argwhere(np.triu(box_iou(boxes, boxes) > 0.0, k=1))
    assert touching_pairs(boxes).tolist() == expected.tolist()
    assert [0, 1] not in expected.tolist()
