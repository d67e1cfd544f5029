"""report.md: the paper's Table 4 and Table 5 filled in from a report dict.

Pure text from the dict that ``evaluate`` returns (or a report.json read back), so
a report can be re-rendered without re-evaluating. Missing figures print as "—".
"""

from __future__ import annotations

from collections.abc import Sequence

from bloodview.evaluation.reference import PAPER_CITATION, PAPER_RESNET101

TABLE4_COLUMNS = (
    ("mAP50", "mAP@0.5"),
    ("mAP70", "mAP@0.7"),
    ("mAP90", "mAP@0.9"),
    ("mAP50_95", "mAP@0.5:0.95"),
    ("mAR", "mAR"),
    ("F1", "F1"),
    ("F1_50", "F1@0.5"),
)
TABLE5_COLUMNS = (
    ("accuracy", "Accuracy"),
    ("precision", "Precision"),
    ("recall", "Recall"),
    ("f1", "F1"),
    ("specificity", "Specificity"),
)


def number(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub Markdown table, first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def render(report: dict) -> str:
    """The whole report.md."""
    lines = ["# Evaluation report", ""]
    lines += _header(report)
    lines += _table4(report)
    lines += _table5(report)
    lines += _confusion(report)
    files = report.get("files")
    if files:
        lines += ["## Files", ""] + [f"- `{name}`: {what}" for name, what in files.items()] + [""]
    lines += ["Definitions of every figure: docs/evaluation.md.", ""]
    return "\n".join(lines)


def _header(report: dict) -> list[str]:
    counts = report.get("counts", {})
    lines = [f"- created: {report.get('created', '—')} (bloodview {report.get('bloodview_version', '?')})"]
    for key in ("ground_truth", "predictions", "model", "images_folder"):
        if report.get(key):
            lines.append(f"- {key.replace('_', ' ')}: `{report[key]}`")
    lines.append(
        f"- images: {counts.get('images', 0)} ({counts.get('labelled_images', 0)} with an image label only), "
        f"outlined ground-truth cells: {counts.get('ground_truth_cells', 0)}, predictions: {counts.get('predictions', 0)}"
    )
    settings = report.get("settings", {})
    lines.append(
        f"- matching IoU ≥ {settings.get('match_iou')}, min score {settings.get('min_score') or 'none'}"
    )
    lines.append("")
    for title, key in (("Notes", "notes"), ("Warnings", "warnings")):
        if report.get(key):
            lines += [f"**{title}**", ""] + [f"- {item}" for item in report[key]] + [""]
    return lines


def _table4(report: dict) -> list[str]:
    lines = ["## Table 4: segmentation (mask) and detection (box)", ""]
    header = ["", *(label for _, label in TABLE4_COLUMNS)]
    rows = []
    for kind in ("mask", "box"):
        section = report.get(kind)
        if section:
            rows.append([f"{kind} (this model)", *(number(section.get(k)) for k, _ in TABLE4_COLUMNS)])
        else:
            rows.append([f"{kind} (this model)", *("—" for _ in TABLE4_COLUMNS)])
    rows.append(
        ["mask (paper, ResNet101)", *(number(PAPER_RESNET101.get(f"mask.{k}")) for k, _ in TABLE4_COLUMNS)]
    )
    lines += table(header, rows)
    lines += [
        "",
        "mAP@t: COCO average precision at IoU t; mAP@0.5:0.95 and mAR (100 detections, all sizes) "
        "averaged over IoU 0.50–0.95; F1 = 2·mAP·mAR/(mAP+mAR) from those two; F1@0.5 from mAP@0.5 "
        f"and the recall at IoU 0.5. Paper figures: {PAPER_CITATION}.",
        "",
    ]
    for kind in ("mask", "box"):
        section = report.get(kind)
        if not section:
            continue
        lines += [f"### Per class ({kind}, {section.get('images', 0)} images)", ""]
        rows = [
            [name, *(number(figures.get(k)) for k, _ in TABLE4_COLUMNS)]
            for name, figures in section.get("per_class", {}).items()
            if figures.get("mAP50") is not None
        ]
        lines += table(["class", *(label for _, label in TABLE4_COLUMNS)], rows) + [""]
    return lines


def _table5(report: dict) -> list[str]:
    cls = report.get("classification") or {}
    lines = ["## Table 5: classification", ""]
    header = ["class", *(label for _, label in TABLE5_COLUMNS), "Support"]
    rows = [
        [name, *(number(m.get(k)) for k, _ in TABLE5_COLUMNS), number(m.get("support"))]
        for name, m in cls.get("per_class", {}).items()
    ]
    for average in ("macro", "weighted"):
        figures = cls.get(average, {})
        rows.append([f"*{average} average*", *(number(figures.get(k)) for k, _ in TABLE5_COLUMNS), ""])
    lines += table(header, rows)
    lines += [
        "",
        f"Overall accuracy: **{number(cls.get('accuracy'))}** "
        f"(paper, ResNet101: {number(PAPER_RESNET101['classification.accuracy'])}); "
        f"accuracy on matched cells only: {number(cls.get('accuracy_matched'))}. "
        f"Ground-truth cells {cls.get('ground_truth', 0)}: matched {cls.get('matched', 0)}, "
        f"missed {cls.get('missed', 0)}; spurious predictions {cls.get('spurious', 0)}.",
        "",
    ]
    return lines


def _confusion(report: dict) -> list[str]:
    confusion = (report.get("classification") or {}).get("confusion_matrix")
    if not confusion:
        return []
    lines = ["## Confusion matrix", "", "Rows: true class; columns: predicted class.", ""]
    rows = [[label, *(str(v) for v in values)] for label, values in zip(confusion["rows"], confusion["matrix"])]
    lines += table(["true \\ predicted", *confusion["columns"]], rows) + [""]
    return lines
