"""Model menu work: the model selector, the device detection runs on, retrain and evaluate.

Detect runs themselves (starting one, its results image by image, finishing or cancelling it)
are :mod:`bloodview.gui.detect_actions`; :class:`ModelActions` creates them with the chosen model
and keeps :meth:`ModelActions.detect`, :meth:`ModelActions.cancel` and ``runner`` for the menu,
the window's close and the tests.

The chosen model is remembered across restarts (QSettings ``model``; the shipped default as this
install's default, wherever the one remembered was installed: :meth:`ModelActions.index_of`). After a
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

from bloodview.gui.detect_actions import DetectActions
from bloodview.gui.model_choice import MODEL_KEY, ModelChoice
from bloodview.gui.workers.detect_worker import PredictorFactory
from bloodview.gui.workers.warm_up import ModelWarmUp

if TYPE_CHECKING:
    from bloodview.gui.main_window import MainWindow

log = logging.getLogger(__name__)

# Fewer training cells than this make a model a sketch, not a tool (the default model learnt
# from 2,229 PBC cells, ~280 a class).
FEW_TRAINING_CELLS = 200
# A model adapted from a trained one (train --init: Retrain's "Adapt", classes only, fine-tune) keeps
# what its start knew; on another lab's crops 10 corrected cells already named 0.86 of 149 held-out
# ones right (docs/adaptation.md), so "hundreds" would wrongly warn off the loop the app is built on.
FEW_ADAPTATION_CELLS = 10


class ModelActions:
    """The Model menu and toolbar: which model Detect uses (remembered across restarts), the device it
    runs on, About models, retrain and evaluate; Detect runs are :attr:`detection`."""

    def __init__(self, window: MainWindow, predictor_factory: PredictorFactory | None = None):
        self.window = window
        self.selector = QComboBox(window)
        self.selector.setObjectName("modelSelector")
        self.selector.setMinimumContentsLength(18)
        self.selector.setToolTip("Model used by Detect")
        # the model is looked up at each run: the selector may change between runs
        self.detection = DetectActions(window, predictor_factory, lambda: self.model_dir(), lambda: self._safe_info())
        self.runner = self.detection.runner  # the window's close and the tests wait on it, or stand in a predictor
        self.device: str | None = None  # where detection runs; known once the model (TensorFlow) has loaded
        self.device_label = QLabel()
        self.device_label.setObjectName("deviceLabel")
        self.device_label.hide()
        window.statusBar().addPermanentWidget(self.device_label)
        self.runner.device.connect(self._device_known)
        # the chosen model loaded in the background once the window is up (bloodview.gui.app.run turns it on)
        self.warm = ModelWarmUp(window, predictor_factory)
        self.warm.device.connect(self._device_known)
        self.warm_up_enabled = False
        self.retrain_dialog = None
        self.evaluate_dialog = None
        self.cli_command: list[str] | None = None  # tests put a fake `bloodview` here
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
        found = self.index_of(current) if current is not None else -1
        if found >= 0:
            self.selector.setCurrentIndex(found)
        self.selector.blockSignals(False)
        self.window.update_enabled()
        if select is None and current is not None and found < 0 and hasattr(self, "choice"):
            self.choice.lost(current)  # the chosen model's folder went: said, not swapped silently
            self.choice.changed()

    def index_of(self, model: Path) -> int:
        """The selector's row for ``model`` (-1: not listed). The shipped default of another install
        (the app reinstalled elsewhere, a second checkout) is this install's default: the setting
        remembered that folder's path, but the choice was "the default model"."""
        from bloodview.model.store import default_model_dir, is_shipped_default  # TF-free

        index = self.selector.findData(str(model))
        if index < 0 and is_shipped_default(model):
            index = self.selector.findData(str(default_model_dir()))
        return index

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

    # --- detection (bloodview.gui.detect_actions) ---------------------------------------------------
    def detect(self, scope: str = "current") -> bool:
        """Detect cells in the current image, the selected images or all images (see
        :meth:`DetectActions.detect`)."""
        return self.detection.detect(scope)

    def cancel(self) -> None:
        self.detection.cancel()

    # A test plays a worker's result for an image signed off meanwhile through these.
    @property
    def _summary(self) -> list[int]:
        return self.detection._summary

    @_summary.setter
    def _summary(self, value: list[int]) -> None:
        self.detection._summary = value

    def _image_done(self, index: int, predictions: list) -> None:
        self.detection._image_done(index, predictions)

    def _finished(self, cancelled: bool) -> None:
        self.detection._finished(cancelled)

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
        window = self.window
        dialog = EvaluateDialog(window.session.dataset, self.model_dir(),
                                broken=tuple(window.session.broken), command=self.cli_command,
                                parent=window, pixel_size=window.scale.project_pixel_size(),
                                project=lambda: (window.session.dataset, tuple(window.session.broken),
                                                 window.scale.project_pixel_size()))
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
