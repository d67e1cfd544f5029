"""The differential count a haematologist reads off a smear.

Denominators, as a lab report states them:

* white cells (the differential proper): % of all counted white cells;
* erythroblasts (NRBC): per 100 white cells, never inside the white-cell 100 %;
* platelets and other non-white project classes (BCCD's "rbc"): a count only.

Each row also says how many of its cells a person checked (drew, corrected or
confirmed) and how many are unchecked machine cells, so a report can say what a
person vouched for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance

# Non-white classes that labs still report per 100 white cells: nucleated red cells (NRBC).
# Platelets and project classes such as BCCD's "rbc" are not counted that way.
PER_100_WHITE_NON_WHITE = frozenset({"erythroblast"})


@dataclass(frozen=True)
class DifferentialRow:
    class_name: str
    display_name: str
    count: int
    percent_of_all: float  # share of every counted cell (kept for old callers; not a lab figure)
    per_100_white: float | None  # None for classes not reported per 100 white cells (platelets)
    checked: int = 0  # cells of this class a person checked
    white_cell: bool = False

    @property
    def unchecked(self) -> int:
        """Machine cells of this class that no person has checked yet."""
        return self.count - self.checked

    @property
    def percent_of_white(self) -> float | None:
        """The differential: % of all white cells, for white-cell classes only."""
        return self.per_100_white if self.white_cell else None


@dataclass(frozen=True)
class DifferentialCount:
    rows: tuple[DifferentialRow, ...]
    total: int
    white_total: int  # the denominator of every white-cell %
    checked_total: int = 0
    white_checked: int = 0

    def row(self, class_name: str) -> DifferentialRow:
        return next(r for r in self.rows if r.class_name == class_name)

    @property
    def white_rows(self) -> tuple[DifferentialRow, ...]:
        return tuple(r for r in self.rows if r.white_cell)

    @property
    def other_rows(self) -> tuple[DifferentialRow, ...]:
        """Non-white classes: NRBC (per 100 white cells), platelets and others (counts)."""
        return tuple(r for r in self.rows if not r.white_cell)

    @property
    def unchecked_total(self) -> int:
        return self.total - self.checked_total


def differential_count(
    images: Iterable[ImageAnnotation],
    classes: ClassCatalogue,
    min_score: float | None = None,
    checked: Callable[[Instance], bool] | None = None,
) -> DifferentialCount:
    """Count cells per class over ``images``.

    ``per_100_white`` follows lab practice: white cells as a percentage of all
    white cells, erythroblasts (NRBC) as "per 100 white cells" (count / white
    total x 100), and ``None`` for other classes (platelets are estimated per
    field, not per white cell). ``percent_of_all`` is over every counted cell.
    Instances with a model score below ``min_score`` are left out (they are
    "unidentified"). ``checked`` tells person-checked cells (counted in
    ``DifferentialRow.checked``); without it no cell counts as checked.
    """
    counts = {c.name: 0 for c in classes}
    checked_counts = dict.fromkeys(counts, 0)
    for image in images:
        for instance in image.instances:
            if min_score is not None and instance.score is not None and instance.score < min_score:
                continue
            if instance.class_name in counts:
                counts[instance.class_name] += 1
                if checked is not None and checked(instance):
                    checked_counts[instance.class_name] += 1
    total = sum(counts.values())
    white_total = sum(counts[c.name] for c in classes if c.white_cell)
    rows = []
    for c in classes:
        n = counts[c.name]
        per_white = c.white_cell or c.name in PER_100_WHITE_NON_WHITE
        rows.append(
            DifferentialRow(
                c.name,
                c.display_name,
                n,
                100.0 * n / total if total else 0.0,
                (100.0 * n / white_total if white_total else 0.0) if per_white else None,
                checked_counts[c.name],
                bool(c.white_cell),
            )
        )
    return DifferentialCount(
        tuple(rows), total, white_total, sum(checked_counts.values()),
        sum(checked_counts[c.name] for c in classes if c.white_cell),
    )
