"""Evaluation: the figures of Atıcı & Koçer 2023 (Tables 4 and 5) for any model and data.

Reads core objects (or report files), never the model or Qt. Entry points:
``evaluate(gt, pred) -> report dict``, ``write_report(report, folder)``,
``load_report(folder)``, ``compare_reports(reports)``, ``summary_for_model_json(report)``,
``load_predictions(path, gt)`` (a predictions file, unknown images reported and left out).
Definitions of every figure: docs/evaluation.md.
"""

from bloodview.evaluation.compare import compare_reports
from bloodview.evaluation.evaluate import evaluate
from bloodview.evaluation.predictions_file import load_predictions
from bloodview.evaluation.reports import load_report, summary_for_model_json, write_report

__all__ = [
    "compare_reports",
    "evaluate",
    "load_predictions",
    "load_report",
    "summary_for_model_json",
    "write_report",
]
