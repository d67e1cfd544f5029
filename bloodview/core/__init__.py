"""The data model of bloodview: cell classes, instances, images, datasets, geometry.

Imports nothing of ours beyond ``bloodview.errors``; only NumPy, Shapely and OpenCV.
"""

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import PBC_CLASSES, CellClass, ClassCatalogue
from bloodview.core.differential import DifferentialCount, differential_count
from bloodview.core.instance import Instance, Source, new_instance_id

__all__ = [
    "PBC_CLASSES",
    "CellClass",
    "ClassCatalogue",
    "Dataset",
    "DifferentialCount",
    "ImageAnnotation",
    "Instance",
    "Source",
    "differential_count",
    "new_instance_id",
]
