"""The quick red-cell toggle (View → Show red cells, ``R``): hide the crowd, see the rest.

A BCCD-like field holds ten times more red cells than white cells and platelets;
their outlines cover the picture a technician reviews. The toggle hides every
red-cell class (:attr:`CellClass.red_cell`) through the class legend's
checkboxes, the one mechanism the canvas has for hiding classes
(:meth:`CanvasView.set_class_visible`), so legend, canvas and menu never disagree.

Until the user chooses, a field with more than :data:`CROWDED_RED_CELLS` red
cells opens with them hidden (the status bar says so and how to show them; the
first time also a note over the image) and sparser fields with them shown. Once the user toggles (menu, key, or the legend
checkbox of a red-cell class) the choice holds for every image and is kept in
the settings under :data:`SETTING_KEY` for the next session.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QSettings
from PyQt6.QtGui import QAction

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.gui.panels.class_legend import ClassLegendPanel

CROWDED_RED_CELLS = 60  # more red cells than this in one image: hidden until the user shows them
SETTING_KEY = "view/red_cells"  # "shown" / "hidden"; absent: by the crowding rule
SHOWN, HIDDEN = "shown", "hidden"


def crowded(image: ImageAnnotation | None, classes: ClassCatalogue) -> bool:
    """Whether ``image`` holds more than :data:`CROWDED_RED_CELLS` red cells."""
    if image is None:
        return False
    red = set(classes.red_cell_names)
    return sum(instance.class_name in red for instance in image.instances) > CROWDED_RED_CELLS


class RedCellToggle:
    """Keeps ``action`` (checkable), the legend's red-cell checkboxes and the setting in step."""

    def __init__(self, action: QAction, legend: ClassLegendPanel, settings: QSettings,
                 show_status: Callable[[str], None] = lambda _text: None,
                 notify: Callable[[str], None] | None = None):
        self.action = action
        self.legend = legend
        self.settings = settings
        self.show_status = show_status
        self.notify = notify or show_status  # over the image, once a session
        self._told = False
        self._classes = ClassCatalogue([])
        self._applying = False
        action.triggered.connect(self._chosen)
        legend.visibilityChanged.connect(self._legend_changed)

    @property
    def choice(self) -> str | None:
        """The user's remembered choice, ``"shown"``/``"hidden"``, or ``None`` (crowding rule)."""
        value = self.settings.value(SETTING_KEY)
        return value if value in (SHOWN, HIDDEN) else None

    def refresh(self, image: ImageAnnotation | None, classes: ClassCatalogue) -> None:
        """Apply the choice (or the crowding rule) to the image now shown."""
        self._classes = classes
        names = classes.red_cell_names
        self.action.setToolTip("Show or hide red cells (R)" if names else
                               "Show or hide red cells (R): this project has no red-cell class")
        if not names:
            self._set_checked(True)
            return
        choice = self.choice
        if choice is not None:
            self._apply(choice == SHOWN)
            return
        busy = crowded(image, classes)
        self._apply(not busy)
        if busy:
            count = sum(i.class_name in names for i in image.instances)
            tell = self.show_status if self._told else self.notify
            self._told = True
            tell(f"{count} red cells hidden in this crowded field: press R (View → Show red cells) to show them")

    def _chosen(self, visible: bool) -> None:
        if not self._classes.red_cell_names:
            self._set_checked(True)
            self.show_status("This project has no red-cell class (rbc, red cell, erythrocyte…) to hide")
            return
        self.settings.setValue(SETTING_KEY, SHOWN if visible else HIDDEN)
        self._apply(visible)
        self.show_status("Red cells shown" if visible else "Red cells hidden (R shows them)")

    def _legend_changed(self, name: str, _visible: bool) -> None:
        """A red-cell class ticked or unticked in the legend is a choice too."""
        if self._applying or name not in self._classes.red_cell_names:
            return
        hidden = set(self.legend.hidden_classes())
        visible = any(n not in hidden for n in self._classes.red_cell_names)
        self._set_checked(visible)
        self.settings.setValue(SETTING_KEY, SHOWN if visible else HIDDEN)

    def _apply(self, visible: bool) -> None:
        self._applying = True
        try:
            hidden = set(self.legend.hidden_classes())
            for name in self._classes.red_cell_names:
                if (name in hidden) == visible:
                    self.legend.set_class_visible(name, visible)  # the legend tells the canvas
        finally:
            self._applying = False
        self._set_checked(visible)

    def _set_checked(self, checked: bool) -> None:
        if self.action.isChecked() != checked:
            self.action.setChecked(checked)  # not `triggered`: no choice is recorded
