"""An image's pixel size as recorded on its annotation, and cell sizes in µm.

:class:`PixelSize` is what an :class:`~bloodview.core.annotation.ImageAnnotation`
keeps: µm per pixel and where that figure came from, so a cell's area (px²) can
be given in µm² and its equivalent diameter in µm. The estimate itself is made
by :mod:`bloodview.core.scale` (from the red cells); this module only records
and uses it.

Sources, in order of trust: ``"given"`` (the user's calibrated pixel size),
``"red cells"`` (measured on the image), ``"same camera"`` (measured on the red cells of the
other images of the same size in the same run, where the image's own gave none:
:mod:`bloodview.core.camera_scale`), ``"white cell"`` (a crop of one white
cell without usable red cells, sized by assuming a typical white cell:
:mod:`bloodview.core.white_cell_scale`), ``"model default"`` (neither found: the
model's training pixel size, a guess), ``None`` (unknown origin, e.g. another
tool's file).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

SOURCE_GIVEN = "given"
SOURCE_RED_CELLS = "red cells"
SOURCE_WHITE_CELL = "white cell"
SOURCE_MODEL_DEFAULT = "model default"
SOURCE_SAME_CAMERA = "same camera"
SOURCES = (SOURCE_GIVEN, SOURCE_RED_CELLS, SOURCE_SAME_CAMERA, SOURCE_WHITE_CELL, SOURCE_MODEL_DEFAULT)
GUESSED_SOURCES = (SOURCE_WHITE_CELL, SOURCE_MODEL_DEFAULT)
"""Pixel sizes that rest on an assumption about the cells (a white cell's typical size) or on
none: good enough to read the image at the model's scale, never to size its cells in µm."""


@dataclass(frozen=True)
class PixelSize:
    """µm per image pixel and what it rests on (``cells_measured``: red cells, 0 unless measured)."""

    um_per_pixel: float
    source: str | None = None
    cells_measured: int = 0

    def __post_init__(self) -> None:
        value = float(self.um_per_pixel)
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"a pixel size must be a positive number of µm, got {self.um_per_pixel!r}")
        object.__setattr__(self, "um_per_pixel", value)
        object.__setattr__(self, "cells_measured", int(self.cells_measured or 0))
        if self.source is not None and self.source not in SOURCES:
            raise ValueError(f"unknown pixel size source {self.source!r} (one of {', '.join(SOURCES)})")

    @classmethod
    def from_estimate(cls, estimate: Any) -> PixelSize:
        """From a :class:`bloodview.core.scale.ScaleEstimate` (or anything with the same fields)."""
        source = estimate.source if estimate.source in SOURCES else None
        return cls(estimate.um_per_pixel, source, int(getattr(estimate, "cells_measured", 0) or 0))

    @property
    def measured(self) -> bool:
        """True unless it is a guess (``"model default"``, ``"white cell"``): fit to size cells or train on.

        A crop sized from its white cell would give that cell back its assumed 12.5 µm.
        """
        return self.source not in GUESSED_SOURCES

    def describe(self) -> str:
        """``"0.109 µm/px (red cells, 41 measured)"``, ``"… (given)"``, ``"… (model default — no red cells found)"``."""
        if self.source == SOURCE_RED_CELLS:
            why = f"red cells, {self.cells_measured} measured"
        elif self.source == SOURCE_SAME_CAMERA:
            why = f"same camera — no red cells of its own; {self.cells_measured} measured on images of its size"
        elif self.source == SOURCE_WHITE_CELL:
            why = "from the white cell's size — no red cells found; a rough guess"
        elif self.source == SOURCE_MODEL_DEFAULT:
            why = "model default — no red cells found"
        else:
            why = self.source or "source unknown"
        return f"{self.um_per_pixel:.3g} µm/px ({why})"

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"um_per_pixel": round(self.um_per_pixel, 6), "source": self.source}
        if self.cells_measured:
            record["cells_measured"] = self.cells_measured
        return record

    @classmethod
    def from_dict(cls, record: Any) -> PixelSize:
        """Raises ``ValueError``/``TypeError``/``KeyError`` on a damaged record (the reader names the file)."""
        if not isinstance(record, dict):
            raise TypeError(f"a pixel size record must be an object, got {record!r}")
        return cls(record["um_per_pixel"], record.get("source"), record.get("cells_measured") or 0)


@dataclass(frozen=True)
class CellSize:
    """A cell's area in µm² and the diameter in µm of the disc with that area."""

    area_um2: float
    diameter_um: float


def cell_size(area_px: float, um_per_pixel: float) -> CellSize:
    """Size of a cell whose outline covers ``area_px`` pixels² at ``um_per_pixel`` µm per pixel."""
    area = max(0.0, float(area_px)) * float(um_per_pixel) ** 2
    return CellSize(area, 2.0 * math.sqrt(area / math.pi))


def parse_pixel_size(value: Any) -> float | None:
    """A pixel size setting as typed or stored: a positive number, or ``None``/``"auto"``/0 for "estimate".

    Raises ``ValueError`` with a sentence a user can act on.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"the pixel size must be a number of µm per pixel or 'auto', got {value!r}") from None
    if number == 0:
        return None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"the pixel size must be a positive number of µm per pixel, got {value!r}")
    return number
