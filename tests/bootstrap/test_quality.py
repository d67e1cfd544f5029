import numpy as np
import pytest

from bloodview.bootstrap.quality import border_fraction, combine, measure_cues, score, size_cue, solidity


def test_round_mask_scores_high_and_a_cut_off_notched_one_low(syn):
    shape = (200, 200)
    good = syn.disc(shape, (100, 100), 40)
    bad = (syn.disc(shape, (20, 100), 40) | syn.disc(shape, (60, 150), 25)) & ~syn.disc(shape, (40, 110), 12)
    good_q = score(measure_cues(good, good), typical=float(good.sum()))
    bad_q = score(measure_cues(bad, good), typical=float(good.sum()))
    assert good_q > 0.9
    assert bad_q < 0.5


def test_solidity_and_border_fraction(syn):
    shape = (100, 100)
    assert solidity(syn.disc(shape, (50, 50), 30)) > 0.95
    l_shape = np.zeros(shape, bool)
    l_shape[10:90, 10:30] = True
    l_shape[70:90, 10:90] = True
    assert solidity(l_shape) == pytest.approx(2800 / 4600, abs=0.03)
    assert border_fraction(syn.disc(shape, (50, 50), 30)) == 0
    assert border_fraction(syn.disc(shape, (0, 50), 30)) > 0.2


def test_size_cue_is_one_at_the_typical_area_and_falls_off_both_ways(syn):
    assert size_cue(100.0, 100.0) == pytest.approx(1.0)
    assert size_cue(300.0, 100.0) < 0.2
    assert size_cue(33.0, 100.0) < 0.2
    assert size_cue(100.0, None) is None


def test_combine_ignores_missing_cues_and_stays_in_range(syn):
    assert combine({"agreement": 1.0, "size": None}) == pytest.approx(1.0)
    assert 0.0 <= combine({"agreement": 0.0, "solidity": 1.0}) < 0.5
    assert combine({}) == 0.0


def test_empty_mask_has_no_quality(syn):
    cues = measure_cues(np.zeros((10, 10), bool))
    assert score(cues, None) < 0.1
