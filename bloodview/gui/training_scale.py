"""Which training images the cell classifier cannot learn from for want of a pixel size (Qt-free).

Why: the cell classifier cuts each cell at its size in µm, so ``bloodview train`` gives it only the
cells of images with a pixel size: the one given for the whole run (``--pixel-size``: the project's,
Model → Pixel size…), else the image's own (recorded by a detection, or given), else measured on its
red cells (:func:`bloodview.core.scale.estimate_scale`). A lab's crops of one white cell have no red
cells to measure; imported with their classes and never detected, they record none. A full retrain
then trained the detector for minutes and ended without a cell classifier (``train`` warns, the
app showed it afterwards); adapting the classes only failed outright. The Retrain dialog asks this
module before Start, with the same rules, so the person can give the pixel size there.

Measuring the red cells reads each image once (2-50 ms for a crop or a 640 x 480 field on the 2-core
CPU); the answer is kept per file (path, size, modification time) for the session. 300 BCCD fields took
5.8 s, so the dialog asks :func:`unmeasured_files` first and has more than a few measured off the GUI
thread (:mod:`bloodview.gui.workers.scale_check`, which hands the answers back to :func:`remember`);
meanwhile :func:`check_scales` with ``measure=False`` says which are still being checked.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.errors import BloodviewError

log = logging.getLogger(__name__)

_MEASURABLE: dict[tuple[str, int, int], bool] = {}  # (file, size, mtime) -> its red cells give a scale


@dataclass(frozen=True)
class ScaleCheck:
    """``teaching``: training images with cells the classifier names; ``unscaled``: those of them with no
    pixel size it could use (none given, none recorded, no red cells to measure)."""

    teaching: int
    unscaled: tuple[ImageAnnotation, ...]
    checking: int = 0  # images not measured yet (their answer is on its way); ``unscaled`` is then partial
    some_scaled: bool = False  # while checking: a training image is already known to have a pixel size

    @property
    def none_left(self) -> bool:
        """No training image is left to teach the classifier: it is left out (or, classes only, fails)."""
        return not self.checking and bool(self.unscaled) and len(self.unscaled) == self.teaching

    @property
    def maybe_none_left(self) -> bool:
        """:attr:`none_left`, or not known yet: no image known to have a size while some are measured."""
        return self.none_left or (bool(self.checking) and not self.some_scaled)

    def note(self, classes_only: bool) -> str:
        """What the person must know before Start ("" when every image has a pixel size)."""
        if self.checking:
            return (f" Checking the pixel size of {self.checking} training images (measured on their red "
                    "cells)…")
        if not self.unscaled:
            return ""
        count = len(self.unscaled)
        why = ("no pixel size (none given or recorded, and no red cells to measure it on: crops of one "
               "cell?)")
        if self.none_left:
            ends = ("adapting the classes stops with nothing to learn from" if classes_only else
                    "the new model would have no cell classifier (its detector would name the cells)")
            return (f" The cell classifier cannot learn from these images: {count} of {count} have {why}, so "
                    f"{ends}. Give their pixel size below, or every image's with Model → Pixel size….")
        return (f" {count} of the {self.teaching} training images have {why}: the cell classifier learns "
                "nothing from them. Give their pixel size below, or every image's with Model → Pixel size….")


def check_scales(dataset: Dataset, images: Sequence[ImageAnnotation], classes: Collection[str] | None,
                 pixel_size: float | None, measure: bool = True) -> ScaleCheck:
    """Which of ``images`` (the training images, held-out ones left out) teach the classifier nothing.

    ``classes``: the classifier's class names (``None``: any cell); ``pixel_size``: the one given for the
    whole run (then every image has one). Mirrors ``bloodview.model.classifier_training.cell_samples``.
    ``measure=False``: images not measured yet this session are not read but counted in ``checking``."""
    teaching = [image for image in images if _teaches(image, classes)]
    if pixel_size:
        return ScaleCheck(len(teaching), ())
    unscaled, checking, some_scaled = [], 0, False
    for image in teaching:
        if image.pixel_size is not None:
            some_scaled = True
            continue
        path = dataset.resolve_image(image)
        known = red_cells_give_scale(path) if measure else measured(path)
        if known is None:
            checking += 1
        elif known:
            some_scaled = True
        else:
            unscaled.append(image)
    return ScaleCheck(len(teaching), tuple(unscaled), checking, some_scaled)


def unmeasured_files(dataset: Dataset, images: Sequence[ImageAnnotation], classes: Collection[str] | None,
                     pixel_size: float | None) -> list[Path]:
    """The files :func:`check_scales` would have to read for ``images`` (none measured this session)."""
    if pixel_size:
        return []
    paths = (dataset.resolve_image(image) for image in images
             if image.pixel_size is None and _teaches(image, classes))
    return [path for path in paths if measured(path) is None]


def _teaches(image: ImageAnnotation, classes: Collection[str] | None) -> bool:
    from bloodview.core.classes import is_red_cell_name

    if classes is None:
        return any(not is_red_cell_name(cell.class_name) for cell in image.instances)
    return (any(cell.class_name in classes for cell in image.instances)
            or (not image.instances and image.image_label in classes))


def red_cells_give_scale(path: Path) -> bool:
    """Whether the trainer can measure ``path``'s pixel size on its red cells (kept per file version)."""
    key = _file_key(path)
    if key is None:
        return False  # a missing file is said elsewhere (training_data.missing_images)
    if key not in _MEASURABLE:
        _MEASURABLE[key] = _measure(path)
    return _MEASURABLE[key]


def measured(path: Path) -> bool | None:
    """The answer of :func:`red_cells_give_scale` if known without reading the image, else None."""
    key = _file_key(path)
    return False if key is None else _MEASURABLE.get(key)


def measure_file(path: Path) -> tuple[tuple[str, int, int], bool] | None:
    """(file version, whether its red cells give a scale) without touching the session's answers: safe on a
    worker thread; the GUI thread passes the result to :func:`remember`. None for a file that is gone."""
    key = _file_key(path)
    return None if key is None else (key, _measure(path))


def remember(key: tuple[str, int, int], measurable: bool) -> None:
    _MEASURABLE[key] = measurable


def _file_key(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return (str(path), stat.st_size, stat.st_mtime_ns)


def _measure(path: Path) -> bool:
    from bloodview.core.scale import estimate_scale
    from bloodview.io.images import load_image

    try:
        image = np.asarray(load_image(path))
    except BloodviewError as exc:
        log.info("%s: not measured for its pixel size: %s", path, exc)
        return False
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return estimate_scale(image[:, :, :3]) is not None
