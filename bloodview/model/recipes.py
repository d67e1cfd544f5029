"""Fine-tuning recipes: ``train --init`` with no schedule chooses one sized to the images.

Why: a lab adapting the model to its own stain has tens of corrected images and a lab PC's
CPU. Inheriting the init model's schedule (the default model: 3 x 280 steps of 4 images,
~24 minutes) spends most of that time re-reading the same few images. The *adapt* recipe
instead sees each training image a fixed number of times (``IMAGE_PASSES``), within a step
range that keeps tiny sets learning and big sets within a coffee break, and splits the steps
into short epochs so a checkpoint (and the GUI's progress) comes every minute or so.

The numbers come from ``benchmarks/adaptation.py`` on Zheng Dataset 1 (another lab's crops)
and are recorded with the figures in docs/adaptation.md; change them there and here together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

ADAPT = "adapt"
INHERIT = "inherit"
RECIPES = (ADAPT, INHERIT)

IMAGE_PASSES = 16  # each training image is seen about this often (flips/rotations differ each time)
MIN_STEPS = 60  # even 5 images get enough steps for the heads to move
MAX_STEPS = 600  # ~12 minutes at batch 4 on the 2-core CPU (1.1 s per step measured): N=100 lab images + 100 rehearsal; at 400 they got 8 passes and scored below N=50
STEPS_PER_EPOCH = 50  # a checkpoint and a progress point about every minute
LEARNING_RATE = 1e-4  # the default model's own fine-tuning rate
# Keep the backbone's BatchNorm statistics as the init model learnt them. Measured on 50 Zheng
# + 50 PBC images, 200 steps: with them updating (momentum 0.9) PBC val fell 0.975 -> 0.775;
# frozen, 0.908, while the new lab's accuracy stayed close (0.718 -> 0.758).
FREEZE_BACKBONE_STATISTICS = {"train_backbone_bn": False}


@dataclass(frozen=True)
class Recipe:
    """A schedule (and config changes) for one training run, with the reason in words."""

    name: str
    epochs: int
    steps_per_epoch: int
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    def config_changes(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "steps_per_epoch": self.steps_per_epoch, **self.overrides}

    def describe(self, images: int, batch_size: int) -> str:
        passes = self.steps * batch_size / max(1, images)
        return (f"{self.name} recipe: {images} training images -> {self.epochs} x {self.steps_per_epoch} steps "
                f"of {batch_size} images (each image seen ~{passes:.0f} times)")


def adaptation_recipe(images: int, batch_size: int) -> Recipe:
    """The schedule for fine-tuning on ``images`` training images at ``batch_size`` per step."""
    if images < 1 or batch_size < 1:
        raise ValueError(f"need at least one image and a batch of one (got {images} images, batch {batch_size})")
    steps = min(MAX_STEPS, max(MIN_STEPS, math.ceil(images * IMAGE_PASSES / batch_size)))
    epochs = math.ceil(steps / STEPS_PER_EPOCH)
    return Recipe(ADAPT, epochs, math.ceil(steps / epochs), {"learning_rate": LEARNING_RATE, **FREEZE_BACKBONE_STATISTICS})


def wants_adaptation(recipe: str | None, init_given: bool, schedule_given: bool, resume: bool) -> bool:
    """``--recipe adapt`` always; with no ``--recipe``, a fine-tune (``--init``) with no schedule of its own."""
    if resume:
        return False  # a resumed run keeps the schedule it started with (its checkpointed config)
    if recipe is not None:
        if recipe not in RECIPES:
            raise ValueError(f"unknown recipe {recipe!r} (choose {', '.join(RECIPES)})")
        return recipe == ADAPT
    return init_given and not schedule_given
