"""Two networks, one cell: where a model's cell classifier overruled its detector.

A model with a cell classifier (``bloodview/model/cell_classifier.py``) names each white cell
twice: the detector from the feature grid it pooled for the cell, the classifier from the cell's
own crop. The classifier's call is kept; the detector's is stored in ``extra["detector_class"]``.

Where the two disagree, the call is much less safe than its score says. Measured on the 480 PBC
`val` images with the stage-11 default model (2026-12-06): the two agreed on 397 of the 420 white
cells of interest and the call was then right 98.2 % of the time; they disagreed on 23, right
only 70 % of the time, and those 23 held half of the 14 wrong calls, two of them scored above
the review threshold. On another lab's crops (Zheng et al.) they disagreed on 176 of 300. So a
lab's review treats a disagreement like a low score: the cell waits for a person
(``bloodview.gui.review.is_unidentified``), and ``bloodview evaluate`` reports what that catches.
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
