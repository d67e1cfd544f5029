"""Drawing settings shared by every item on one canvas (one object, read at paint time).

Sizes ending in ``_px`` are screen (device) pixels; ``pixel`` is the size of one
screen pixel in image pixels at the current zoom, kept up to date by the view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PyQt6.QtGui import QColor, QGuiApplication

from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance
from bloodview.gui.review import is_unidentified

UNIDENTIFIED_COLOR = QColor(150, 150, 150)
FALLBACK_COLOR = QColor(200, 200, 200)
SELECTION_HALO = QColor(255, 255, 255)
HANDLE_FILL = QColor(255, 255, 255)
HANDLE_HOT = QColor(255, 196, 0)
HANDLE_EDGE = QColor(20, 20, 20)


LABEL_POINTS_BELOW_TEXT = 1.0
"""Cell tags are this much smaller than the application's text (8 pt at the usual 9 pt)."""
LABEL_MIN_POINTS = 8.0


def label_point_size() -> float:
    """The cell tags' font size: a point under the application font, 8 pt at least.

    A fixed 8 pt ignored a larger system font: a person who set 14 pt text to read the screen
    got 14 pt docks around 8 pt tags on the cells."""
    app = QGuiApplication.instance()
    points = app.font().pointSizeF() if app is not None else -1.0
    return max(LABEL_MIN_POINTS, points - LABEL_POINTS_BELOW_TEXT)


@dataclass
class CanvasStyle:
    """What every :class:`InstanceItem` needs to know to draw itself."""

    classes: ClassCatalogue = field(default_factory=ClassCatalogue.pbc)
    opacity: float = 0.35
    labels_visible: bool = False
    min_score: float | None = None
    pixel: float = 1.0
    moving: bool = False  # True while the view pans/zooms: cells drawn without antialiasing
    outline_px: float = 1.0  # 1 px cosmetic pens take Qt's fast antialiased path
    selected_outline_px: float = 2.5
    handle_px: float = 7.0
    label_point_size: float = field(default_factory=lambda: label_point_size())

    def class_color(self, class_name: str) -> QColor:
        if class_name in self.classes:
            return QColor(*self.classes[class_name].color)
        return QColor(FALLBACK_COLOR)

    def display_name(self, class_name: str) -> str:
        if class_name in self.classes:
            return self.classes[class_name].display_name
        return class_name

    def is_unidentified(self, instance: Instance) -> bool:
        """The review rule (:func:`bloodview.gui.review.is_unidentified`) at ``min_score``.

        A cell a person drew, corrected or confirmed is never unidentified, whatever
        its score; with no threshold set nothing is.
        """
        return self.min_score is not None and is_unidentified(instance, self.min_score)
