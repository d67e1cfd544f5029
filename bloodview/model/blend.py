"""Keep part of the starting model in a fine-tuned one: a weight-space blend (WiSE-FT).

Why: a lab adapting the model to its stain has only its own corrected images; the GUI has
none of the model's training data to rehearse. Fine-tuned on another lab's crops alone (Zheng,
detector and classifier, ``benchmarks/adaptation.py``, 149 held out), the default model learnt
that lab and forgot the classes the lab's corrections did not show: after 100 crops PBC ``val``
fell from 0.98 to 0.56, immature granulocytes 1.00 -> 0.00, erythroblasts 0.93 -> 0.07,
eosinophils (few in Zheng) 1.00 -> 0.13: an adapted model that no longer flags the cells a
differential is read for. Averaging the fine-tuned weights with the starting ones, element by
element (Wortsman et al., *Robust fine-tuning of zero-shot models*, CVPR 2022), keeps most of
the gain and much of the old knowledge, because a fine-tune stays in the starting model's basin.
Held-out Zheng accuracy / PBC val (120 images), no rehearsal, one run each (2026-12-06):

    N Zheng crops     10            25            50            100
    fine-tune alone   0.631 / 0.942 0.819 / 0.867 0.852 / 0.675 0.919 / 0.558
    1/3 kept          0.584 / 0.950 0.718 / 0.950 0.852 / 0.850 0.872 / 0.833
    (at N = 50: 1/4 kept 0.866 / 0.783, 1/2 kept 0.785 / 0.933)

From :data:`BLEND_FROM_IMAGES` training images on, the adapt recipe keeps :data:`KEEP_START`
(after 100 crops: immature granulocytes 0.53, erythroblasts 0.47, eosinophils 0.73 instead of
0.00 / 0.07 / 0.13, for 0.05 of the new lab's accuracy); on fewer images the blend cost the new
lab more than it saved and is left off. ``train --keep-start`` chooses. The detector is blended,
BatchNorm statistics included, and the cell classifier where it was wholly fine-tuned (it keeps the
temperature its fine-tune fitted, not refitted for the blend). A classifier adapted in its last layer
beside its replayed training cells (bloodview.model.classifier_replay, the default since 2026-12-07)
keeps the old classes that way and is not blended: it kept PBC's immature granulocytes 15 of 15 after
100 Zheng crops, against 8 of 15 for the whole fine-tune blended.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bloodview.model.weights_file import write_average_weights

log = logging.getLogger(__name__)

KEEP_START = 1.0 / 3.0
"""Share of the starting model's weights kept by the adapt recipe (``train --keep-start``)."""
BLEND_FROM_IMAGES = 50
"""Fewer training images than this: no blend by default (it cost more of the new lab than it saved)."""


def default_keep_start(training_images: int) -> float:
    """The adapt recipe's share of the starting model for ``training_images`` images (module table)."""
    return KEEP_START if training_images >= BLEND_FROM_IMAGES else 0.0


def blend_with_start(tuned: str | Path, start: str | Path, keep_start: float) -> Path:
    """Rewrite the weights file ``tuned`` as ``(1 - keep_start) * tuned + keep_start * start``.

    ``start`` must be the same network (a :class:`~bloodview.errors.ModelError` otherwise). The
    tuned file's optimizer state is dropped (it belongs to the unblended weights).
    """
    if not 0.0 <= keep_start < 1.0:
        raise ValueError(f"the share of the starting model to keep must be in [0, 1), got {keep_start}")
    tuned = Path(tuned)
    if keep_start == 0.0:
        return tuned
    write_average_weights([tuned, Path(start)], tuned, shares=[1.0 - keep_start, keep_start], skip=("optimizer",))
    log.info("%s: blended with %s, %.0f %% of the starting weights kept", tuned, start, 100 * keep_start)
    return tuned
