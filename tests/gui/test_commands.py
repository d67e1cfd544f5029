"""Undo commands change the core annotation, notify listeners and undo exactly."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtGui import QUndoStack

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.commands import (
    AddInstanceCommand,
    ChangeClassCommand,
    RemoveInstancesCommand,
    ReplaceInstanceCommand,
    SetInstancesCommand,
    SetReviewedCommand,
)


@pytest.fixture
def image(tmp_path):
    cells = [
        Instance([rectangle(0, 0, 10, 10)], "neutrophil", score=0.9, source=Source.MODEL, origin="resnet50-v1"),
        Instance([rectangle(20, 0, 30, 10)], "lymphocyte", score=0.8, source=Source.MODEL, origin="resnet50-v1"),
        Instance([rectangle(40, 0, 50, 10)], "platelet"),
    ]
    return ImageAnnotation(tmp_path / "field.png", 64, 32, cells)


@pytest.fixture
def stack(qapp):
    return QUndoStack()


def snapshot(image: ImageAnnotation) -> list[tuple]:
    return [(i.id, i.class_name, i.reviewed, i.corrected, [p.tolist() for p in i.polygons]) for i in image]


def test_add_and_remove_restore_order(image, stack):
    before = snapshot(image)
    new = Instance([rectangle(5, 20, 9, 24)], "basophil")
    stack.push(AddInstanceCommand(image, new))
    assert image.instances[-1] is new
    stack.push(RemoveInstancesCommand(image, [image.instances[0].id, image.instances[2].id]))
    assert [i.class_name for i in image] == ["lymphocyte", "basophil"]
    stack.undo()
    stack.undo()
    assert snapshot(image) == before


def test_replace_marks_model_cells_corrected_and_keeps_provenance(image, stack):
    cell = image.instances[0]
    moved = cell.copy(polygons=[cell.polygons[0] + 3.0])
    stack.push(ReplaceInstanceCommand(image, moved))
    now = image.find(cell.id)
    assert now.corrected and now.source == Source.MODEL and now.origin == "resnet50-v1"
    np.testing.assert_array_equal(now.polygons[0], cell.polygons[0] + 3.0)
    stack.undo()
    assert image.find(cell.id) is cell and not cell.corrected


def test_person_drawn_cells_are_not_marked_corrected(image, stack):
    cell = image.instances[2]
    stack.push(ReplaceInstanceCommand(image, cell.copy(polygons=[cell.polygons[0] * 0.5])))
    assert not image.find(cell.id).corrected


def test_drag_steps_with_one_key_merge_into_one_undo_step(image, stack):
    cell = image.instances[0]
    for step in range(1, 6):
        stack.push(ReplaceInstanceCommand(image, cell.copy(polygons=[cell.polygons[0] + step]), merge_key="drag-1"))
    stack.push(ReplaceInstanceCommand(image, cell.copy(polygons=[cell.polygons[0] + 9]), merge_key="drag-2"))
    assert stack.count() == 2
    stack.undo()
    np.testing.assert_array_equal(image.find(cell.id).polygons[0], cell.polygons[0] + 5)
    stack.undo()
    np.testing.assert_array_equal(image.find(cell.id).polygons[0], cell.polygons[0])


def test_change_class_of_two_cells_is_one_step(image, stack):
    events = []
    image.subscribe(lambda kind, payload: events.append(kind))
    ids = [image.instances[0].id, image.instances[1].id]
    stack.push(ChangeClassCommand(image, ids, "monocyte"))
    assert stack.count() == 1 and stack.undoText() == "Change 2 cells to monocyte"
    assert [image.find(i).class_name for i in ids] == ["monocyte", "monocyte"]
    assert all(image.find(i).corrected for i in ids)
    assert events == ["instance_changed", "instance_changed"]
    stack.undo()
    assert [image.find(i).class_name for i in ids] == ["neutrophil", "lymphocyte"]
    assert not any(image.find(i).corrected for i in ids)


def test_reviewed_and_set_instances(image, stack):
    before = snapshot(image)
    stack.push(SetReviewedCommand(image, [i.id for i in image], True))
    assert image.reviewed_count == 3
    stack.push(SetInstancesCommand(image, [Instance([rectangle(1, 1, 5, 5)], "ig")], "Merge predictions"))
    assert len(image) == 1
    stack.undo()
    stack.undo()
    assert snapshot(image) == before


def test_a_drag_back_to_the_start_leaves_no_undo_step_and_no_correction(image, stack):
    cell = image.instances[0]
    stack.push(ReplaceInstanceCommand(image, cell.copy(polygons=[cell.polygons[0] + 2]), merge_key="drag"))
    stack.push(ReplaceInstanceCommand(image, cell.copy(), merge_key="drag"))
    assert stack.count() == 0
    assert image.find(cell.id) is cell and not cell.corrected


def test_a_class_change_that_changes_nothing_has_no_cells_and_names_the_class_for_people(image):
    """Bug: a cell's own class key pushed "Change 0 cells to ig" (internal name) onto the history."""
    same = ChangeClassCommand(image, [image.instances[0].id], "neutrophil", "Neutrophil")
    assert same.changed_count == 0  # the caller pushes nothing
    change = ChangeClassCommand(image, [image.instances[0].id], "ig", "Immature granulocyte")
    assert change.changed_count == 1 and change.text() == "Change 1 cell to Immature granulocyte"


def test_a_relabelled_machine_cell_remembers_the_class_its_score_was_for(image, stack):
    model_cell, drawn = image.instances[0].id, image.instances[2].id
    stack.push(ChangeClassCommand(image, [model_cell, drawn], "monocyte"))
    stack.push(ChangeClassCommand(image, [model_cell], "basophil"))
    assert image.find(model_cell).extra == {"model_class": "neutrophil"}  # the first guess, kept
    assert image.find(drawn).extra == {}  # a person's own cell has no model class
    stack.undo()
    stack.undo()
    assert image.find(model_cell).extra == {}
