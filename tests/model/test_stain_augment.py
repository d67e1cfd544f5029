"""Stain augmentation: another lab's look, same cells."""

from __future__ import annotations

import numpy as np

import cv2

from bloodview.model.stain_augment import glass_colour, stain_jitter, tone_curves


def smear(glass=(250, 230, 205)) -> np.ndarray:
    image = np.empty((80, 80, 3), np.uint8)
    image[:] = glass
    image[20:60, 20:60] = (120, 60, 150)  # a purple nucleus
    return image


def test_zero_strength_leaves_the_image_untouched():
    image = smear()
    assert stain_jitter(image, np.random.default_rng(0), 0.0) is image


def test_glass_colour_is_the_background():
    np.testing.assert_allclose(glass_colour(smear((240, 250, 160))), (240, 250, 160))


def test_stains_vary_but_the_nucleus_stays_darker_than_the_glass():
    rng = np.random.default_rng(1)
    image = smear()
    changed = 0
    for _ in range(40):
        out = stain_jitter(image, rng, 0.3)
        assert out.shape == image.shape and out.dtype == np.uint8
        changed += not np.array_equal(out, image)
        nucleus, glass = out[30:50, 30:50].astype(float).mean(), out[:10, :10].astype(float).mean()
        assert nucleus < glass - 20, "the cell stays visible whatever the stain"
    assert 15 <= changed <= 39, "most images get a new stain, some keep their own"


def three_tone_smear() -> np.ndarray:
    image = smear()
    image[30:50, 30:50] = (200, 150, 190)  # pale pink cytoplasm inside the nucleus square
    return image


def test_tone_curves_change_colour_relations_but_keep_the_lightness_order():
    rng = np.random.default_rng(2)
    image = three_tone_smear()
    regions = {"glass": (slice(0, 10), slice(0, 10)), "nucleus": (slice(22, 28), slice(22, 28)),
               "cytoplasm": (slice(35, 45), slice(35, 45))}
    hues = set()
    for _ in range(30):
        out = tone_curves(image, rng, 0.3)
        assert out.shape == image.shape and out.dtype == np.uint8
        lightness = {name: cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[where][..., 0].mean() for name, where in regions.items()}
        assert lightness["nucleus"] < lightness["cytoplasm"] < lightness["glass"], "monotone curves keep the order"
        b_axis = cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[regions["cytoplasm"]][..., 2].mean()
        hues.add(round(float(b_axis) / 4))
    assert len(hues) >= 4, "the cytoplasm's colour must vary between draws, or the jitter teaches nothing"


def test_tone_curves_at_zero_strength_or_on_a_flat_image_change_nothing():
    rng = np.random.default_rng(3)
    image = three_tone_smear()
    assert tone_curves(image, rng, 0.0) is image
    flat = np.full((20, 20, 3), 128, np.uint8)
    out = tone_curves(flat, rng, 0.3)
    assert np.abs(out.astype(int) - 128).max() <= 2, "no contrast: nothing for a curve to bend"
