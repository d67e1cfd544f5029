"""Keep part of the starting model in a fine-tuned one: a weight-space blend (WiSE-FT).

Why: a lab adapting the model to its stain has only its own corrected images; the GUI has
none of the model's training data to rehearse. Fine-tuned on 50 of another lab's crops alone
(Zheng, detector and classifier, ``benchmarks/adaptation.py``), the default model named 0.85 of
the held-out crops right but PBC ``val`` fell from 0.98 to 0.68: it forgot the stain it was
made for. Averaging the fine-tuned weights with the starting ones, element by element
(Wortsman et al., *Robust fine-tuning of zero-shot models*, CVPR 2022), keeps most of the gain
and much of the old knowledge, because a fine-tune stays in the starting model's basin:

    share of the start kept   0      1/4    1/3    1/2
    held-out Zheng            0.852  0.866  0.852  0.785
    PBC val (120)             0.675  0.783  0.850  0.933

:data:`KEEP_START` = 1/3: the held-out accuracy of the plain fine-tune, PBC 0.85 instead of
0.68. Both networks are blended, detector and cell classifier, BatchNorm statistics included.
The classifier keeps the temperature its fine-tune fitted (calibration of the blend is not
refitted: noted in docs/adaptation.md).
"""

from __future__ import annotations

import logging
from pathlib import Path

from bloodview.model.weights_file import write_average_weights

log = logging.getLogger(__name__)

KEEP_START = 1.0 / 3.0
"""Share of the starting model's weights kept by the adapt recipe (``train --keep-start``)."""


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
