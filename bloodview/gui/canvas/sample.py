"""Stand-in cells for demos, tests and benchmarks of the canvas (no model needed).

:func:`box_cells` turns Pascal VOC boxes (e.g. BCCD) into elliptical outlines
inscribed in each box, marked ``source=bootstrap`` with ``box_only=False`` - they
are *drawings for exercising the editor*, not segmentations. :func:`grid_cells`
tiles ``n`` round cells over an image for speed measurements.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import RED_CELL_DISPLAY_NAME, ClassCatalogue
from bloodview.core.instance import Instance, Source

VOC_TO_CLASS = {"rbc": "rbc", "wbc": "neutrophil", "platelets": "platelet"}


def ellipse(x1: float, y1: float, x2: float, y2: float, vertices: int = 32) -> np.ndarray:
    """``(vertices, 2)`` points of the ellipse inscribed in a box ``(x1, y1, x2, y2)``."""
    t = np.linspace(0.0, 2.0 * np.pi, vertices, endpoint=False)
    cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def demo_catalogue() -> ClassCatalogue:
    """The PBC classes plus ``rbc`` (red cells are on every smear field)."""
    classes = ClassCatalogue.pbc()
    classes.add("rbc", RED_CELL_DISPLAY_NAME)
    return classes


def box_cells(xml_path: Path, seed: int = 0) -> list[Instance]:
    """Ellipses in the boxes of a VOC file; scores are random (seeded) for display tests."""
    rng = np.random.default_rng(seed)
    cells = []
    for obj in ET.parse(xml_path).getroot().iter("object"):
        name = VOC_TO_CLASS.get(obj.findtext("name", "").strip().lower())
        box = obj.find("bndbox")
        if name is None or box is None:
            continue
        x1, y1, x2, y2 = (float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        cells.append(
            Instance([ellipse(x1, y1, x2, y2)], name, score=float(rng.uniform(0.55, 1.0)),
                     source=Source.BOOTSTRAP, origin="box-ellipse")
        )
    return cells


def grid_cells(count: int, width: int, height: int, class_names: list[str], vertices: int = 32) -> list[Instance]:
    """``count`` round cells on a regular grid filling ``width x height``."""
    if count <= 0:
        return []
    columns = int(np.ceil(np.sqrt(count * width / height)))
    rows = int(np.ceil(count / columns))
    step_x, step_y = width / columns, height / rows
    radius = 0.42 * min(step_x, step_y)
    cells = []
    for k in range(count):
        cx = (k % columns + 0.5) * step_x
        cy = (k // columns + 0.5) * step_y
        polygon = ellipse(cx - radius, cy - radius, cx + radius, cy + radius, vertices)
        cells.append(Instance([polygon], class_names[k % len(class_names)], score=0.9, source=Source.MODEL))
    return cells


def bccd_field(bccd_root: Path, name: str = "BloodImage_00001") -> ImageAnnotation:
    """A BCCD field (640 x 480) with :func:`box_cells` outlines."""
    cells = box_cells(Path(bccd_root) / "Annotations" / f"{name}.xml")
    return ImageAnnotation(Path(bccd_root) / "JPEGImages" / f"{name}.jpg", 640, 480, cells)
