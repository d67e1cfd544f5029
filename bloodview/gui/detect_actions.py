"""Detect runs: start one, take in its results image by image, and finish or cancel it.

A run merges predictions with :func:`bloodview.gui.merge.merge_predictions` through one undoable
:class:`SetInstancesCommand` per image. The model is asked for cells down to
:data:`DETECT_MIN_CONFIDENCE`; those under the review threshold land in the "unidentified"
bucket instead of being thrown away.

Results arrive by image index from a worker thread (:class:`DetectRunner`) while a person goes on
working: images may be removed or put back (each result finds its image by identity, :meth:`_now`),
another folder may be opened (the run's results are dropped, :meth:`_stale`) and an image may be
signed off meanwhile (its result is refused and counted as skipped). The pixel size each image was
read at (a camera field's scale worked out from its red cells) is recorded only with a result
that was kept. At the end the status bar sums the run up, and once per model folder the two
networks' disagreement on white cells may advise that the images look unlike the model's
training images (:meth:`_advice`).

Split from :mod:`bloodview.gui.model_actions` (the model selector, retrain and evaluate), which
creates it and keeps ``detect``, ``cancel`` and ``runner`` for the menu and the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bloodview.gui.merge import merge_predictions
from bloodview.gui.workers.detect_worker import DetectJob, DetectRunner, PredictorFactory

if TYPE_CHECKING:
    from bloodview.gui.main_window import MainWindow

log = logging.getLogger(__name__)

DETECT_MIN_CONFIDENCE = 0.5
BAR_PER_IMAGE = 100
"""The progress bar's units per image: whole images as before, and within one the share of its tiles
(and finishing steps) done, so a big field that takes a minute moves the bar (``imageSteps``)."""


class DetectActions:
    """Detection runs for ``window`` with the model ``model_dir()`` names; ``model_info()`` gives
    that model's :class:`~bloodview.model.store.ModelInfo`, or ``None`` when it cannot be read."""

    def __init__(self, window: MainWindow, predictor_factory: PredictorFactory | None,
                 model_dir: Callable[[], Path | None], model_info: Callable[[], object]):
        self.window = window
        self.model_dir = model_dir
        self._safe_info = model_info
        self.runner = DetectRunner(window, predictor_factory)
        self.runner.status.connect(window.show_status)
        self.runner.progress.connect(self._progress)
        self.runner.imageSteps.connect(self._image_steps)
        self.runner.imageScale.connect(self._image_scale)
        self.runner.imageGlass.connect(self._image_glass)
        self.runner.imageDone.connect(self._image_done)
        self.runner.imageFailed.connect(self._image_failed)
        self.runner.failed.connect(self._failed)
        self.runner.finished.connect(self._finished)
        # results arrive by image index: they belong to the images open when the run started only
        self._run_dataset = None
        self._run_images: list = []
        window.session.opened.connect(self._images_replaced)
        self._summary = [0, 0, 0, 0]  # added, kept, images, signed-off images skipped
        self._images_done = 0  # images of the run done, as the worker last said (the bar's whole part)
        self._unreadable = 0  # images of the run that could not be read
        self._scales: dict[int, object] = {}  # image index -> PixelSize detection read it at
        self._balanced = 0  # images of the run whose glass colour was balanced for the detector
        self._beyond_reach = 0  # images of the run magnified beyond what the model reads (core.scale.beyond_reach)
        self._failure = ""  # the error that stopped the run, if one did
        self._run_model_um = None  # the run's model's pixel size (µm per input pixel), from its model.json
        # per model folder, per image file: how its two networks named the image's white cells (see _advice)
        self._agreement: dict[str, dict[str, object]] = {}
        self._advised: set[str] = set()  # model folders whose 'unlike training' advice was shown
        self._run_model = ""
        self._run_tells = False  # whether the run's model's two networks disagreeing means anything (see _advice)

    def detect(self, scope: str = "current") -> bool:
        """Detect cells in the current image, the selected images or all images."""
        window, session = self.window, self.window.session
        model_dir = self.model_dir()
        if model_dir is None:
            window.prompts.error(window, "No model", "No model is installed. Train one with Model → Retrain…")
            return False
        if self.runner.is_running():
            window.canvas.notify("Detection is already running")
            return False
        if scope == "all":
            indices = list(range(len(session.dataset.images)))
        elif scope == "selected":
            indices = window.image_list.selected_rows() or [session.current_index]
        else:
            indices = [session.current_index]
        for index in indices:
            if index in session.broken:
                window.read_again(index)  # its file may be back (a share reconnected, a file renamed back)
        signed = [i for i in indices if 0 <= i < len(session.dataset.images)
                  and session.dataset.images[i].signed_off]
        jobs = [DetectJob(i, session.image_path(i), window.scale.job_pixel_size(session.dataset.images[i]))
                for i in indices if i >= 0 and i not in session.broken and i not in signed]
        if not jobs:
            why = "it is signed off (withdraw the sign-off first)" if signed else "it cannot be read"
            window.canvas.notify(f"No cells detected: {why}" if len(indices) == 1
                                 else "No readable, unsigned image to detect cells in")
            return False
        self._summary = [0, 0, 0, len(signed)]  # added, kept, images, signed-off images skipped
        self._run_dataset = session.dataset
        self._run_images = list(session.dataset.images)  # results come by index at the start of the run
        self._run_model = str(model_dir)
        self._run_tells = self._second_opinion_tells_distance()
        self._unreadable = sum(1 for i in indices if i in session.broken)  # skipped; more may fail to decode
        self._balanced = 0
        self._beyond_reach = 0
        self._failure = ""
        info = self._safe_info()
        self._run_model_um = (getattr(info, "config", None) or {}).get("pixel_size_um")
        self._images_done = 0
        window.progress.setRange(0, len(jobs) * BAR_PER_IMAGE)
        window.progress.setValue(0)
        window.progress.show()
        window.acts["cancel_detect"].setEnabled(True)
        from bloodview.core.camera_scale import estimate_from_record

        known = [(k, *estimate_from_record((image.height, image.width), image.pixel_size))
                 for k, image in enumerate(session.dataset.images)]
        return self.runner.start(jobs, model_dir, DETECT_MIN_CONFIDENCE, known)

    def cancel(self) -> None:
        self.runner.cancel()
        self.window.show_status("Cancelling detection after the current image…")

    def _images_replaced(self) -> None:
        """Other images were opened: a running detection's results (by index) are not theirs; stop it."""
        if self.runner.is_running():
            self.runner.cancel()

    def _now(self, index: int) -> int:
        """Where the run's image ``index`` is now: images may have been removed from the project
        or put back since the run started (-1: no longer open)."""
        return self.window.session.index_of(self._run_images[index])

    def _stale(self) -> bool:
        """The run's images are no longer the open ones (another folder or project was opened)."""
        return self._run_dataset is not None and self._run_dataset is not self.window.session.dataset

    def _progress(self, done: int, total: int) -> None:
        self._images_done = done
        self.window.progress.setRange(0, total * BAR_PER_IMAGE)
        self.window.progress.setValue(done * BAR_PER_IMAGE)

    def _image_steps(self, done: int, total: int) -> None:
        """Within the image under way: ``done`` of its ``total`` steps (tiles, then finishing)."""
        if total > 0:
            within = min(BAR_PER_IMAGE, BAR_PER_IMAGE * done // total)
            self.window.progress.setValue(self._images_done * BAR_PER_IMAGE + within)

    def _image_scale(self, index: int, scale) -> None:
        from bloodview.core.scale import beyond_reach

        if not self._stale():
            self._scales[index] = scale
            model_um = self._run_model_um
            if scale is not None and beyond_reach(scale.um_per_pixel, model_um):
                self._beyond_reach += 1
                log.warning("image %d read at %.4g µm per pixel, beyond the reach of the model's %.4g: its cells "
                            "need checking", index, scale.um_per_pixel, model_um)

    def _image_glass(self, index: int, gains) -> None:
        self._balanced += 1
        log.info("image %d: glass colour outside the model's training range, balanced (gains %s)", index, gains)

    def _image_done(self, index: int, predictions: list) -> None:
        from bloodview.gui.commands import SetInstancesCommand

        session = self.window.session
        if self._stale() or self._now(index) < 0:
            log.info("detection result for image %d of images no longer open: dropped", index)
            return
        scale = self._scales.pop(index, None)
        index = self._now(index)
        image = session.dataset.images[index]
        predictions = self._in_project_classes(predictions)
        result = merge_predictions(image.instances, predictions)
        if not session.push(index, SetInstancesCommand(image, result.instances, f"Detect cells ({result.added})")):
            self._summary[3] += 1  # signed off while detection ran: left as it is
            return
        if scale is not None:
            self.window.scale.record(index, scale)
        if index == session.current_index:  # a field now crowded with red cells hides them, as on opening it
            self.window.red_cells.refresh(image, session.dataset.classes)
        if self._run_tells:
            from bloodview.core.second_opinion import Agreement

            agreement = Agreement()
            agreement.add(predictions)
            self._agreement.setdefault(self._run_model, {})[str(session.image_path(index))] = agreement
        self._summary[0] += result.added
        self._summary[1] += result.kept
        self._summary[2] += 1
        log.info("%s: %s", image.image_path.name, result.summary())

    def _in_project_classes(self, predictions: list) -> list:
        """Name each prediction's class as the project does (a file's ``RBC`` and the red-cell finder's
        ``rbc`` are one class), adding classes the project lacks (the first red cells found)."""
        from bloodview.gui.project_classes import adopt_classes

        if adopt_classes(self.window.session.dataset.classes, predictions):
            self.window.install_classes()
        return predictions

    def _image_failed(self, index: int, message: str) -> None:
        if self._stale() or self._now(index) < 0:
            return
        self._unreadable += 1
        self.window.session.mark_broken(self._now(index), message)

    def _failed(self, message: str) -> None:
        self._failure = message
        self.window.prompts.error(self.window, "Detection failed", message)

    def _finished(self, cancelled: bool) -> None:
        window = self.window
        window.progress.hide()
        window.acts["cancel_detect"].setEnabled(False)
        self._scales.clear()
        if self._stale():
            self._run_dataset = None
            window.show_status("Detection stopped: other images were opened (nothing was added to them)")
            window.detectionFinished.emit(True)
            return
        self._run_dataset = None
        added, kept, images, signed = self._summary
        if self._failure and not added:
            # the run stopped on an error (a model half-copied): "finished: 0 cells" read as "no cells"
            window.show_status(f"Detection failed: {self._failure.splitlines()[0]}")
            window.detectionFinished.emit(cancelled)
            return
        what = "Detection cancelled" if cancelled else "Detection finished"
        skipped = f"; {signed} signed-off image(s) skipped (withdraw their sign-off to detect)" if signed else ""
        if self._unreadable:
            skipped += f"; {self._unreadable} unreadable image(s) skipped (marked in the image list)"
        if self._balanced:
            skipped += (f"; glass colour of {self._balanced} image(s) outside the model's training range, "
                        "balanced for detection (another lab's lamp)")
        if self._beyond_reach:
            skipped += (f"; {self._beyond_reach} image(s) magnified beyond what the model reads: check their cells "
                        "(or give the true pixel size: Model → Pixel size…)")
        advice = self._advice()
        if advice:
            skipped += "; the model's two networks disagree on many white cells: see the note"
        window.show_status(f"{what}: {added} cells found in {images} image(s); {kept} checked cells kept{skipped}")
        window.detectionFinished.emit(cancelled)
        if advice:  # after the panels heard the run is over: the note waits for its OK
            window.prompts.info(window, "Images unlike the model's training images", advice)

    def _second_opinion_tells_distance(self) -> bool:
        from bloodview.core.second_opinion import second_opinion_tells_distance

        info = self._safe_info()
        return second_opinion_tells_distance(getattr(info, "cell_classifier", None))

    def _advice(self) -> str:
        """Once per model folder: the images detected so far look unlike its training images to its own two
        networks (bloodview.core.second_opinion.Agreement, measured there), with what to do about it."""
        from bloodview.core.second_opinion import Agreement

        if self._run_model in self._advised:
            return ""
        advice = Agreement.total(self._agreement.get(self._run_model, {}).values()).advice()
        if advice:
            self._advised.add(self._run_model)
        return advice
