"""Small hand-made cells and datasets for the evaluation tests.

Cells are axis-aligned squares on whole pixels, so every mask IoU equals the box
IoU and can be worked out by hand in the test (pixel (c, r) covers [c, c+1)).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source


def cell(x: float, y: float, size: float, name: str, score: float | None = None, **extra) -> Instance:
    """A square cell with top-left corner (x, y); a score makes it a model prediction."""
    source = Source.HUMAN if score is None else Source.MODEL
    return Instance([rectangle(x, y, x + size, y + size)], name, score=score, source=source, **extra)


def image(name: str, cells: list[Instance] | None = None, size: int = 100, label: str | None = None) -> ImageAnnotation:
    return ImageAnnotation(name, size, size, list(cells or []), image_label=label)


def dataset(*images: ImageAnnotation, classes: ClassCatalogue | None = None) -> Dataset:
    return Dataset(list(images), classes or ClassCatalogue.pbc())


@pytest.fixture
def make() -> SimpleNamespace:
    return SimpleNamespace(cell=cell, image=image, dataset=dataset)
