"""A crop's scale from its white cell: synthetic cells of known size and Zheng's expert masks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bloodview.core.measure import PixelSize
from bloodview.core.white_cell_scale import (
    SOURCE_WHITE_CELL,
    WHITE_CELL_DIAMETER_UM,
    central_white_cell_diameter,
    central_white_cell_mask,
    estimate_scale_from_white_cell,
)
from bloodview.io.images import load_image

GLASS = (246, 240, 190)  # Zheng's yellow glass
CYTOPLASM = (205, 175, 160)
NUCLEUS = (95, 45, 90)
RED_CELL = (205, 150, 165)


def white_cell_crop(side: int, diameter: float, lobes: bool = False, centre=None) -> np.ndarray:
    """A ``side``-px crop of glass with one white cell of ``diameter`` px: pale cytoplasm, dark nucleus."""
    image = np.zeros((side, side, 3), np.uint8)
    image[:] = GLASS
    cx, cy = centre or (side / 2.0, side / 2.0)
    k = 16  # draw at 1/16 px so the discs have the size asked
    cv2.circle(image, (int(cx * k), int(cy * k)), int(diameter / 2 * k), CYTOPLASM, -1, cv2.LINE_AA, 4)
    if lobes:  # three lobes, as a neutrophil's
        for angle in (0.0, 2.1, 4.2):
            x, y = cx + 0.2 * diameter * np.cos(angle), cy + 0.2 * diameter * np.sin(angle)
            cv2.circle(image, (int(x * k), int(y * k)), int(0.13 * diameter * k), NUCLEUS, -1, cv2.LINE_AA, 4)
    else:
        cv2.circle(image, (int(cx * k), int(cy * k)), int(0.3 * diameter * k), NUCLEUS, -1, cv2.LINE_AA, 4)
    noise = np.random.default_rng(0).normal(0, 2.0, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("lobes", [False, True])
def test_a_tight_crop_of_one_cell_gives_the_cells_diameter_within_5_percent(lobes):
    diameter = central_white_cell_diameter(white_cell_crop(120, 76, lobes))
    assert diameter == pytest.approx(76, rel=0.05)


def test_the_estimate_assumes_a_typical_white_cell_and_follows_the_magnification():
    small, large = estimate_scale_from_white_cell(white_cell_crop(120, 60)), estimate_scale_from_white_cell(
        white_cell_crop(240, 120))
    assert small.um_per_pixel == pytest.approx(WHITE_CELL_DIAMETER_UM / 60, rel=0.05)
    assert large.um_per_pixel == pytest.approx(small.um_per_pixel / 2, rel=0.05)
    assert (small.source, small.confidence, small.cells_measured) == (SOURCE_WHITE_CELL, "weak", 1)


def test_a_cell_cut_by_the_edge_or_far_from_the_centre_gives_no_estimate():
    assert estimate_scale_from_white_cell(white_cell_crop(120, 76, centre=(100, 60))) is None
    assert estimate_scale_from_white_cell(white_cell_crop(400, 110, centre=(90, 90))) is None


def test_a_small_object_in_a_loose_frame_gives_no_estimate():
    """A platelet or a small cell in a wide frame: the framing says more than the object does."""
    assert estimate_scale_from_white_cell(white_cell_crop(360, 70)) is None


def test_a_cell_merged_with_its_neighbours_gives_no_estimate():
    image = white_cell_crop(200, 90)
    for x, y in ((170, 100), (100, 170), (30, 100)):  # red cells touching it, as in a crowded crop
        cv2.circle(image, (x, y), 38, RED_CELL, -1)
    cv2.circle(image, (100, 100), 27, NUCLEUS, -1)
    assert estimate_scale_from_white_cell(image) is None


def test_glass_grey_and_tiny_images_give_no_estimate_without_raising():
    assert estimate_scale_from_white_cell(np.full((120, 120, 3), 240, np.uint8)) is None
    assert estimate_scale_from_white_cell(np.full((120, 120), 120, np.uint8)) is None
    assert estimate_scale_from_white_cell(np.zeros((8, 8, 3), np.uint8)) is None


def test_a_white_cell_scale_is_a_guess_that_never_sizes_cells():
    """Sizing the cell from a scale that assumed its size would only give the assumption back."""
    guess = PixelSize.from_estimate(estimate_scale_from_white_cell(white_cell_crop(120, 76)))
    assert guess.source == "white cell" and not guess.measured
    assert "white cell" in guess.describe()
    again = PixelSize.from_dict(guess.to_dict())
    assert again.source == "white cell" and again.um_per_pixel == pytest.approx(guess.um_per_pixel, rel=1e-4)


def test_zheng_crops_white_cells_are_measured_as_the_experts_outlined_them(zheng_dir):
    """Zheng et al.'s crops have no whole red cell; their expert masks give each white cell's size."""
    images = sorted(zheng_dir.glob("*.bmp"))[::10]
    ratios, ious = [], []
    for path in images:
        expert = cv2.imread(str(path.with_suffix(".png")), cv2.IMREAD_GRAYSCALE) > 0
        mask = central_white_cell_mask(load_image(path)[..., :3])
        if mask is None:
            continue
        ratios.append(np.sqrt(mask.sum() / expert.sum()))
        ious.append((mask & expert).sum() / (mask | expert).sum())
    assert len(ratios) >= 0.8 * len(images), "most crops are one clear white cell"
    assert np.mean(np.abs(np.array(ratios) - 1.0) <= 0.1) >= 0.85
    assert np.median(ious) >= 0.85


def test_zheng_crops_come_out_near_the_pixel_size_of_their_red_cell_rings(zheng_dir):
    """Their faint red-cell rings, fitted by hand, give about 0.17 µm per pixel (docs/scale.md)."""
    values = [estimate_scale_from_white_cell(load_image(p)[..., :3]) for p in sorted(zheng_dir.glob("*.bmp"))[::6]]
    found = np.array([v.um_per_pixel for v in values if v is not None])
    assert len(found) >= 0.8 * len(values)
    assert np.median(found) == pytest.approx(0.17, rel=0.1)
    assert np.mean(np.abs(found / 0.17 - 1.0) <= 0.25) >= 0.7
