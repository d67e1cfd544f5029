import numpy as np

from bloodview.bootstrap import morphology as morph


def test_fill_holes_respects_the_size_limit(syn):
    mask = syn.disc((60, 60), (30, 30), 25) & ~syn.disc((60, 60), (42, 25), 3) & ~syn.disc((60, 60), (20, 38), 10)
    small_only = morph.fill_holes(mask, max_area=50)
    assert small_only[25, 42]  # the 3 px hole (red-cell pallor size) is filled
    assert not small_only[38, 20]  # the 10 px hole (a gap between cells) stays open
    assert morph.fill_holes(mask)[38, 20]


def test_flood_splits_touching_discs_at_their_neck(syn):
    shape = (80, 120)
    left, right = syn.disc(shape, (35, 40), 25), syn.disc(shape, (80, 40), 25)
    blob = left | right
    inner = morph.inside_distance(blob)
    markers = np.zeros(shape, np.int32)
    markers[40, 35] = 1
    markers[40, 80] = 2
    markers[~blob] = 3
    labels = morph.flood_markers(-inner, markers, blob & (markers == 0))
    assert (labels[left & ~right] == 1).mean() > 0.95
    assert (labels[right & ~left] == 2).mean() > 0.95


def test_star_clip_cuts_a_glued_bump_and_keeps_a_round_cell(syn):
    shape = (200, 200)
    cell = syn.disc(shape, (100, 100), 50)
    bump = syn.disc(shape, (165, 100), 22)
    clipped = morph.star_clip(cell | bump, (100.0, 100.0))
    assert clipped[cell].mean() > 0.97
    assert clipped[bump & ~cell].mean() < 0.5
