"""Lab review rules: unidentified bucket, sign-off, review queue order, provenance."""

from __future__ import annotations

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.review import (
    counted_instances,
    is_unidentified,
    next_unchecked,
    provenance,
    review_queue,
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
    queue = review_queue([a, b], 0.75)
    assert [(e.image_index, round(e.certainty, 2)) for e in queue] == [(1, 0.5), (1, 0.7), (0, 0.9)]
    assert [e.unidentified for e in queue] == [True, True, False]


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
