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
"""

from __future__ import annotations

from bloodview.core.instance import Instance


def detector_disagrees(instance: Instance) -> bool:
    """True where the model's detector named this cell otherwise than the model's final call.

    The final call is the model's own (``extra["model_class"]`` once a person re-classified the
    cell), so a person's correction never makes a disagreement.
    """
    said = instance.extra.get("detector_class")
    named = instance.extra.get("model_class") or instance.class_name
    return bool(said) and str(said) != str(named)
