"""One-to-one matching of predictions to cells, and the cell-of-interest rule."""

from __future__ import annotations

import numpy as np

from bloodview.evaluation.cocoindex import coco_boxes, instance_rle
from bloodview.evaluation.matching import cell_of_interest, iou_matrix, match_instances


def test_best_scoring_prediction_takes_the_cell_and_the_other_is_left_over():
    ious = np.array([[0.9], [0.8]])  # two predictions on one cell
    matches = match_instances(ious, scores=[0.6, 0.95])
    assert [(m.gt, m.pred) for m in matches] == [(0, 1)]  # score 0.95 wins despite lower IoU


def test_a_prediction_takes_the_cell_it_overlaps_most():
    ious = np.array([[0.55, 0.7]])
    assert [(m.gt, m.pred) for m in match_instances(ious, scores=[0.9])] == [(1, 0)]


def test_overlap_below_half_is_no_match():
    assert match_instances(np.array([[0.49]]), scores=[0.9]) == []
    assert [m.gt for m in match_instances(np.array([[0.5]]), scores=[0.9])] == [0]


def test_no_cell_is_matched_twice():
    ious = np.array([[0.9, 0.6], [0.8, 0.0]])
    matches = match_instances(ious, scores=[0.9, 0.8])
    assert sorted((m.gt, m.pred) for m in matches) == [(0, 0)]


def test_iou_matrix_of_masks_matches_hand_computed_overlap(make):
    truth = make.cell(10, 10, 40, "neutrophil")
    guess = make.cell(20, 10, 40, "neutrophil", 0.9)
    rles = [instance_rle(i, 100, 100) for i in (truth, guess)]
    boxes = coco_boxes([truth, guess])
    for use_boxes in (False, True):
        ious = iou_matrix([rles[0]], [rles[1]], boxes[:1], boxes[1:], use_boxes)
        assert ious.shape == (1, 1)
        assert ious[0, 0] == 1200 / 2000


def test_cell_of_interest_is_the_highest_score_when_no_box_holds_the_centre(make):
    cells = [make.cell(0, 0, 10, "platelet", 0.80), make.cell(60, 60, 10, "neutrophil", 0.70)]
    assert cell_of_interest(cells, 100, 100) == 0


def test_a_surer_neighbour_never_stands_for_the_centred_cell(make):
    """A model that finds the platelets round a PBC cell scores them higher than the cell itself."""
    neighbour = make.cell(0, 0, 10, "platelet", 0.99)
    centred = make.cell(40, 40, 20, "neutrophil", 0.90)
    assert cell_of_interest([neighbour, centred], 100, 100) == 1
    overlapping = make.cell(30, 30, 25, "monocyte", 0.95)  # also over the centre: the surer of the two
    assert cell_of_interest([neighbour, centred, overlapping], 100, 100) == 2


def test_near_tie_goes_to_the_cell_nearest_the_centre(make):
    off_centre = make.cell(20, 20, 40, "monocyte", 0.99)  # holds the centre, its own centre at (40, 40)
    centred = make.cell(40, 40, 20, "neutrophil", 0.98)  # within 0.02 of the best, centred at (50, 50)
    assert cell_of_interest([off_centre, centred], 100, 100) == 1
    assert cell_of_interest([off_centre, centred], 100, 100, tolerance=0.0) == 0


def test_no_prediction_means_no_cell_of_interest():
    assert cell_of_interest([], 100, 100) is None


def test_a_red_cell_never_stands_for_a_class_only_images_cell(make):
    """The red-cell finder's cells: no model score, and scored 1.0 when read back from a predictions file."""
    found = make.cell(45, 45, 10, "neutrophil", 0.70)
    unscored = make.cell(40, 40, 20, "rbc", None)
    read_back = make.cell(0, 0, 10, "RBC", 1.0)
    assert cell_of_interest([unscored, read_back, found], 100, 100) == 2
    assert cell_of_interest([unscored, read_back], 100, 100) is None
