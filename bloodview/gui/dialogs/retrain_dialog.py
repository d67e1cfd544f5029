"""Model → Retrain…: choose what to train, run it as a process, watch loss and ETA, compare.

The dialog writes the chosen images as COCO (:mod:`bloodview.gui.training_data`),
part of them held out as ``val``, and runs ``bloodview train … --progress jsonl``
through :class:`TrainProcess`. The default, "Adapt the current model", passes no
schedule: ``bloodview train`` picks its few-image recipe and says the epochs in
its ``start`` line. After a successful run the current and the new model are
scored on the held-out images (``bloodview evaluate`` processes,
:class:`EvaluateQueue`) and shown side by side (:class:`ModelComparisonView`;
that half lives in :mod:`bloodview.gui.dialogs.retrain_compare`);
only then is :attr:`RetrainDialog.modelTrained` emitted with the new model folder
and the comparison's verdict, so the offer to switch comes with the evidence.
A failed or refused comparison is said in words and never withholds the model.
Before Start it says which training images the cell classifier cannot learn from for want of a
pixel size (:mod:`bloodview.gui.training_scale`), and lets the person give it to them there
(:meth:`RetrainDialog.give_pixel_size`), so a retrain of a lab's crops ends with a cell classifier
(that part lives in :mod:`bloodview.gui.dialogs.retrain_scale`). Many images to measure are measured
off the GUI thread (:class:`ScaleChecker`): the note says "Checking…" meanwhile, and classes only cannot start until an
image is known to have a pixel size.
It is modeless: the editor stays usable while training runs; while idle it follows
the model chosen and the images opened in the window (:mod:`bloodview.gui.model_choice`).
"""

from __future__ import annotations

import logging
import shlex
import tempfile
from pathlib import Path

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from bloodview.core.annotation import Dataset
from bloodview.gui.dialogs.loss_plot import WAITING_TEXT, LossPlot
from bloodview.gui.dialogs.model_comparison import ModelComparisonView
from bloodview.gui.dialogs.retrain_compare import BeforeAfter
from bloodview.gui.dialogs.retrain_scale import ScaleBeforeStart
from bloodview.gui.dialogs.retrain_scale_row import PixelSizeRow
from bloodview.gui.dialogs.retrain_choices import (
    ADAPT_NOTE,
    CLASSES_ONLY_NOTE,
    CLASSES_ONLY_PLOT,
    CLASSIFIER_CHOICES,
    CLASSIFIER_TIP,
    KEEP_START_AUTO,
    KEEP_START_TIP,
    backbone_names,
    classifier_args,
    fresh_model_name,
    keep_start_args,
    model_has_classifier,
    model_knows_red_cells,
    start_choices,
    unknown_classes_note,
)
from bloodview.gui.style import resize_within_screen
from bloodview.io.paths import portable_name
from bloodview.gui.training_data import (
    TrainingSet,
    held_out_images,
    missing_images,
    training_images,
    unreviewed_images,
    write_training_set,
)
from bloodview.gui.workers.evaluate_process import EvaluateQueue
from bloodview.gui.workers.progress import ProgressEvent, format_eta
from bloodview.gui.workers.scale_check import ScaleChecker
from bloodview.gui.workers.train_process import TrainOutcome, TrainProcess, TrainRequest

log = logging.getLogger(__name__)

class RetrainDialog(BeforeAfter, ScaleBeforeStart, QDialog):
    modelTrained = pyqtSignal(str, str)  # new model folder, the comparison's one-line verdict

    def __init__(
        self,
        dataset: Dataset,
        store_dir: Path,
        current_model: Path | None = None,
        current_backbone: str | None = None,
        work_dir: Path | None = None,
        broken: tuple[int, ...] = (),
        process: TrainProcess | None = None,
        parent: QWidget | None = None,
        pixel_size: float | None = None,
    ):
        super().__init__(parent)
        self.pixel_size = pixel_size  # the project's µm per pixel for images that record none
        self.setWindowTitle("Retrain the model")
        self.setModal(False)
        self.dataset, self.store_dir, self.broken = dataset, Path(store_dir), broken
        self.current_model = current_model
        self.work_dir = work_dir
        self.process = process or TrainProcess(self)
        self.process.setParent(self)
        self.evaluations = EvaluateQueue(self, command=self.process.command)
        self.outcome: TrainOutcome | None = None
        self.training_set: TrainingSet | None = None
        self.verdict = ""  # the comparison's one line, once shown or refused
        self.flattered = False  # the current model had learnt from held-out images (bloodview.gui.seen_images)
        self._comparing: tuple[str, Path] | None = None  # (new model, reports folder) while evaluating
        self._epochs = 1
        self._step_epochs: set[int | None] = set()  # epochs whose loss is plotted per step

        self.name = QLineEdit(fresh_model_name(self.store_dir))
        self.start_from = QComboBox()
        for text, mode in start_choices(current_model):
            self.start_from.addItem(text, mode)
        self.backbone = QComboBox()
        names, default = backbone_names()
        self.backbone.addItems(names)
        self.backbone.setCurrentText(current_backbone if current_backbone in names else default)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.epochs.setValue(10)
        self.steps = QSpinBox()
        self.steps.setRange(1, 10000)
        self.steps.setValue(100)
        self.steps.setToolTip("Training steps per epoch (the paper used 100)")
        self.keep_start = QSpinBox()  # % of the current model's weights blended back in (train --keep-start)
        self.keep_start.setRange(-1, 90)
        self.keep_start.setSingleStep(5)
        self.keep_start.setSuffix(" %")
        self.keep_start.setSpecialValueText(KEEP_START_AUTO)
        self.keep_start.setValue(-1)
        self.keep_start.setToolTip(KEEP_START_TIP)
        self.classifier = QComboBox()  # how the cell classifier adapts (train --classifier-adapt)
        for text, method in CLASSIFIER_CHOICES:
            self.classifier.addItem(text, method)
        self.classifier.setToolTip(CLASSIFIER_TIP)
        self.schedule_note = QLabel(ADAPT_NOTE)
        self.schedule_note.setWordWrap(True)
        self.overrides = QLineEdit()
        self.overrides.setPlaceholderText("e.g. image_max_dim=256 learning_rate=0.002")
        self.overrides.setToolTip("Config fields to change (bloodview train --set FIELD=VALUE)")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        # shown while training images lack the pixel size the cell classifier needs (training_scale.py)
        self.scale_row = PixelSizeRow()
        self.scale_spin, self.scale_button = self.scale_row.spin, self.scale_row.button
        self._unscaled: tuple = ()  # images to give the pixel size to (held-out ones too)
        self.scale_checker = ScaleChecker(self)
        self.scale_checker.finished.connect(self._update_summary)
        form = QFormLayout()
        form.addRow("New model name", self.name)
        form.addRow("Start from", self.start_from)
        form.addRow("Backbone", self.backbone)
        form.addRow("Epochs", self.epochs)
        form.addRow("Steps per epoch", self.steps)
        form.addRow("", self.schedule_note)
        form.addRow("Keep of the current model", self.keep_start)
        form.addRow("Cell classifier", self.classifier)
        form.addRow("Settings", self.overrides)
        form.addRow("Images", self.summary)
        form.addRow("Pixel size", self.scale_row)
        self.form = form
        form.setRowVisible(self.scale_row, False)

        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.eta = QLabel("Not started")
        self.plot = LossPlot()
        self.comparison = ModelComparisonView()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(500)
        self.log.setMaximumHeight(90)
        self.log.hide()  # shown when the trainer says something
        self.start_button = QPushButton("Start training")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel training")
        self.cancel_button.setEnabled(False)
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.bar)
        layout.addWidget(self.eta)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.comparison)
        layout.addWidget(self.log)
        layout.addLayout(buttons)
        resize_within_screen(self, 680, 900)  # form (summary unclipped), plot, comparison table and log all readable without scrolling

        self.start_from.currentIndexChanged.connect(self._mode_changed)
        self.classifier.currentIndexChanged.connect(lambda _i: self._update_summary())
        self.scale_button.clicked.connect(self.give_pixel_size)
        self.scale_spin.entered.connect(self.give_pixel_size)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        self.process.progressEvent.connect(self._on_event)
        self.process.logLine.connect(self._log_line)
        self.process.finished.connect(self._on_finished)
        self.evaluations.logLine.connect(self._log_line)
        self.evaluations.finished.connect(self._on_evaluated)
        self._mode_changed()
        self._update_summary()

    # --- set-up ---------------------------------------------------------------
    def _mode_changed(self) -> None:
        mode = self.start_from.currentData()
        self.backbone.setEnabled(mode == "new")
        self.epochs.setEnabled(mode not in ("adapt", "classes"))
        self.steps.setEnabled(mode not in ("adapt", "classes"))
        self.schedule_note.setText(CLASSES_ONLY_NOTE if mode == "classes" else ADAPT_NOTE)
        self.schedule_note.setVisible(mode in ("adapt", "classes"))
        self.plot.empty_text = CLASSES_ONLY_PLOT if mode == "classes" else WAITING_TEXT
        self.plot.update()
        self.keep_start.setEnabled(mode in ("adapt", "finetune"))
        self.classifier.setEnabled(mode in ("adapt", "finetune") and model_has_classifier(self.current_model))
        if hasattr(self, "summary"):
            self._update_summary()  # what the red cells become depends on the start

    def set_current_model(self, model: Path | None, backbone: str | None = None) -> None:
        """Adapt ``model`` from now on: the main window's selector changed while the dialog was open
        (:mod:`bloodview.gui.model_choice`). The way to start stays chosen where the model allows it."""
        if model == self.current_model:
            return
        mode = self.start_from.currentData()
        self.current_model = model
        self.start_from.blockSignals(True)
        self.start_from.clear()
        for text, data in start_choices(model):
            self.start_from.addItem(text, data)
        self.start_from.setCurrentIndex(max(self.start_from.findData(mode), 0))
        self.start_from.blockSignals(False)
        if mode != "new" and self.backbone.findText(backbone or "") >= 0:
            self.backbone.setCurrentText(backbone)
        self._mode_changed()

    def set_images(self, dataset: Dataset, broken: tuple[int, ...], work_dir: Path | None,
                   pixel_size: float | None) -> None:
        """Train on the images now open (another folder or project was opened while the dialog was idle)."""
        self.dataset, self.broken, self.work_dir, self.pixel_size = dataset, broken, work_dir, pixel_size
        self._update_summary()

    def _images(self) -> tuple[list, int]:
        """(the reviewed images to use, how many reviewed ones are left out because their file is gone)."""
        images = training_images(self.dataset, self.broken)
        missing = {id(i) for i in missing_images(self.dataset, images)}
        return [i for i in images if id(i) not in missing], len(missing)

    def _update_summary(self) -> None:
        images, missing = self._images()
        held = held_out_images(images)
        cells = sum(len(i.instances) for i in images)
        left_out = len(unreviewed_images(self.dataset, self.broken))
        text = f"{len(images)} images with {cells} cells will be used (every cell checked by a person)."
        text += self._red_cells_note(images)
        if held:
            which = "the images marked val" if any(i.split == "val" for i in images) else "chosen by file name"
            text += (f" {len(held)} of them ({sum(len(i.instances) for i in held)} cells; {which}) are held "
                     "out of training to compare the current and the new model.")
        elif images:
            text += (" No image is held out to compare the models (that needs 5 or more reviewed images, "
                     "or images marked val).")
        if images and len(held) == len(images):
            text += " Nothing is left to train on: mark fewer images val."
        if left_out:
            text += f" {left_out} images with unchecked cells are left out."
        if missing:
            text += f" {missing} reviewed images are left out: their files are missing (File → Locate images…)."
        scales = self._scale_check(images, held)
        text += scales.note(self.start_from.currentData() == "classes")
        text += unknown_classes_note(self.start_from.currentData(), self.current_model, images)
        self.summary.setText(text)
        self.form.setRowVisible(self.scale_row, bool(scales.unscaled) and not scales.checking)
        # adapting the classes only with no image of known scale can only fail: give the pixel size first
        doomed = scales.maybe_none_left and self.start_from.currentData() == "classes"
        self.start_button.setEnabled(len(images) > len(held) and not doomed and not self.is_busy())

    def _red_cells_note(self, images) -> str:
        """What the checked red cells teach: a class of a new model, or nothing to a model without one
        (the trainer leaves them out as background; the classical red-cell finder outlines red cells)."""
        from bloodview.core.classes import is_red_cell_name

        red = sum(is_red_cell_name(c.class_name) for image in images for c in image.instances)
        if not red:
            return ""
        if self.start_from.currentData() == "classes":
            return f" {red} of them are red cells: adapting the classes teaches only the white cells' types."
        if self.start_from.currentData() == "new" or model_knows_red_cells(self.current_model):
            return f" {red} of them are red cells, which the new model learns as a class."
        name = self.current_model.name if self.current_model is not None else "the current model"
        return (f" {red} of them are red cells: {name} has no red-cell class, so they train as background "
                "(detection outlines red cells with the classical red-cell finder).")

    def is_busy(self) -> bool:
        """Training or comparing the models."""
        return self.process.is_running() or self.evaluations.is_running()

    def request(self, data_folder: Path) -> TrainRequest:
        images, _missing = self._images()
        written = write_training_set(self.dataset, images, data_folder, held_out=held_out_images(images))
        self.training_set = written
        mode = self.start_from.currentData()
        adapt = mode in ("adapt", "classes")  # the trainer chooses the schedule (none at all for classes)
        return TrainRequest(
            data=written.coco,
            images=written.images_root,
            backbone=None if adapt else self.backbone.currentText(),
            out=self.store_dir / self.name.text().strip(),
            epochs=None if adapt else self.epochs.value(),
            steps_per_epoch=None if adapt else self.steps.value(),
            init_model=self.current_model if mode in ("adapt", "classes", "finetune") else None,
            extra=[arg for item in shlex.split(self.overrides.text()) for arg in ("--set", item)]
            + (["--pixel-size", repr(self.pixel_size)] if self.pixel_size else [])
            + keep_start_args(mode, self.keep_start.value())
            + classifier_args(mode, self.classifier.currentData() if self.classifier.isEnabled() else None),
        )

    # --- running ------------------------------------------------------------------
    def start(self) -> None:
        name = self.name.text().strip()
        if not name or "/" in name or (self.store_dir / name).exists():
            self.eta.setText("Choose a new model name (a folder of that name exists or the name is empty).")
            return
        if portable_name(name, max_chars=len(name)) != name:
            # the model is a folder: a name a Windows PC or the lab's share cannot store breaks a copy
            self.eta.setText("Choose a model name a Windows PC can store: no \\ : * ? \" < > |, no trailing dot "
                             f"or space, at most 120 bytes (the model is a folder called {name!r}).")
            return
        self._update_summary()  # what is used now: cells checked or files gone since the dialog opened
        if not self.start_button.isEnabled():
            self.eta.setText("Wait for the pixel-size check (see Images above)." if self.scale_checker.busy()
                             else "Nothing to train on yet (see Images above).")
            return
        folder = Path(self.work_dir or tempfile.mkdtemp(prefix="bloodview-train-")) / name
        try:
            request = self.request(folder)
        except Exception as exc:  # noqa: BLE001 - told to the user; nothing started
            log.exception("could not write the training set")
            self.eta.setText(f"Could not write the training data: {exc}")
            return
        self._epochs = request.epochs or 1  # the adapt recipe's count arrives in the start event
        self.plot.clear()
        self._step_epochs.clear()
        self.plot.epochs = self._epochs
        self.comparison.clear()
        self.verdict = ""
        self.flattered = False
        self.bar.setValue(0)
        self.eta.setText("Starting the trainer (loading TensorFlow)…")
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.process.start(request.args(), out=request.out)  # removed if the run ends without a model

    def cancel(self) -> None:
        """Stop the training, or the comparison after it (the new model is then offered uncompared)."""
        if self.process.is_running():
            self.process.cancel()
        elif self.evaluations.is_running():
            self.evaluations.cancel()

    def _log_line(self, line: str) -> None:
        self.log.show()
        self.log.appendPlainText(line)

    def _on_event(self, event: ProgressEvent) -> None:
        if event.epochs:
            self._epochs = event.epochs
            self.plot.epochs = event.epochs
        fraction = event.fraction
        if fraction is not None:
            self.bar.setValue(int(fraction * 1000))
        if event.event == "step" and "loss" in event.losses and fraction is not None:
            self.plot.add_point("loss", fraction * self._epochs, event.losses["loss"])
            self._step_epochs.add(event.epoch)
        if event.event == "epoch":
            if "loss" in event.losses and event.epoch not in self._step_epochs:
                self.plot.add_point("loss", float(event.epoch or 0), event.losses["loss"])
            if event.val_losses and "loss" in event.val_losses:
                self.plot.add_point("val_loss", float(event.epoch or 0), event.val_losses["loss"])
        if event.event in ("step", "epoch"):
            loss = event.losses.get("loss")
            loss_text = f" · loss {loss:.3f}" if loss is not None else ""
            self.eta.setText(f"Epoch {event.epoch}/{event.epochs}{loss_text} · "
                             f"about {format_eta(event.eta_s)} left")
        elif event.event == "error":
            self.eta.setText(f"Error: {event.message}")

    def _on_finished(self, outcome: TrainOutcome) -> None:
        self.outcome = outcome
        self.eta.setText(outcome.message)
        if (self.store_dir / self.name.text().strip()).exists():  # taken now (by the new model, or a folder kept)
            self.name.setText(fresh_model_name(self.store_dir))
        if outcome.ok:
            self.bar.setValue(1000)
            self._caution(outcome.model_dir)
            self._compare(outcome.model_dir or "")
            return
        self.cancel_button.setEnabled(False)
        self._update_summary()  # Start again, or not while nothing can be learnt (see Images)
        images, _missing = self._images()
        note = "" if outcome.cancelled else self._scale_check(images, held_out_images(images)).note(
            self.start_from.currentData() == "classes")
        if note:
            self.eta.setText(f"{outcome.message}\nNote:{note}")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.is_busy():
            self.hide()  # keeps training or comparing; the Model menu brings the dialog back
            event.ignore()
            return
        self.scale_checker.cancel()  # Model → Retrain… opens a new dialog, which checks again
        super().closeEvent(event)


