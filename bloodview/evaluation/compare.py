"""Side-by-side table of several evaluation reports (one row per model), in Markdown.

One row per report (its folder name and the model or predictions file it
evaluated), in the order given, then the paper's ResNet101 row for reference. A report
without a figure (e.g. masks on box-only data) shows "—". Reports evaluated on
different ground truth are flagged under the table, since their figures are not
comparable.
"""

from __future__ import annotations

from collections.abc import Sequence

from bloodview.evaluation.markdown import number, table
from bloodview.evaluation.reference import PAPER_CITATION, PAPER_RESNET101, lookup

COLUMNS: tuple[tuple[str, str], ...] = (
    ("mask.mAP50", "mask mAP@0.5"),
    ("mask.mAP70", "mask mAP@0.7"),
    ("mask.mAP90", "mask mAP@0.9"),
    ("mask.mAP50_95", "mask mAP@0.5:0.95"),
    ("mask.mAR", "mask mAR"),
    ("mask.F1", "mask F1"),
    ("box.mAP50", "box mAP@0.5"),
    ("box.mAP50_95", "box mAP@0.5:0.95"),
    ("classification.accuracy", "accuracy"),
    ("classification.macro.f1", "macro F1"),
)


def model_name(report: dict) -> str:
    """The model folder's name, or the predictions file's, or "—"."""
    source = report.get("model") or report.get("predictions")
    if not source:
        return "—"
    return str(source).rstrip("/").replace("\\", "/").split("/")[-1]


def compare_reports(reports: Sequence[tuple[str, dict]]) -> str:
    """Markdown comparing ``(name, report)`` pairs (name: e.g. the report folder), plus the paper's row."""
    header = ["report", "model", "images", *(label for _, label in COLUMNS)]
    rows = [
        [name, model_name(report), number((report.get("counts") or {}).get("images")),
         *(number(lookup(report, key)) for key, _ in COLUMNS)]
        for name, report in reports
    ]
    rows.append(["paper", "ResNet101", "—", *(number(PAPER_RESNET101.get(key)) for key, _ in COLUMNS)])
    lines = ["# Model comparison", ""] + table(header, rows) + ["", f"Paper figures: {PAPER_CITATION}."]
    sources = {str(report.get("ground_truth")) for _, report in reports}
    if len(sources) > 1:
        lines += ["", "**Not comparable:** these reports were made on different ground truth: "
                  + ", ".join(f"`{s}`" for s in sorted(sources)) + "."]
    return "\n".join(lines) + "\n"
