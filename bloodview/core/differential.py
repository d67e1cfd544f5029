"""The differential count a haematologist reads off a smear.

Denominators, as a lab report states them:

* white cells (the differential proper): % of all counted white cells;
* erythroblasts (NRBC): per 100 white cells, never inside the white-cell 100 %;
* platelets, red cells and other non-white project classes: a count only.

Beside the rows, the lab figures of a smear: how many fields (images) the count
rests on, red cells and platelets counted, and the platelet estimate labs use to
confirm an analyser's count: platelets per field (mean) and per 1,000 red cells
(only when red cells were counted; a project without a red-cell class has none).

Each row also says how many of its cells a person checked (drew, corrected or
confirmed) and how many are unchecked, by origin (a model's call, the classical
segmenter's outline, a cell imported from a file: :func:`review_rules.origin`), so a
report can say what a person vouched for and where the rest came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance
from bloodview.core.review_rules import ORIGINS, is_checked, is_unidentified, origin

_ORDER = (*ORIGINS, "person")  # "person": only when no ``checked`` rule was given

# Non-white classes that labs still report per 100 white cells: nucleated red cells (NRBC).
# Platelets and red cells (BCCD's "rbc") are not counted that way.
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
    unchecked_by_origin: tuple[tuple[str, int], ...] = ()  # (origin, cells), non-zero ones, in report order

    @property
    def unchecked(self) -> int:
        """Cells of this class that no person has checked yet (model, segmenter or imported)."""
        return self.count - self.checked

    def unchecked_from(self, origin_name: str) -> int:
        """Unchecked cells of this class that came from ``origin_name`` (``"model"``, ...)."""
        return dict(self.unchecked_by_origin).get(origin_name, 0)

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
    fields: int = 0  # images holding at least one counted cell: what the figures rest on
    red_cells: int = 0
    platelets: int = 0

    @property
    def platelets_per_field(self) -> float | None:
        """Mean platelets per field; ``None`` without a field to average over."""
        return self.platelets / self.fields if self.fields else None

    @property
    def platelets_per_1000_red_cells(self) -> float | None:
        """Platelets per 1,000 red cells; ``None`` when no red cell was counted."""
        return 1000.0 * self.platelets / self.red_cells if self.red_cells else None

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

    @property
    def unchecked_origins(self) -> tuple[str, ...]:
        """The origins of the unchecked cells counted, in report order (empty when all are checked)."""
        present = {name for r in self.rows for name, _ in r.unchecked_by_origin}
        return tuple(name for name in _ORDER if name in present)

    def unchecked_from(self, origin_name: str, white_only: bool = False) -> int:
        """Unchecked cells from ``origin_name`` over all rows (or the white-cell rows)."""
        rows = self.white_rows if white_only else self.rows
        return sum(r.unchecked_from(origin_name) for r in rows)


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

    ``fields`` counts the images with at least one counted cell: an image nobody
    has detected or drawn cells in yet says nothing about its platelets, so it
    does not dilute the per-field mean. Red cells and platelets are the classes
    :attr:`CellClass.red_cell` and :attr:`CellClass.platelet` name so.
    """
    counts = {c.name: 0 for c in classes}
    checked_counts = dict.fromkeys(counts, 0)
    origins: dict[str, dict[str, int]] = {name: {} for name in counts}
    fields = 0
    for image in images:
        counted_here = False
        for instance in image.instances:
            if min_score is not None and instance.score is not None and instance.score < min_score:
                continue
            if instance.class_name in counts:
                counted_here = True
                counts[instance.class_name] += 1
                if checked is not None and checked(instance):
                    checked_counts[instance.class_name] += 1
                else:
                    made_by = origins[instance.class_name]
                    made_by[origin(instance)] = made_by.get(origin(instance), 0) + 1
        fields += int(counted_here)
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
                _in_order(origins[c.name]),
            )
        )
    return DifferentialCount(
        tuple(rows), total, white_total, sum(checked_counts.values()),
        sum(checked_counts[c.name] for c in classes if c.white_cell),
        fields,
        sum(counts[c.name] for c in classes if c.red_cell),
        sum(counts[c.name] for c in classes if c.platelet),
    )


def _in_order(by_origin: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple((name, by_origin[name]) for name in _ORDER if by_origin.get(name))


def unchecked_text(by_origin: Sequence[tuple[str, int]]) -> str:
    """Unchecked cells by origin in words: ``"5 model, 5 segmenter, 1 imported"``."""
    return ", ".join(f"{n} {name}" for name, n in by_origin)


def platelet_estimate_text(count: DifferentialCount) -> str:
    """The platelet estimate in words, as the panel and the report show it.

    ``"0.67 platelets per field, 13.3 per 1,000 red cells"``; without red cells the
    second figure says ``"no red cells counted"``, without fields it is ``"none (…)"``.
    """
    if not count.fields:
        return "none (no field with counted cells)"
    per_field = f"{count.platelets_per_field:.2f} platelets per field"
    per_red = count.platelets_per_1000_red_cells
    return f"{per_field}, " + (f"{per_red:.1f} per 1,000 red cells" if per_red is not None
                               else "no red cells counted")


def per_100_white_text(row: DifferentialRow, white_total: int, unit: str = "per 100 WBC") -> str:
    """A per-100-white-cells figure (NRBC) in words; with no white cell counted there is no such
    figure: ``"– (no white cells counted)"``, never ``0.0``, which would hide the erythroblasts."""
    if row.per_100_white is None:
        return "count only"
    if not white_total:
        return "– (no white cells counted)"
    return f"{row.per_100_white:.1f} {unit}"


@dataclass(frozen=True)
class ReviewTally:
    """How far the review of some images has got: what a report, the panel and ``bloodview count``
    must admit (one rule for all three, so they never disagree on DRAFT)."""

    images: int
    signed_off: int
    cells: int
    checked: int
    unidentified: int
    unchecked_by_origin: tuple[tuple[str, int], ...] = ()  # (origin, cells), as DifferentialRow's

    @property
    def unchecked(self) -> int:
        return self.cells - self.checked

    def cells_text(self) -> str:
        """``"22 cells: 11 checked by a person, 11 unchecked (5 model, 5 segmenter, 1 imported)"``,
        as the report's heading and ``bloodview count`` say it."""
        text = f"{self.cells} cells: {self.checked} checked by a person, {self.unchecked} unchecked"
        return text + (f" ({unchecked_text(self.unchecked_by_origin)})" if self.unchecked else "")

    @property
    def final(self) -> bool:
        """Every image signed off and every cell checked by a person."""
        return self.images > 0 and self.signed_off == self.images and self.unchecked == 0

    def draft_reason(self) -> str:
        """Why the count is not final yet (empty when it is)."""
        if self.final:
            return ""
        if not self.images:
            return "no images"
        parts = []
        if self.signed_off < self.images:
            parts.append(f"{self.images - self.signed_off} of {self.images} image(s) not signed off")
        if self.unchecked:
            unidentified = f", {self.unidentified} of them unidentified" if self.unidentified else ""
            parts.append(f"{self.unchecked} of {self.cells} cell(s) not checked by a person{unidentified}")
        return "; ".join(parts)


def review_tally(images: Sequence[ImageAnnotation], threshold: float) -> ReviewTally:
    """Images, sign-offs and cells (checked, unidentified at ``threshold``, unchecked by origin)
    of ``images``."""
    by_origin: dict[str, int] = {}
    for cell in (c for i in images for c in i.instances if not is_checked(c)):
        by_origin[origin(cell)] = by_origin.get(origin(cell), 0) + 1
    return ReviewTally(
        len(images),
        sum(bool(i.signed_off) for i in images),
        sum(len(i.instances) for i in images),
        sum(is_checked(c) for i in images for c in i.instances),
        sum(is_unidentified(c, threshold) for i in images for c in i.instances),
        _in_order(by_origin),
    )
