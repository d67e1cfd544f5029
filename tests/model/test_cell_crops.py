"""The classifier's crop: centred on the cell, at the classifier's pixel size, glass (not black) past the edge."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bloodview.model.cell_crops import CropJitter, cell_crop


def disc_image(height=300, width=400, centre=(120, 250), radius_px=40, background=230, cell=90):
    image = np.full((height, width, 3), background, np.uint8)
    cv2.circle(image, (centre[1], centre[0]), radius_px, (cell, cell, cell), -1)
    return image


def dark_extent(crop: np.ndarray) -> tuple[float, float, float]:
    """(centre y, centre x, diameter) of the dark disc in a crop."""
    ys, xs = np.nonzero(crop[..., 0] < 160)
    return ys.mean(), xs.mean(), xs.max() - xs.min() + 1


def test_crop_is_centred_on_the_cell_and_scaled_by_pixel_size():
    # A 10 µm cell (40 px at 0.25 µm/px) seen at 0.125 µm/px is 80 crop px across, in the middle.
    image = disc_image(radius_px=20)
    crop = cell_crop(image, (120, 250), image_um_per_px=0.25, crop_um_per_px=0.125, size=128)
    cy, cx, diameter = dark_extent(crop)
    assert crop.shape == (128, 128, 3) and crop.dtype == np.float32
    assert abs(cy - 63.5) < 1.5 and abs(cx - 63.5) < 1.5
    assert abs(diameter - 82) <= 3


def test_same_cell_at_two_magnifications_gives_the_same_crop_size():
    small = disc_image(radius_px=20)  # 0.25 µm/px
    large = disc_image(height=600, width=800, centre=(240, 500), radius_px=40)  # same cell at 0.125 µm/px
    a = dark_extent(cell_crop(small, (120, 250), 0.25, 0.2, 96))[2]
    b = dark_extent(cell_crop(large, (240, 500), 0.125, 0.2, 96))[2]
    assert abs(a - b) <= 2


def test_a_cell_at_the_image_corner_is_seen_against_repeated_glass_not_black():
    image = disc_image(centre=(10, 10), radius_px=15)
    crop = cell_crop(image, (10, 10), 0.2, 0.2, 100)
    assert crop.min() >= 80  # the cell itself is 90; nothing is 0-padding
    assert crop[0, 0].min() > 150 or crop[-1, -1].min() > 150


def test_training_jitter_changes_the_crop_but_keeps_the_cell_near_the_centre():
    image = disc_image()
    rng = np.random.default_rng(0)
    plain = cell_crop(image, (120, 250), 0.2, 0.2, 128)
    for _ in range(5):
        jittered = cell_crop(image, (120, 250), 0.2, 0.2, 128, CropJitter.training(), rng)
        cy, cx, _ = dark_extent(jittered)
        assert abs(cy - 63.5) < 8 and abs(cx - 63.5) < 8  # shift ≤ 1.2 µm = 6 px
        assert not np.array_equal(jittered, plain)


def test_bad_inputs_are_refused_with_a_message():
    with pytest.raises(ValueError, match="RGB"):
        cell_crop(np.zeros((10, 10), np.uint8), (5, 5), 0.2, 0.2, 32)
    with pytest.raises(ValueError, match="positive"):
        cell_crop(np.zeros((10, 10, 3), np.uint8), (5, 5), 0.0, 0.2, 32)


def test_stain_jitter_turns_the_colours_but_not_the_shape():
    image = np.full((200, 200, 3), (230, 210, 220), np.uint8)
    cv2.circle(image, (100, 100), 40, (120, 60, 150), -1)  # a purple cell on pink glass
    rng = np.random.default_rng(1)
    plain = cell_crop(image, (100, 100), 0.2, 0.2, 128)
    turned = [cell_crop(image, (100, 100), 0.2, 0.2, 128, CropJitter.other_stains(), rng) for _ in range(6)]
    hues = [cv2.cvtColor(t.astype(np.uint8), cv2.COLOR_RGB2HSV)[64, 64, 0] for t in turned]
    assert len(set(int(h) for h in hues)) > 2  # the cell's hue differs from crop to crop
    for crop in turned:  # still a dark disc in the middle on bright glass
        assert crop[64, 64].mean() < crop[5, 5].mean() - 40
    assert not any(np.allclose(plain, t) for t in turned)


@pytest.mark.parametrize("jitter", [CropJitter.other_labs(), CropJitter.any_lab()], ids=["labs", "tones"])
def test_other_labs_jitter_remixes_the_stain_turns_some_crops_grey_and_keeps_the_cell(jitter):
    image = np.full((200, 200, 3), (230, 210, 220), np.uint8)
    cv2.circle(image, (100, 100), 40, (120, 60, 150), -1)  # a purple cell on pink glass
    rng = np.random.default_rng(3)
    crops = [cell_crop(image, (100, 100), 0.2, 0.2, 128, jitter, rng) for _ in range(60)]
    grey = [c for c in crops if np.ptp(c[64, 64]) < 1 and np.ptp(c[5, 5]) < 1]
    assert 1 <= len(grey) <= 18  # about a tenth grey: shape alone must name the cell sometimes
    glass = np.array([c[5, 5] for c in crops])
    assert glass.std(axis=0).max() > 8  # the glass colour differs from crop to crop (another lamp)
    for crop in crops:  # still a darker disc in the middle on brighter glass
        assert crop[64, 64].mean() < crop[5, 5].mean() - 20


def test_stretch_makes_two_white_balances_of_one_cell_alike():
    from bloodview.model.cell_crops import stretch_channels

    image = disc_image(background=230, cell=90).astype(np.float32)
    image[130:140, 240:260] = 150  # some structure inside the cell
    yellow = np.clip(image * np.array([1.1, 1.05, 0.7], np.float32) + 10, 0, 255)  # another camera, paler blue
    raw_gap = np.abs(image - yellow).mean()
    stretched_gap = np.abs(stretch_channels(image) - stretch_channels(yellow)).mean()
    assert stretched_gap < raw_gap / 10
    flat = np.full((32, 32, 3), 128, np.float32)
    assert np.isfinite(stretch_channels(flat)).all() and stretch_channels(flat).max() <= 255


def test_stretch_of_a_camera_crop_matches_the_float_stretch_training_uses():
    """Prediction stretches the uint8 crop through per-channel tables; training stretches float
    crops (after its jitter): the network must get the same picture either way."""
    from bloodview.model.cell_crops import stretch_channels

    rng = np.random.default_rng(3)
    crops = [rng.integers(0, 256, (64, 64, 3)).astype(np.uint8), disc_image()[100:228, 200:328]]
    flat_green = crops[0].copy()
    flat_green[..., 1] = 77  # a channel without contrast
    for crop in crops + [flat_green, rng.integers(0, 3, (5, 7, 3)).astype(np.uint8)]:
        fast, reference = stretch_channels(crop), stretch_channels(crop.astype(np.float32))
        assert fast.dtype == np.float32 and fast.shape == crop.shape
        np.testing.assert_allclose(fast, reference, atol=1e-3)
    image = disc_image()
    predicted = cell_crop(image, (120, 250), 0.25, 0.2, 96, colour="stretch")
    by_hand = stretch_channels(cell_crop(image, (120, 250), 0.25, 0.2, 96).astype(np.float32))
    np.testing.assert_allclose(predicted, by_hand, atol=1e-3)


def test_crop_colour_mode_is_checked_and_stretch_reaches_the_fixed_levels():
    image = disc_image()
    crop = cell_crop(image, (120, 250), 0.25, 0.25, 128, colour="stretch")
    assert crop.min() >= 0 and abs(np.percentile(crop[..., 0], 99) - 235) < 2
    with pytest.raises(ValueError, match="colour mode"):
        cell_crop(image, (120, 250), 0.25, 0.25, 128, colour="sepia")


def test_dihedral_views_are_the_crop_mirrored_and_turned_grouped_by_crop():
    from bloodview.model.cell_classifier import dihedral_views, view_logits

    crops = np.random.default_rng(0).random((3, 8, 8, 3)).astype(np.float32)
    eight = dihedral_views(crops, 8)
    assert eight.shape == (24, 8, 8, 3)
    assert np.array_equal(eight[0], crops[0]) and np.array_equal(eight[8], crops[1])
    assert np.array_equal(eight[1], crops[0][:, ::-1]) and np.array_equal(eight[4], np.rot90(crops[0]))
    assert len({v.tobytes() for v in eight[:8]}) == 8  # eight different pictures of one cell
    with pytest.raises(ValueError):
        dihedral_views(crops, 3)
    # logits of a forward that sees orientation are averaged per crop, in any batch size
    forward = lambda x: np.stack([x[:, 0, 0, 0], x[:, 0, -1, 0]], axis=1)  # noqa: E731
    for batch in (1, 5, 64):
        averaged = view_logits(forward, crops, 4, batch)
        assert averaged.shape == (3, 2)
        assert np.allclose(averaged[1], forward(dihedral_views(crops[1:2], 4)).mean(axis=0))
