"""Current model vs new model on the held-out images: the table rows and a one-line verdict (Qt-free).

Both figures come from ``bloodview evaluate`` report folders (``report.json``,
see docs/evaluation.md), made on the same held-out images. Nothing is claimed
from fewer than :data:`MIN_HELD_OUT_CELLS` cells, and a difference counts only
when it is larger than about two standard errors of an accuracy measured on
that many cells (:func:`clear_margin`): on 12 cells one more right answer moves
accuracy by 0.08, which is noise, not a better model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from bloodview.evaluation.reference import lookup
from bloodview.evaluation.reports import load_report

MIN_HELD_OUT_CELLS = 5

# (report path, label, kind): "count" rows are shown, "judged" scores decide the verdict,
# "score" rows are shown only (mAP@0.5:0.95 moves with mAP@0.5; judging both would count it twice)
ROWS: tuple[tuple[str, str, str], ...] = (
    ("counts.images", "held-out images", "count"),
    ("counts.ground_truth_cells", "held-out cells", "count"),
    ("classification.accuracy", "classification accuracy", "judged"),
    ("mask.mAP50", "mask mAP@0.5", "judged"),
    ("mask.mAP50_95", "mask mAP@0.5:0.95", "score"),
)


def too_few_cells_text(cells: int) -> str:
    return (f"Too few held-out cells ({cells}) to compare the models; "
            "judge the new model on your own images.")


def clear_margin(cells: int) -> float:
    """Smallest difference taken as real: 1/sqrt(cells) (two standard errors of an accuracy at 0.5)."""
    return 1.0 / math.sqrt(max(cells, 1))


@dataclass(frozen=True)
class ComparisonRow:
    label: str
    current: float | None
    new: float | None
    kind: str  # "count", "judged" or "score" (see ROWS)

    @property
    def difference(self) -> float | None:
        if self.current is None or self.new is None:
            return None
        return self.new - self.current


@dataclass(frozen=True)
class Comparison:
    rows: list[ComparisonRow]
    cells: int
    verdict: str  # one line, with the numbers
    kind: str  # "better", "worse", "mixed", "same" (no clear difference), "new only"


def _figure(report: dict | None, path: str) -> float | None:
    if report is None:
        return None
    if path.startswith("counts."):
        value = (report.get("counts") or {}).get(path.split(".", 1)[1])
        return float(value) if isinstance(value, (int, float)) else None
    return lookup(report, path)


def compare(current_dir: Path | None, new_dir: Path) -> Comparison:
    """Read both reports (``current_dir`` None: no current model to compare) -> rows and verdict.

    Raises :class:`bloodview.errors.FormatError` when a report cannot be read.
    """
    current = load_report(current_dir) if current_dir is not None else None
    new = load_report(new_dir)
    rows = [ComparisonRow(label, _figure(current, path), _figure(new, path), kind)
            for path, label, kind in ROWS]
    cells = int(_figure(new, "counts.ground_truth_cells") or 0)
    kind, verdict = _verdict(rows, cells, current is not None)
    return Comparison(rows, cells, verdict, kind)


def _pair(row: ComparisonRow) -> str:
    if row.difference is None:
        return f"{row.label} {_number(row.new)}"
    return f"{row.label} {row.current:.2f} → {row.new:.2f} ({row.difference:+.2f})"


def _verdict(rows: list[ComparisonRow], cells: int, has_current: bool) -> tuple[str, str]:
    judged = [r for r in rows if r.kind == "judged" and r.new is not None]
    numbers = ", ".join(_pair(r) for r in judged) or "no figures"
    where = f"on {cells} held-out cells"
    if not has_current:
        return "new only", f"The new model {where}: {numbers} (no current model to compare with)."
    margin = clear_margin(cells)
    ups = [r for r in judged if r.difference is not None and r.difference > margin]
    downs = [r for r in judged if r.difference is not None and r.difference < -margin]
    if ups and not downs:
        return "better", f"The new model is better {where}: {numbers}."
    if downs and not ups:
        return "worse", f"The new model is worse {where}: {numbers}."
    if ups and downs:
        return "mixed", f"Mixed result {where}: {numbers}."
    return "same", (f"No clear difference {where} (differences under ±{margin:.2f} are noise "
                    f"on so few cells): {numbers}.")


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def format_value(row: ComparisonRow, value: float | None) -> str:
    """A table cell: counts as whole numbers, scores with 3 decimals, "—" when absent."""
    if value is None:
        return "—"
    return f"{value:.0f}" if row.kind == "count" else f"{value:.3f}"


def format_difference(row: ComparisonRow) -> str:
    difference = row.difference
    if difference is None:
        return "—"
    if row.kind == "count":
        return f"{difference:+.0f}" if difference else "0"
    return f"{difference:+.3f}"
