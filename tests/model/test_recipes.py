"""The adapt recipe: a fine-tuning schedule sized to the number of training images."""

from __future__ import annotations

import pytest

from bloodview.model.recipes import (
    ADAPT,
    IMAGE_PASSES,
    MAX_STEPS,
    MIN_STEPS,
    STEPS_PER_EPOCH,
    adaptation_recipe,
    wants_adaptation,
)


@pytest.mark.parametrize("images", [1, 5, 25, 50, 75, 100, 150, 1000])
def test_steps_follow_the_images_within_the_bounds_in_short_epochs(images):
    recipe = adaptation_recipe(images, batch_size=4)
    wanted = images * IMAGE_PASSES / 4
    assert MIN_STEPS <= recipe.steps <= MAX_STEPS + recipe.epochs  # rounding up per epoch adds < 1 step each
    if MIN_STEPS < wanted < MAX_STEPS:
        assert abs(recipe.steps - wanted) < recipe.epochs + 1
    assert recipe.steps_per_epoch <= STEPS_PER_EPOCH and recipe.name == ADAPT


def test_more_images_never_get_fewer_steps():
    steps = [adaptation_recipe(n, 4).steps for n in range(1, 400, 7)]
    assert steps == sorted(steps) and steps[0] == MIN_STEPS and steps[-1] >= MAX_STEPS


def test_the_recipe_changes_schedule_and_learning_rate_and_says_so():
    recipe = adaptation_recipe(50, 4)
    changes = recipe.config_changes()
    assert changes["epochs"] == recipe.epochs and changes["steps_per_epoch"] == recipe.steps_per_epoch
    assert 0 < changes["learning_rate"] < 1e-3 and changes["train_backbone_bn"] is False
    assert "50 training images" in recipe.describe(50, 4) and "seen ~16 times" in recipe.describe(50, 4)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="at least one image"):
        adaptation_recipe(0, 4)


@pytest.mark.parametrize("recipe, init, schedule, resume, adapt", [
    (None, True, False, False, True),     # train --init M: the adapt recipe
    (None, True, True, False, False),     # train --init M --epochs 3: the user's schedule
    (None, False, False, False, False),   # a new model: its own defaults
    ("adapt", False, True, False, True),  # asked for explicitly
    ("inherit", True, False, False, False),
    (None, True, False, True, False),     # --resume keeps the checkpointed schedule
])
def test_when_the_recipe_applies(recipe, init, schedule, resume, adapt):
    assert wants_adaptation(recipe, init, schedule, resume) is adapt


def test_an_unknown_recipe_is_refused():
    with pytest.raises(ValueError, match="unknown recipe"):
        wants_adaptation("fast", True, False, False)
