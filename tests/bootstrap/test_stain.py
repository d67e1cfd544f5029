import numpy as np

from bloodview.bootstrap.stain import background_colour, optical_density, otsu_threshold, stain_features


def test_glass_has_zero_optical_density_whatever_its_tint(syn):
    for glass in ((250, 232, 215), (250, 250, 170), (225, 228, 250)):
        rgb, cell, _ = syn.white_cell_with_red_cells(glass=glass)
        od = optical_density(rgb)
        assert np.allclose(background_colour(rgb), glass, atol=4)
        assert od[:10, :10].sum(axis=2).max() < 0.05
        assert od[cell].sum(axis=1).mean() > 0.2


def test_nucleus_absorbs_more_red_light_than_a_red_cell(syn):
    rgb = np.zeros((20, 20, 3), np.uint8)
    rgb[:] = (250, 232, 215)
    rgb[5:10, 5:10] = syn.NUCLEUS
    rgb[12:18, 12:18] = syn.RED_CELL
    features = stain_features(rgb, sigma=0)
    assert features.purple[7, 7] > 3 * features.purple[15, 15]


def test_otsu_threshold_splits_two_populations(syn):
    values = np.concatenate([np.full(100, 0.1), np.full(50, 0.9)])
    t = otsu_threshold(values)
    assert 0.1 < t < 0.9
    assert otsu_threshold(np.array([])) == 0.0
