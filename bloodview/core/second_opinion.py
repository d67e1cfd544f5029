"""Two networks, one cell: where a model's cell classifier overruled its detector.

A model with a cell classifier (``bloodview/model/cell_classifier.py``) names each white cell
twice: the detector from the feature grid it pooled for the cell, the classifier from the cell's
own crop. The classifier's call is kept; the detector's is stored in ``extra["detector_class"]``.

Where the two disagree, is the call less safe than its score says? Measured with the stage-11
default model (2026-12-06), holding a disputed call back for review like a low score:

* PBC `val` (the training lab): the two agreed on 397 of the 420 white cells of interest, right
  98.2 % of the time; they disagreed on 23, right 70 %. Holding those back too caught 10 of the 14
  wrong calls instead of 8, for 34 of 466 right calls reviewed instead of 25.
* Zheng et al.'s crops (another lab): they disagreed on 176 of 300, and there the *agreed* calls
  were the wrong ones (right 18 %: both networks call its neutrophils eosinophils) against 61 % of
  the disputed. The counted cells would have fallen from 223 (98 right) to 98 (19 right).
* BCCD fields: 73 of 77 white-cell calls disputed (the detector was never taught BCCD's classes).

So the app does not hold disputed calls back (``bloodview.gui.review``); it shows the detector's
call in the cell's provenance, and ``bloodview evaluate`` reports how many wrong and right calls
were disputed, so a lab sees whether the disagreement means anything on its own images.

Over a whole run, though, the share of disputed white cells says how far the images are from the
ones the model learnt from, and that is worth telling the user (:class:`Agreement`). Measured
2026-12-07 (every white cell detected, the shipped model; ``/tmp`` script over
``benchmarks/field_data.py``'s sets): PBC ``val`` 35 of 443 disputed (7.9 %), Zheng's held-out crops
(another lab, classes 0.37 right) 89-93 of 147-155 (57-63 %), BCCD ``test`` fields 79 of 83 (95 %).
:data:`UNLIKE_TRAINING_SHARE` lies between the two. After Retrain on 25 / 100 of Zheng's corrected
crops (the adapt recipe: the classifier's last layer refitted, the detector fine-tuned and, from 50
images on, blended with the model it started from), the same held-out crops are 0.89-0.90 right but
still 18-25 % / 34-47 % disputed (and PBC ``val`` 52 % / 27 %): the two networks of an adapted model
were not taught together, so their disagreement no longer measures the images' distance from the
training images. The advice is therefore given only for a model whose cell classifier was trained
beside its detector (:func:`second_opinion_tells_distance`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bloodview.core.instance import Instance

UNLIKE_TRAINING_SHARE = 0.3
"""Share of disputed white cells from which a run's images are called unlike the model's training images."""
MIN_NAMED_CELLS = 10
"""White cells named by both networks needed before the share is trusted."""


def detector_disagrees(instance: Instance) -> bool:
    """True where the model's detector named this cell otherwise than the model's final call.

    The final call is the model's own (``extra["model_class"]`` once a person re-classified the
    cell), so a person's correction never makes a disagreement.
    """
    said = instance.extra.get("detector_class")
    named = instance.extra.get("model_class") or instance.class_name
    return bool(said) and str(said) != str(named)


ADAPTED_RECIPES = ("adapt", "adapt-last-layer")
"""Cell-classifier recipes of a model adapted to a lab (bloodview.model.classifier_adapt / classifier_replay)."""


def second_opinion_tells_distance(cell_classifier: dict | None) -> bool:
    """Whether a model's two networks disagreeing says its images are unlike its training images.

    ``cell_classifier``: the ``model.json`` entry (None: no classifier, one opinion only). True for a
    classifier trained on the detector's training data; False for one adapted to a lab (see above).
    """
    if not cell_classifier:
        return False
    return (cell_classifier.get("training") or {}).get("recipe") not in ADAPTED_RECIPES


@dataclass
class Agreement:
    """How often a model's two networks named a run's white cells alike (cells without a detector call
    — red cells, cells of a model without a cell classifier — are not counted)."""

    named: int = 0  # white cells named by both networks
    disputed: int = 0  # of those, named otherwise by the detector

    def add(self, instances: Iterable[Instance]) -> None:
        for instance in instances:
            if instance.extra.get("detector_class"):
                self.named += 1
                self.disputed += detector_disagrees(instance)

    @classmethod
    def total(cls, parts: Iterable[Agreement]) -> Agreement:
        """The counts of several images (or runs) together."""
        whole = cls()
        for part in parts:
            whole.named += part.named
            whole.disputed += part.disputed
        return whole

    @property
    def share(self) -> float:
        return self.disputed / self.named if self.named else 0.0

    def unlike_training(self) -> bool:
        """True when the images look unlike the model's training images to its own two networks."""
        return self.named >= MIN_NAMED_CELLS and self.share >= UNLIKE_TRAINING_SHARE

    def advice(self, how_to_adapt: str = "Model → Retrain…") -> str:
        """What the user should know and do, in a sentence or three (empty when nothing is amiss);
        ``how_to_adapt`` names the way to retrain where the user is (the app's menu, a command)."""
        if not self.unlike_training():
            return ""
        return (f"The model's detector and its cell classifier named {self.disputed} of {self.named} white cells "
                f"({self.share:.0%}) differently (the default model's two differ on about 1 in 12 white cells "
                "of images like its training images). These images' stain or camera is probably unlike its training images, and many of its "
                f"classes will be wrong: check them. After 10 to 25 corrected white cells, {how_to_adapt} "
                "adapts the model to your lab: its cell classes alone in seconds, its outlines too in minutes "
                "(docs/adaptation.md).")
