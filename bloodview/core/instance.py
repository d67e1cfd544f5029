"""One annotated cell: its outline, class, and where it came from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from bloodview.core.geometry import as_polygon, polygon_area, polygons_bbox, polygons_to_mask


class Source(str, Enum):
    """Who made the outline: a model, the classical bootstrap segmenter, a person, or unknown.

    ``IMPORT`` is a cell read from a file that does not say who made it (another
    tool's COCO/VIA/LabelMe, VOC, YOLO, mask PNGs): it is not taken as checked by
    a person unless the user marked the import as reviewed (``reviewed=True``).
    """

    MODEL = "model"
    BOOTSTRAP = "bootstrap"
    HUMAN = "human"
    IMPORT = "import"


def new_instance_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(eq=False)
class Instance:
    """A single cell in one image.

    ``polygons`` holds one or more ``(N, 2)`` float arrays of ``(x, y)`` image pixel
    coordinates (a cell cut by an overlapping one may be in several parts).
    ``score`` is the model's confidence (``None`` for people); ``quality`` the
    bootstrap segmenter's confidence in the outline (0..1, ``None`` otherwise).
    ``box_only`` marks rectangles imported from box annotations (VOC/YOLO): their
    outline is the box, not the cell. ``origin`` names the model version or tool
    that made it; ``corrected`` is set when a person changed outline or class,
    ``reviewed`` when a person confirmed it.
    """

    polygons: list[np.ndarray]
    class_name: str
    score: float | None = None
    source: Source = Source.HUMAN
    reviewed: bool = False
    id: str = field(default_factory=new_instance_id)
    box_only: bool = False
    quality: float | None = None
    origin: str | None = None
    corrected: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.polygons, np.ndarray) and self.polygons.ndim == 2:
            self.polygons = [self.polygons]
        self.polygons = [as_polygon(p) for p in self.polygons]
        self.source = Source(self.source)
        if self.score is not None:
            self.score = float(self.score)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """``(x1, y1, x2, y2)`` in image pixels."""
        return polygons_bbox(self.polygons)

    @property
    def area(self) -> float:
        """Area in square pixels (sum over parts)."""
        return sum(polygon_area(p) for p in self.polygons)

    @property
    def centroid(self) -> tuple[float, float]:
        points = np.concatenate(self.polygons)
        return float(points[:, 0].mean()), float(points[:, 1].mean())

    def to_mask(self, height: int, width: int) -> np.ndarray:
        return polygons_to_mask(self.polygons, height, width)

    def copy(self, **changes: Any) -> Instance:
        """A deep copy (new arrays) with ``changes`` applied; the id is kept."""
        values = {
            "polygons": [p.copy() for p in self.polygons],
            "class_name": self.class_name,
            "score": self.score,
            "source": self.source,
            "reviewed": self.reviewed,
            "id": self.id,
            "box_only": self.box_only,
            "quality": self.quality,
            "origin": self.origin,
            "corrected": self.corrected,
            "extra": dict(self.extra),
        }
        values.update(changes)
        return Instance(**values)

    def same_as(self, other: Instance, atol: float = 1e-6) -> bool:
        """Equal class, provenance and outline (vertex for vertex within ``atol``)."""
        if (
            self.class_name != other.class_name
            or self.source != other.source
            or self.reviewed != other.reviewed
            or self.box_only != other.box_only
            or self.corrected != other.corrected
            or len(self.polygons) != len(other.polygons)
        ):
            return False
        if (self.score is None) != (other.score is None):
            return False
        if self.score is not None and abs(self.score - other.score) > 1e-6:
            return False
        return all(
            a.shape == b.shape and np.allclose(a, b, atol=atol)
            for a, b in zip(self.polygons, other.polygons)
        )

    def __repr__(self) -> str:
        x1, y1, x2, y2 = self.bbox
        score = "" if self.score is None else f" score={self.score:.2f}"
        return (
            f"Instance({self.class_name} id={self.id} {self.source.value}{score} "
            f"box=({x1:.0f},{y1:.0f},{x2:.0f},{y2:.0f}) reviewed={self.reviewed})"
        )
