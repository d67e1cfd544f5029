"""The image scale in the editor: status bar text, the project's pixel size, the scale each detection used.

The scale in use for an image is, in order: the project's pixel size setting
(``settings["pixel_size_um"]``, Model → Pixel size…), else the scale recorded on
the image by its last detection (given / measured on its red cells / the
model's default when it found none), else unknown. Detection passes the
project's pixel size (or one an imported file gave the image) to the model and
records the scale the model read the image at on its :class:`ImageAnnotation`
(a project change: unsaved until saved, not an undo step).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtWidgets import QLabel

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.measure import SOURCE_GIVEN, PixelSize
from bloodview.io.project import PIXEL_SIZE_SETTING, project_pixel_size

if TYPE_CHECKING:
    from bloodview.gui.main_window import MainWindow

UNKNOWN_TEXT = "Scale: unknown (Model → Pixel size…)"


class ScaleActions:
    def __init__(self, window: MainWindow):
        self.window = window
        self.label = QLabel()
        self.label.setObjectName("scaleLabel")
        window.statusBar().insertPermanentWidget(1, self.label)  # after the message (0), before the progress bar
        self.dialog = None
        window.acts["pixel_size"].triggered.connect(self.ask)

    # --- what is in use -------------------------------------------------------------------
    def project_pixel_size(self) -> float | None:
        return project_pixel_size(self.window.session.settings)

    def in_use(self, image: ImageAnnotation | None) -> PixelSize | None:
        """The scale ``image`` is read at: the project's pixel size, else its last detection's."""
        given = self.project_pixel_size()
        if given is not None:
            return PixelSize(given, SOURCE_GIVEN)
        return None if image is None else image.pixel_size

    def job_pixel_size(self, image: ImageAnnotation) -> float | None:
        """µm per pixel to pass to the model for ``image`` (``None``: let it measure the red cells)."""
        scale = self.in_use(image)
        return scale.um_per_pixel if scale is not None and scale.source == SOURCE_GIVEN else None

    def refresh(self) -> None:
        image = self.window.session.current_image
        scale = self.in_use(image)
        self.label.setText("" if image is None else UNKNOWN_TEXT if scale is None else f"Scale {scale.describe()}")
        tip = ("µm per pixel of this image: used to bring it to the model's magnification and to give "
               "cell sizes in µm.\nA scale-aware model measures it on the red cells when it detects cells; "
               "set a known pixel size with Model → Pixel size…")
        self.label.setToolTip(tip)

    # --- detection results -------------------------------------------------------------------
    def record(self, index: int, scale: PixelSize) -> None:
        """The scale detection read image ``index`` at, kept on the image (saved with the project)."""
        self.window.session.dataset.images[index].set_pixel_size(scale)

    # --- the project's setting ---------------------------------------------------------------
    def ask(self) -> None:
        from bloodview.gui.dialogs.pixel_size_dialog import PixelSizeDialog

        dialog = PixelSizeDialog(self.project_pixel_size(), self.window)
        dialog.accepted.connect(lambda: self.set_project_pixel_size(dialog.pixel_size()))
        self.dialog = dialog
        dialog.open()

    def set_project_pixel_size(self, value: float | None) -> None:
        """Set (µm) or clear (``None``: auto) the project's pixel size: an unsaved project change.

        Images read at the old project value lose that record (it no longer holds):
        they show the new value, or are measured again at their next detection.
        """
        old = self.project_pixel_size()
        if value == old:
            return
        if old is not None:
            for image in self.window.session.dataset.images:
                if image.pixel_size == PixelSize(old, SOURCE_GIVEN):
                    image.set_pixel_size(None)
        self.window.session.set_setting(PIXEL_SIZE_SETTING, value)
        dialog = getattr(getattr(self.window, "models", None), "retrain_dialog", None)
        if dialog is not None:  # an open Retrain dialog passes it to the trainer and stops asking for it
            dialog.set_pixel_size(value)
        self.window.show_status("Pixel size: " + (f"{value:g} µm per pixel for every image" if value
                                                  else "auto, measured on each image's red cells at detection"))
        self.window.schedule_refresh()
