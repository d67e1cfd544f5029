"""Stain augmentation: another lab's look, same cells."""

from __future__ import annotations

import numpy as np

from bloodview.model.stain_augment import glass_colour, stain_jitter


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
