"""The differential count a haematologist reads off a smear."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import ClassCatalogue

# Non-white classes that labs still report per 100 white cells: nucleated red cells (NRBC).
# Platelets and project classes such as BCCD's "rbc" are not counted that way.
PER_100_WHITE_NON_WHITE = frozenset({"erythroblast"})


@dataclass(frozen=True)
class DifferentialRow:
    class_name: str
    display_name: str
    count: int
    percent_of_all: float
    per_100_white: float | None  # None for classes not reported per 100 white cells (platelets)


@dataclass(frozen=True)
class DifferentialCount:
    rows: tuple[DifferentialRow, ...]
    total: int
    white_total: int

    def row(self, class_name: str) -> DifferentialRow:
        return next(r for r in self.rows if r.class_name == class_name)


def differential_count(
    images: Iterable[ImageAnnotation], classes: ClassCatalogue, min_score: float | None = None
) -> DifferentialCount:
    """Count cells per class over ``images``.

    ``percent_of_all`` is over every counted cell; ``per_100_white`` follows lab
    practice: white cells as a percentage of all white cells, erythroblasts (NRBC)
    as "per 100 white cells" (count / white total x 100), and ``None`` for other
    classes (platelets are estimated per field, not per white cell). Instances with
    a model score below ``min_score`` are left out (they are "unidentified").
    """
    counts = {c.name: 0 for c in classes}
    for image in images:
        for instance in image.instances:
            if min_score is not None and instance.score is not None and instance.score < min_score:
                continue
            if instance.class_name in counts:
                counts[instance.class_name] += 1
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
            )
        )
    return DifferentialCount(tuple(rows), total, white_total)
