"""The Retrain dialog's pixel-size check before Start: which training images the cell classifier cannot
learn from for want of a pixel size, and the row that gives them one.

Kept apart from :mod:`bloodview.gui.dialogs.retrain_dialog` (which sets a retrain up and runs the
trainer) because it is its own job: the cell classifier reads each cell at a known µm per pixel, and a
lab's crops of one cell have no red cells to measure it on, so without a size given here a retrain
ends without a classifier. More than :data:`INLINE_MEASURES` images to measure are measured off the
GUI thread (:class:`~bloodview.gui.workers.scale_check.ScaleChecker`; 300 BCCD fields held the window
up 5.8 s when measured in place).
"""

from __future__ import annotations

from bloodview.core.measure import SOURCE_GIVEN, PixelSize
from bloodview.gui.dialogs.retrain_choices import classifier_class_names
from bloodview.gui.training_scale import ScaleCheck, check_scales, unmeasured_files

INLINE_MEASURES = 4  # images measured for their pixel size on the GUI thread at most (≤ 0.2 s); more: ScaleChecker


class ScaleBeforeStart:
    """Mixed into :class:`RetrainDialog`, whose attributes it uses: ``dataset``, ``pixel_size``,
    ``current_model``, ``start_from``, ``classifier``, ``scale_spin``, ``scale_checker``, ``eta``,
    ``_unscaled``, ``is_busy`` and ``_update_summary``."""

    def set_pixel_size(self, pixel_size: float | None) -> None:
        """The project's pixel size changed (Model → Pixel size…): passed to the trainer from now on."""
        self.pixel_size = pixel_size
        if not self.is_busy():
            self._update_summary()

    def give_pixel_size(self) -> None:
        """Give the reviewed images without a usable pixel size the one typed in (a project change, saved
        with it, as if given with each image): the cell classifier then learns from their cells."""
        value = self.scale_spin.value()
        if value <= 0 or not self._unscaled:
            return
        for image in self._unscaled:
            image.set_pixel_size(PixelSize(float(value), SOURCE_GIVEN))
        count = len(self._unscaled)
        self._update_summary()
        self.eta.setText(f"Pixel size {value:g} µm given to {count} images (saved with the project).")

    def _classifier_learns(self) -> bool:
        """Whether the run trains a cell classifier (which needs each image's pixel size)."""
        mode = self.start_from.currentData()
        return mode == "classes" or (mode in ("adapt", "finetune") and self.classifier.isEnabled()
                                     and self.classifier.currentData() != "none")

    def _scale_check(self, images, held) -> ScaleCheck:
        """The training images the cell classifier cannot learn from for want of a pixel size; keeps all the
        reviewed images lacking one (held-out ones too: same microscope) for :meth:`give_pixel_size`."""
        if not self._classifier_learns():
            self.scale_checker.cancel()
            self._unscaled = ()
            return ScaleCheck(0, ())
        classes = classifier_class_names(self.current_model)
        unmeasured = unmeasured_files(self.dataset, images, classes, self.pixel_size)
        measure = len(unmeasured) <= INLINE_MEASURES  # more would hold the window up: measured aside
        if measure:
            self.scale_checker.cancel()
        else:
            self.scale_checker.check(unmeasured)  # _update_summary again when they are measured
        self._unscaled = check_scales(self.dataset, images, classes, self.pixel_size, measure).unscaled
        kept_back = {id(i) for i in held}
        return check_scales(self.dataset, [i for i in images if id(i) not in kept_back], classes, self.pixel_size,
                            measure)
