"""Model menu work: the model selector, detection runs, retrain and evaluate.

Detection merges predictions with :func:`bloodview.gui.merge.merge_predictions`
through one undoable :class:`SetInstancesCommand` per image. The model is asked
for cells down to :data:`DETECT_MIN_CONFIDENCE`; those under the review
threshold land in the "unidentified" bucket instead of being thrown away.

The chosen model is remembered across restarts (QSettings ``model``). After a
retrain, the offer to switch to the new model carries a caution when its
``model.json`` training summary shows it learnt from very few cells or was never
checked on validation images (:func:`training_caution`); the answer then
defaults to No. The offer also carries the Retrain dialog's before/after verdict
on the held-out images (:mod:`bloodview.gui.comparison`); a new model that
scored clearly worse than the current one is offered with No as the default too.
What else follows a change of model (a lost model said, the Retrain dialog and the
background warm-up following the selector) is :mod:`bloodview.gui.model_choice`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6.QtWidgets import QComboBox, QLabel

from bloodview.gui.merge import merge_predictions
from bloodview.gui.model_choice import MODEL_KEY, ModelChoice
from bloodview.gui.workers.detect_worker import DetectJob, DetectRunner, PredictorFactory
from bloodview.gui.workers.warm_up import ModelWarmUp

if TYPE_CHECKING:
    from bloodview.gui.main_window import MainWindow

log = logging.getLogger(__name__)

DETECT_MIN_CONFIDENCE = 0.5
# Fewer training cells than this make a model a sketch, not a tool (the default model learnt
# from 2,229 PBC cells, ~280 a class).
FEW_TRAINING_CELLS = 200
# A model adapted from a trained one (train --init: Retrain's "Adapt", classes only, fine-tune) keeps
# what its start knew; on another lab's crops 10 corrected cells already named 0.86 of 149 held-out
# ones right (docs/adaptation.md), so "hundreds" would wrongly warn off the loop the app is built on.
FEW_ADAPTATION_CELLS = 10


class ModelActions:
    def __init__(self, window: MainWindow, predictor_factory: PredictorFactory | None = None):
        self.window = window
        self.selector = QComboBox(window)
        self.selector.setObjectName("modelSelector")
        self.selector.setMinimumContentsLength(18)
        self.selector.setToolTip("Model used by Detect")
        self.runner = DetectRunner(window, predictor_factory)
        self.runner.status.connect(window.show_status)
        self.device: str | None = None  # where detection runs; known once the model (TensorFlow) has loaded
        self.device_label = QLabel()
        self.device_label.setObjectName("deviceLabel")
        self.device_label.hide()
        window.statusBar().addPermanentWidget(self.device_label)
        self.runner.device.connect(self._device_known)
        self.runner.progress.connect(self._progress)
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
        # the chosen model loaded in the background once the window is up (bloodview.gui.app.run turns it on)
        self.warm = ModelWarmUp(window, predictor_factory)
        self.warm.device.connect(self._device_known)
        self.warm_up_enabled = False
        self.retrain_dialog = None
        self.evaluate_dialog = None
        self.cli_command: list[str] | None = None  # tests put a fake `bloodview` here
        self._summary = [0, 0, 0]  # added, kept, images
        self._unreadable = 0  # images of the run that could not be read
        self._scales: dict[int, object] = {}  # image index -> PixelSize detection read it at
        self._balanced = 0  # images of the run whose glass colour was balanced for the detector
        # per model folder, per image file: how its two networks named the image's white cells (see _advice)
        self._agreement: dict[str, dict[str, object]] = {}
        self._advised: set[str] = set()  # model folders whose 'unlike training' advice was shown
        self._run_model = ""
        self._run_tells = False  # whether the run's model's two networks disagreeing means anything (see _advice)
        remembered = _remembered_model(window.settings)
        self.refresh_models(remembered)
        self.selector.currentIndexChanged.connect(self._remember_model)
        # a lost model said, an open Retrain dialog and the warm-up following the choice (model_choice.py)
        self.choice = ModelChoice(self, remembered)

    # --- model store --------------------------------------------------------------------
    def refresh_models(self, select: Path | None = None) -> None:
        from bloodview.model.store import list_models  # TF-free

        current = select or self.model_dir()
        self.selector.blockSignals(True)
        self.selector.clear()
        try:
            models = list_models()
        except Exception as exc:  # noqa: BLE001 - a broken store must not stop the editor
            log.exception("listing models failed")
            models = []
            self.window.show_status(f"Cannot list models: {exc}")
        for info in models:
            self.selector.addItem(info.name, str(info.path))
            self.selector.setItemData(self.selector.count() - 1, _describe(info), 3)  # ToolTipRole
        if not models:
            self.selector.addItem("No model — Model → Retrain…", None)
        if current is not None:
            index = self.selector.findData(str(current))
            if index >= 0:
                self.selector.setCurrentIndex(index)
        self.selector.blockSignals(False)
        self.window.update_enabled()
        if select is None and current is not None and self.model_dir() != current and hasattr(self, "choice"):
            self.choice.lost(current)  # the chosen model's folder went: said, not swapped silently
            self.choice.changed()

    def _device_known(self, device: str) -> None:
        self.device = device
        self.device_label.setText(f"Device: {device}")
        self.device_label.setToolTip("Where detection runs (bloodview doctor --devices lists what TensorFlow sees)")
        self.device_label.show()

    def about_models(self) -> None:
        """Model → About models: every model in the store, and the device detection runs on."""
        from bloodview.model.store import list_models, user_store_dir  # TF-free

        device = self.device or "not known yet (TensorFlow loads in the background, or with the first detection)"
        parts = [f"Device: {device}", f"Model store: {user_store_dir()}"]
        parts += [f"{_describe(info)}\n{info.path}" for info in list_models()] or ["No model installed."]
        self.window.prompts.info(self.window, "About models", "\n\n".join(parts))

    def model_dir(self) -> Path | None:
        data = self.selector.currentData()
        return Path(data) if data else None

    def warm_up(self) -> bool:
        """Load the chosen model in the background and trace its networks for the image on screen
        (once per model and session), unless a detection is running or no model is chosen; True
        when a warm-up started."""
        model_dir = self.model_dir()
        if not self.warm_up_enabled or model_dir is None or self.runner.is_running():
            return False
        session = self.window.session
        index = session.current_index
        on_screen = ([session.image_path(index)]
                     if 0 <= index < len(session.dataset.images) and index not in session.broken else [])
        return self.warm.start(model_dir, on_screen)

    def _remember_model(self, _index: int) -> None:
        model = self.model_dir()
        if model is not None:
            self.window.settings.setValue(MODEL_KEY, str(model))

    def model_info(self):
        from bloodview.model.store import read_model_info

        path = self.model_dir()
        return read_model_info(path) if path is not None else None

    # --- detection -------------------------------------------------------------------------
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
        window.progress.setRange(0, len(jobs))
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
        self.window.progress.setRange(0, total)
        self.window.progress.setValue(done)

    def _image_scale(self, index: int, scale) -> None:
        if not self._stale():
            self._scales[index] = scale

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
        what = "Detection cancelled" if cancelled else "Detection finished"
        skipped = f"; {signed} signed-off image(s) skipped (withdraw their sign-off to detect)" if signed else ""
        if self._unreadable:
            skipped += f"; {self._unreadable} unreadable image(s) skipped (marked in the image list)"
        if self._balanced:
            skipped += (f"; glass colour of {self._balanced} image(s) outside the model's training range, "
                        "balanced for detection (another lab's lamp)")
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

    # --- retrain and evaluate ----------------------------------------------------------------------
    def retrain(self) -> None:
        from bloodview.gui.dialogs.retrain_dialog import RetrainDialog
        from bloodview.gui.workers.train_process import TrainProcess
        from bloodview.model.store import user_store_dir

        if self.retrain_dialog is not None and self.retrain_dialog.is_busy():
            self.retrain_dialog.show()
            self.retrain_dialog.raise_()
            return
        if self.retrain_dialog is not None:  # an idle one is replaced: one dialog, one verdict for the offer
            self.retrain_dialog.close()
            self.retrain_dialog.deleteLater()
        session = self.window.session
        info = self._safe_info()
        dialog = RetrainDialog(
            session.dataset, user_store_dir(), current_model=self.model_dir(),
            current_backbone=info.backbone if info else None, work_dir=self.training_folder(),
            broken=tuple(session.broken), process=TrainProcess(command=self.cli_command),
            parent=self.window, pixel_size=self.window.scale.project_pixel_size())
        dialog.modelTrained.connect(self._model_trained)
        dialog.process.finished.connect(lambda _outcome: self.choice.follow())  # after the dialog's own slot
        self.retrain_dialog = dialog
        dialog.show()

    def training_folder(self) -> Path | None:
        """Where a retrain writes its data and comparison: in the project, else a temporary folder (None)."""
        project = self.window.session.project_path
        return project / ".bloodview-training" if project else None

    def _safe_info(self):
        try:
            return self.model_info()
        except Exception:  # noqa: BLE001 - only for defaults in a dialog
            return None

    def _model_trained(self, model_dir: str, verdict: str = "") -> None:
        path = Path(model_dir)
        self.refresh_models()
        index = self.selector.findData(str(path))
        if index < 0:
            self.window.show_status(f"The new model in {path} was not found in the model store")
            return
        from bloodview.model.store import read_model_info

        caution = training_caution(read_model_info(path).training)
        warning = f"\n\nCaution: {caution}" if caution else ""
        compared = f"\n\n{verdict}" if verdict else ""
        if self.window.prompts.ask(self.window, "switch_model", "New model ready",
                                   f"Training finished: {self.selector.itemText(index)}.\n"
                                   f"{self.selector.itemData(index, 3)}{warning}{compared}\n\n"
                                   "Use it for detection now?",
                                   default=not caution and self._comparison_kind() != "worse"):
            self.selector.setCurrentIndex(index)
        elif caution:
            self.window.show_status(f"Kept {self.selector.currentText()}: the new model {caution}")
        self.choice.follow()  # a model chosen while it trained is the next one to adapt

    def _comparison_kind(self) -> str | None:
        """The Retrain dialog's before/after result ("better", "worse", …); None when not compared, or when
        the current model had learnt from held-out images (its "better" flatters it)."""
        if getattr(self.retrain_dialog, "flattered", False):
            return None
        view = getattr(self.retrain_dialog, "comparison", None)
        result = getattr(view, "comparison", None)
        return getattr(result, "kind", None)

    def evaluate(self) -> None:
        from bloodview.gui.dialogs.evaluate_dialog import EvaluateDialog

        if self.model_dir() is None:
            self.window.prompts.error(self.window, "No model", "Choose a model to evaluate first.")
            return
        dialog = EvaluateDialog(self.window.session.dataset, self.model_dir(),
                                broken=tuple(self.window.session.broken), command=self.cli_command,
                                parent=self.window, pixel_size=self.window.scale.project_pixel_size())
        self.evaluate_dialog = dialog
        dialog.show()


def _remembered_model(settings) -> Path | None:
    value = settings.value(MODEL_KEY)
    return Path(str(value)) if value else None


def _training_numbers(training: dict) -> tuple[int, int, int] | None:
    """(training cells, training images, validation images) from a model.json summary."""
    train, val = training.get("train"), training.get("val")
    if not isinstance(train, dict) or not isinstance(train.get("instances"), int):
        return None
    val_images = val.get("images") if isinstance(val, dict) else 0
    return train["instances"], int(train.get("images") or 0), int(val_images or 0)


def training_caution(training: dict) -> str:
    """Why a model should not be trusted for counting yet ("" when nothing stands out).

    Read from ``model.json``'s training summary: fewer than
    :data:`FEW_TRAINING_CELLS` training cells (:data:`FEW_ADAPTATION_CELLS` for a
    model adapted from a trained one, ``training.init``), or no validation images
    (so its accuracy was never measured on images it did not learn from). A
    summary without these numbers (an older model) gives no caution.
    """
    numbers = _training_numbers(training or {})
    if numbers is None:
        return ""
    cells, images, val_images = numbers
    reasons = []
    if (training or {}).get("init"):
        if cells < FEW_ADAPTATION_CELLS:
            reasons.append(f"was adapted from only {cells} cell(s) in {images} image(s) (adapting to a lab "
                           f"was measured to work from ~{FEW_ADAPTATION_CELLS} corrected cells on)")
    elif cells < FEW_TRAINING_CELLS:
        reasons.append(f"learnt from only {cells} cell(s) in {images} image(s) "
                       f"(a useful model needs hundreds, ~{FEW_TRAINING_CELLS}+)")
    if val_images == 0:
        reasons.append("had 0 validation images, so its accuracy was never measured")
    return "; it ".join(reasons) + ("." if reasons else "")


def _describe(info) -> str:
    lines = [f"{info.name} — backbone {info.backbone}"]
    if info.date:
        lines.append(f"trained {info.date}")
    numbers = _training_numbers(info.training or {})
    if numbers is not None:
        lines.append(f"{numbers[0]} training cells in {numbers[1]} images, {numbers[2]} validation images")
    metrics = info.metrics or {}
    for key in ("mask_map50", "mask_mAP@0.5", "map50", "f1"):
        if key in metrics and isinstance(metrics[key], (int, float)):
            lines.append(f"{key} {metrics[key]:.3f}")
    if info.final_losses.get("loss") is not None:
        lines.append(f"final loss {info.final_losses['loss']:.3f}")
    lines.append(_classifier_line(info))
    return "\n".join(lines)


def _classifier_line(info) -> str:
    """How the model names cells: its cell classifier (and how it scored on its validation cells) or the detector."""
    try:
        spec = info.classifier_spec
    except Exception as exc:  # a damaged field must not hide the rest of the model's description
        return f"cell classifier unreadable ({exc}); cells are named by the detector"
    if spec is None:
        return "cells named by the detector"
    accuracy = (spec.metrics.get("val") or {}).get("accuracy")
    scored = f", validation accuracy {accuracy:.3f}" if isinstance(accuracy, (int, float)) else ""
    return (f"cells named by a cell classifier ({spec.backbone}, {spec.field_um:.0f} µm square at "
            f"{spec.pixel_size_um:g} µm/px{scored})")
