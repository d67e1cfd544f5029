"""Report files: report.json, report.md, confusion_matrix.csv/.png, precision_recall.png,
reliability.png.

confusion_matrix.csv is for a spreadsheet: UTF-8 with a byte-order mark, so Excel shows a
lab's non-ASCII class names right (:mod:`bloodview.io.spreadsheet_csv`).

Every file is written atomically (``bloodview.io.atomic``). ``load_report`` reads
report.json back (for ``--compare``); ``summary_for_model_json`` gives the small
dict the model store keeps in model.json.
"""

from __future__ import annotations

import csv
import io as _stdio
import json
from pathlib import Path

from bloodview.core.classes import ClassCatalogue
from bloodview.errors import FormatError
from bloodview.evaluation.markdown import number, render
from bloodview.evaluation.reference import lookup
from bloodview.evaluation.plots import confusion_image, png_bytes, pr_curve_image, reliability_image
from bloodview.io.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
from bloodview.io.spreadsheet_csv import write_spreadsheet_csv

REPORT_JSON = "report.json"
SUMMARY_KEYS = (
    "mask.mAP50", "mask.mAP70", "mask.mAP90", "mask.mAP50_95", "mask.mAR", "mask.F1",
    "box.mAP50", "box.mAP50_95", "box.mAR", "box.F1",
    "classification.accuracy", "classification.macro.f1", "classification.weighted.f1",
)


def confusion_csv(confusion: dict) -> str:
    """CSV text: header ``true\\predicted,<columns…>``, one line per row label."""
    buffer = _stdio.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["true\\predicted", *confusion["columns"]])
    for label, values in zip(confusion["rows"], confusion["matrix"]):
        writer.writerow([label, *values])
    return buffer.getvalue()


def _class_colors(report: dict) -> dict[str, tuple[int, int, int]]:
    """Each class's catalogue colour (the report's own catalogue, else the PBC one)."""
    items = report.get("classes")
    catalogue = ClassCatalogue.from_list(items) if items else ClassCatalogue.pbc()
    return {c.name: c.color for c in catalogue}


def write_report(report: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write all report files into ``out_dir`` (created if needed); return name -> path.

    Adds ``report["files"]`` (name -> what it holds) before writing report.json.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    blobs: dict[str, tuple[bytes | str, str]] = {}
    confusion = (report.get("classification") or {}).get("confusion_matrix")
    if confusion:
        blobs["confusion_matrix.csv"] = (confusion_csv(confusion), "confusion matrix, rows true, columns predicted")
        image = confusion_image(confusion["rows"], confusion["columns"], confusion["matrix"])
        blobs["confusion_matrix.png"] = (png_bytes(image), "confusion matrix as a picture")
    kind = "mask" if report.get("mask") else "box" if report.get("box") else None
    if kind:
        curve = report[kind]["pr_curve_iou50"]
        image = pr_curve_image(
            curve["recall"], curve["precision"], _class_colors(report),
            title=f"Precision-recall at IoU 0.5 ({kind})",
        )
        blobs["precision_recall.png"] = (png_bytes(image), f"{kind} precision-recall curves at IoU 0.5, per class")
    calibrated = report.get("calibration")
    if calibrated:
        image = reliability_image(calibrated["bins"], calibrated["threshold"], calibrated["ece"])
        blobs["reliability.png"] = (png_bytes(image), "reliability diagram: share right per score bin")
    report["files"] = {
        REPORT_JSON: "every figure, machine-readable",
        "report.md": "the paper's Tables 4 and 5 filled in",
        **{name: what for name, (_, what) in blobs.items()},
    }
    written = {REPORT_JSON: atomic_write_json(out / REPORT_JSON, report)}
    written["report.md"] = atomic_write_text(out / "report.md", _with_calibration(render(report), report))
    for name, (data, _) in blobs.items():
        path = out / name
        if isinstance(data, bytes):
            written[name] = atomic_write_bytes(path, data)
        elif name.endswith(".csv"):  # opened in a spreadsheet: UTF-8 with a BOM for Excel
            written[name] = write_spreadsheet_csv(path, data)
        else:
            written[name] = atomic_write_text(path, data)
    return written


def calibration_markdown(calibrated: dict) -> list[str]:
    """The report.md section on calibration: ECE and the calls below the review threshold."""
    threshold = calibrated["threshold"]

    def share(key: str) -> str:
        value = calibrated.get(key)
        return "—" if value is None else f"{100 * value:.1f} %"

    return [
        "## Calibration",
        "",
        f"Matched cells: {calibrated['cells']} ({calibrated['correct']} right, {calibrated['wrong']} wrong); "
        f"mean score {number(calibrated.get('mean_score'))}, share right {number(calibrated.get('accuracy'))}.",
        "",
        f"- expected calibration error (ECE): **{number(calibrated.get('ece'))}** (0 = a score of 0.9 is right "
        "9 times in 10)",
        f"- wrong calls below the review threshold {threshold:.2f}: **{share('wrong_below_threshold')}** "
        f"({calibrated['wrong_below_threshold_count']} of {calibrated['wrong']}; flagged for review, "
        "the others are counted unseen)",
        f"- right calls below the review threshold: {share('right_below_threshold')} "
        f"({calibrated['right_below_threshold_count']} of {calibrated['correct']}; reviewed needlessly)",
        *_disputed_lines(calibrated, share),
        "",
        "Reliability diagram: `reliability.png`.",
        "",
    ]


def _disputed_lines(calibrated: dict, share) -> list[str]:
    """How many wrong and right calls the model's detector disputed (named otherwise than its classifier)."""
    if not calibrated.get("disputed"):
        return []
    return [
        f"- calls the model's detector named otherwise than its cell classifier: {calibrated['disputed']}; "
        f"of the wrong calls **{share('wrong_disputed')}** ({calibrated['wrong_disputed_count']} of "
        f"{calibrated['wrong']}), of the right ones {share('right_disputed')} "
        f"({calibrated['right_disputed_count']} of {calibrated['correct']}) — where the first is much "
        "larger, a disagreement is worth a look (the app shows the detector's call with each cell)",
    ]


def _with_calibration(markdown: str, report: dict) -> str:
    """``markdown`` with the calibration section put before its file list (or at the end)."""
    calibrated = report.get("calibration")
    if not calibrated:
        return markdown
    section = "\n".join(calibration_markdown(calibrated)) + "\n"
    head, marker, tail = markdown.partition("## Files\n")
    return head + section + marker + tail if marker else markdown + "\n" + section


def load_report(path: str | Path) -> dict:
    """report.json from a report folder (or the file itself)."""
    path = Path(path)
    if path.is_dir():
        path = path / REPORT_JSON
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FormatError(path, "no evaluation report here (run `bloodview evaluate` first)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(path, f"not a readable report.json ({exc})") from None
    if not isinstance(report, dict) or "classification" not in report:
        raise FormatError(path, "not a bloodview evaluation report (no 'classification' section)")
    return report


def summary_for_model_json(report: dict) -> dict:
    """The headline figures for model.json: flat ``{"mask.mAP50": 0.91, …}`` plus context.

    Keys missing from the report (e.g. mask figures for box-only data) are left out.
    """
    figures = {key: lookup(report, key) for key in SUMMARY_KEYS}
    return {
        "evaluated": report.get("created"),
        "ground_truth": report.get("ground_truth"),
        "images": (report.get("counts") or {}).get("images"),
        "figures": {k: round(v, 4) for k, v in figures.items() if v is not None},
        "notes": list(report.get("notes", [])),
    }
