import numpy as np
import pytest

from bloodview.bootstrap.segment_cell import segment_cell
from bloodview.core.geometry import mask_iou
from bloodview.io.images import load_image


def test_white_cell_is_segmented_whole_and_touching_red_cells_are_left_out(syn):
    rgb, cell, red = syn.white_cell_with_red_cells()
    result = segment_cell(rgb, "neutrophil")
    assert result.found
    assert result.mask.shape == cell.shape
    assert mask_iou(result.mask, cell) > 0.9
    assert (result.mask & red & ~cell).sum() < 0.03 * red.sum()
    assert result.nucleus.sum() < result.mask.sum()


@pytest.mark.parametrize("glass", [(250, 250, 170), (225, 228, 250)])
def test_other_background_tints_give_the_same_cell(syn, glass):
    rgb, cell, _ = syn.white_cell_with_red_cells(glass=glass)
    assert mask_iou(segment_cell(rgb).mask, cell) > 0.9


def test_platelet_gives_a_small_mask_not_a_blob_of_red_cells(syn):
    rgb, platelet = syn.platelet_image()
    result = segment_cell(rgb, "platelet")
    assert result.found
    assert result.mask[platelet].mean() > 0.9
    assert result.mask.sum() < 3 * platelet.sum()


def test_empty_glass_finds_no_cell_and_says_so(syn):
    rgb = syn.finish(syn.smear())
    result = segment_cell(rgb)
    assert not result.found
    assert not result.mask.any()
    assert "no stained cell" in result.reason


def test_real_pbc_cells_are_central_whole_and_not_cut_by_the_border(pbc_dir):
    for folder in sorted(p for p in pbc_dir.iterdir() if p.is_dir()):
        path = sorted(folder.glob("*.jpg"))[0]
        rgb = load_image(path)
        result = segment_cell(rgb, folder.name)
        assert result.found, path
        h, w = result.mask.shape
        assert result.mask[h // 2 - 10:h // 2 + 10, w // 2 - 10:w // 2 + 10].any(), path
        share = result.mask.mean()
        limits = (0.001, 0.03) if folder.name == "platelet" else (0.03, 0.4)
        assert limits[0] < share < limits[1], (path, share)
        assert not (result.mask[0].any() or result.mask[-1].any()), path
        assert np.all(result.mask[result.nucleus]), path


def test_satellite_platelet_is_left_out_of_a_lymphocyte_thanks_to_the_class_prior(syn):
    rgb, cell, platelet = syn.lymphocyte_with_satellite_platelet()
    lymphocyte = segment_cell(rgb, "lymphocyte")
    assert mask_iou(lymphocyte.mask, cell) > 0.85
    assert lymphocyte.mask[platelet].mean() < 0.2
    unknown = segment_cell(rgb)  # no class: the nucleus may have lobes, the platelet joins
    assert unknown.mask[platelet].mean() > lymphocyte.mask[platelet].mean()
