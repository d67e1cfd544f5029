from __future__ import annotations

import numpy as np
import pytest

from bloodview.core import Dataset, ImageAnnotation, Instance, Source, differential_count
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle


def _cell(cls, x=0, score=None, source=Source.HUMAN):
    return Instance([rectangle(x, 0, x + 10, 10)], cls, score=score, source=source)


def test_instance_reports_box_area_and_keeps_id_on_copy():
    inst = Instance(rectangle(2, 3, 12, 8), "lymphocyte", score=0.9, source="model")
    assert inst.bbox == (2, 3, 12, 8)
    assert inst.area == pytest.approx(50)
    assert inst.source is Source.MODEL
    moved = inst.copy(polygons=[rectangle(0, 0, 1, 1)], corrected=True)
    assert moved.id == inst.id and moved.corrected and not inst.corrected
    assert not moved.same_as(inst)
    assert inst.copy().same_as(inst)
    assert inst.to_mask(10, 15).sum() == 50


def test_mutations_notify_listeners_in_order():
    image = ImageAnnotation("a.jpg", 20, 20)
    events = []
    unsubscribe = image.subscribe(lambda kind, payload: events.append(kind))
    cell = _cell("neutrophil")
    image.add(cell)
    image.replace(cell.copy(class_name="monocyte"))
    image.remove(cell.id)
    unsubscribe()
    image.add(_cell("ig"))
    assert events == ["instance_added", "instance_changed", "instance_removed"]
    assert image.instances[0].class_name == "ig"


def test_replace_unknown_id_raises():
    image = ImageAnnotation("a.jpg", 20, 20)
    with pytest.raises(KeyError):
        image.replace(_cell("ig"))


def test_dataset_resolves_relative_images_and_counts(tmp_path):
    a = ImageAnnotation("x/a.jpg", 10, 10, [_cell("neutrophil"), _cell("platelet")], split="train")
    b = ImageAnnotation(tmp_path / "b.jpg", 10, 10, [_cell("neutrophil")], split="val")
    ds = Dataset([a, b], root=tmp_path)
    assert ds.resolve_image(a) == tmp_path / "x" / "a.jpg"
    assert ds.resolve_image(b) == tmp_path / "b.jpg"
    assert ds.class_counts()["neutrophil"] == 2
    assert ds.split("val") == [b]
    assert ds.find("a.jpg") is a


def test_differential_counts_white_cells_per_hundred():
    cat = ClassCatalogue.pbc()
    cells = [_cell("neutrophil", i) for i in range(3)] + [_cell("lymphocyte"), _cell("erythroblast"),
                                                          _cell("platelet")]
    cells.append(_cell("monocyte", score=0.2, source=Source.MODEL))  # unidentified
    image = ImageAnnotation("a.jpg", 100, 100, cells)
    diff = differential_count([image], cat, min_score=0.5)
    assert diff.total == 6 and diff.white_total == 4
    assert diff.row("neutrophil").per_100_white == pytest.approx(75.0)
    assert diff.row("erythroblast").per_100_white == pytest.approx(25.0)
    assert diff.row("monocyte").count == 0
    assert diff.row("platelet").percent_of_all == pytest.approx(100 / 6)
    assert diff.row("platelet").per_100_white is None  # platelets are not counted per white cell


def test_differential_of_nothing_is_zero_not_a_crash():
    diff = differential_count([], ClassCatalogue.pbc())
    assert diff.total == 0 and all(r.count == 0 for r in diff.rows)


def test_multi_part_instance():
    inst = Instance([rectangle(0, 0, 2, 2), rectangle(5, 5, 6, 6)], "ig")
    assert inst.area == pytest.approx(5)
    assert np.allclose(inst.bbox, (0, 0, 6, 6))


def test_sign_off_record_keeps_who_and_when_and_undoing_takes_it_back_out():
    from bloodview.core.annotation import SignOffEvent

    image = ImageAnnotation("a.jpg", 20, 20)
    events = []
    image.subscribe(lambda kind, payload: events.append((kind, payload)))
    signed = SignOffEvent.now(True, "tech-a")
    image.apply_sign_off(signed)
    withdrawn = SignOffEvent.now(False, "tech-b")
    image.apply_sign_off(withdrawn)
    assert not image.signed_off and image.sign_off_history == [signed, withdrawn]
    assert image.last_sign_off.by == "tech-b" and withdrawn.at.endswith("+00:00")
    image.retract_sign_off(withdrawn, previous=True)
    assert image.signed_off and image.sign_off_history == [signed]
    assert events == [("signed_off", True), ("signed_off", False), ("signed_off", True)]
    assert SignOffEvent.from_dict(signed.to_dict()) == signed
    with pytest.raises(KeyError):
        SignOffEvent.from_dict({"signed_off": True})
