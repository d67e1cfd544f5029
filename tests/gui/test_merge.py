"""The merge rule: predictions never overwrite a person's cells (bloodview.gui.merge)."""

from __future__ import annotations

from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.merge import is_protected, merge_predictions


def cell(x, y, cls="neutrophil", source=Source.MODEL, score=0.9, **kw) -> Instance:
    return Instance([rectangle(x, y, x + 20, y + 20)], cls, score=score, source=source, **kw)


def test_untouched_model_cells_are_replaced_by_new_predictions():
    old = [cell(0, 0), cell(50, 50)]
    new = [cell(1, 1, "lymphocyte"), cell(100, 100)]
    result = merge_predictions(old, new)
    assert result.instances == new
    assert (result.replaced, result.added, result.kept, result.skipped) == (2, 2, 0, 0)


def test_reviewed_corrected_and_human_cells_are_kept_and_block_overlapping_predictions():
    reviewed = cell(0, 0, reviewed=True)
    corrected = cell(50, 50, "monocyte", corrected=True)
    drawn = cell(100, 0, "basophil", source=Source.HUMAN, score=None)
    predictions = [cell(2, 2, "eosinophil"), cell(51, 49), cell(101, 1), cell(200, 200)]
    result = merge_predictions([reviewed, corrected, drawn], predictions)
    assert result.instances[:3] == [reviewed, corrected, drawn]
    assert [i.class_name for i in result.instances[:3]] == ["neutrophil", "monocyte", "basophil"]
    assert result.instances[3] is predictions[3]
    assert result.skipped == 3 and result.added == 1 and result.replaced == 0
    assert set(result.skipped_ids) == {p.id for p in predictions[:3]}


def test_prediction_touching_a_kept_cell_only_slightly_is_added():
    kept = cell(0, 0, reviewed=True)
    neighbour = cell(15, 0)  # IoU = 5*20 / (2*400 - 100) = 0.14
    result = merge_predictions([kept], [neighbour])
    assert result.instances == [kept, neighbour]


def test_inputs_are_not_modified_and_empty_inputs_work():
    old = [cell(0, 0, reviewed=True)]
    assert merge_predictions([], []).instances == []
    assert merge_predictions(old, []).instances == old
    new = [cell(0, 0)]
    merge_predictions(old, new)
    assert len(old) == 1 and len(new) == 1


def test_protection_flags():
    assert not is_protected(cell(0, 0))
    assert not is_protected(cell(0, 0, source=Source.BOOTSTRAP))
    assert is_protected(cell(0, 0, reviewed=True))
    assert is_protected(cell(0, 0, corrected=True))
    assert is_protected(cell(0, 0, source=Source.HUMAN))


def test_an_unreviewed_import_is_not_dropped_by_a_new_detection():
    """Issue 19: imports without provenance are no longer 'human'; detection must still keep them."""
    imported = cell(0, 0, "monocyte", source=Source.IMPORT, score=None)
    assert is_protected(imported)
    result = merge_predictions([imported], [cell(1, 1, "neutrophil"), cell(100, 100)])
    assert result.instances[0] is imported and result.kept == 1 and result.skipped == 1
