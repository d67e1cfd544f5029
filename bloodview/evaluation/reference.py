"""Published figures to print beside ours (Atıcı & Koçer 2023, Mask R-CNN, ResNet101 backbone).

Keys are report paths (``<section>.<metric>``); only the figures the paper states
for ResNet101 are here, nothing is filled in.
"""

from __future__ import annotations

PAPER_CITATION = "Atıcı & Koçer 2023, Mask R-CNN with ResNet101 on PBC"

PAPER_RESNET101: dict[str, float] = {
    "mask.mAP50": 0.914,
    "mask.mAP50_95": 0.851,
    "mask.mAR": 0.953,
    "classification.accuracy": 0.993,
}


def lookup(report: dict, path: str) -> float | None:
    """``report["mask"]["mAP50"]`` for ``path`` ``"mask.mAP50"``; ``None`` when absent."""
    node = report
    for part in path.split("."):
        if not isinstance(node, dict) or node.get(part) is None:
            return None
        node = node[part]
    return node if isinstance(node, (int, float)) else None
