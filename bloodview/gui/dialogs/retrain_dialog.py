"""Model → Retrain…: choose what to train, run it as a process, watch loss and ETA.

The dialog writes the chosen images as COCO (:mod:`bloodview.gui.training_data`),
runs ``bloodview train … --progress jsonl`` through :class:`TrainProcess` and
emits :attr:`RetrainDialog.modelTrained` with the new model folder on success.
It is modeless: the editor stays usable while training runs.
"""

from __future__ import annotations

import datetime as _dt
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
from bloodview.gui.dialogs.loss_plot import LossPlot
from bloodview.gui.training_data import training_images, unreviewed_images, write_training_set
from bloodview.gui.workers.progress import ProgressEvent, format_eta
from bloodview.gui.workers.train_process import TrainOutcome, TrainProcess, TrainRequest

log = logging.getLogger(__name__)

FALLBACK_BACKBONES = ["resnet50", "resnet101", "resnet152", "resnext50", "vgg19",
                      "densenet121", "densenet169", "mobilenetv3large"]


def backbone_names() -> tuple[list[str], str]:
    """(names, default) from the TF-free backbone registry."""
    try:
        from bloodview.model.backbones.registry import DEFAULT_FAST_BACKBONE, available_backbones
    except ImportError:
        return FALLBACK_BACKBONES, FALLBACK_BACKBONES[-1]
    return available_backbones(), DEFAULT_FAST_BACKBONE


class RetrainDialog(QDialog):
    modelTrained = pyqtSignal(str)

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
        self.outcome: TrainOutcome | None = None
        self._epochs = 1
        self._step_epochs: set[int | None] = set()  # epochs whose loss is plotted per step

        self.name = QLineEdit(f"bloodview-{_dt.datetime.now():%Y%m%d-%H%M}")
        self.start_from = QComboBox()
        if current_model is not None:
            self.start_from.addItem(f"Fine-tune the current model ({current_model.name})", "finetune")
        self.start_from.addItem("Train a new model from a backbone", "new")
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
        self.overrides = QLineEdit()
        self.overrides.setPlaceholderText("e.g. image_max_dim=256 learning_rate=0.002")
        self.overrides.setToolTip("Config fields to change (bloodview train --set FIELD=VALUE)")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        form = QFormLayout()
        form.addRow("New model name", self.name)
        form.addRow("Start from", self.start_from)
        form.addRow("Backbone", self.backbone)
        form.addRow("Epochs", self.epochs)
        form.addRow("Steps per epoch", self.steps)
        form.addRow("Settings", self.overrides)
        form.addRow("Images", self.summary)

        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.eta = QLabel("Not started")
        self.plot = LossPlot()
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
        layout.addWidget(self.log)
        layout.addLayout(buttons)
        self.resize(620, 640)

        self.start_from.currentIndexChanged.connect(self._mode_changed)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.process.cancel)
        self.close_button.clicked.connect(self.close)
        self.process.progressEvent.connect(self._on_event)
        self.process.logLine.connect(self._log_line)
        self.process.finished.connect(self._on_finished)
        self._mode_changed()
        self._update_summary()

    # --- set-up ---------------------------------------------------------------
    def _mode_changed(self) -> None:
        self.backbone.setEnabled(self.start_from.currentData() == "new")

    def _update_summary(self) -> None:
        images = training_images(self.dataset, self.broken)
        cells = sum(len(i.instances) for i in images)
        left_out = len(unreviewed_images(self.dataset, self.broken))
        text = f"{len(images)} images with {cells} cells will be used (every cell checked by a person)."
        if left_out:
            text += f" {left_out} images with unchecked cells are left out."
        self.summary.setText(text)
        self.start_button.setEnabled(bool(images) and not self.process.is_running())

    def request(self, data_folder: Path) -> TrainRequest:
        images = training_images(self.dataset, self.broken)
        written = write_training_set(self.dataset, images, data_folder)
        finetune = self.start_from.currentData() == "finetune"
        return TrainRequest(
            data=written.coco,
            images=written.images_root,
            backbone=self.backbone.currentText(),
            out=self.store_dir / self.name.text().strip(),
            epochs=self.epochs.value(),
            steps_per_epoch=self.steps.value(),
            init_model=self.current_model if finetune else None,
            extra=[arg for item in shlex.split(self.overrides.text()) for arg in ("--set", item)]
            + (["--pixel-size", repr(self.pixel_size)] if self.pixel_size else []),
        )

    # --- running ------------------------------------------------------------------
    def start(self) -> None:
        name = self.name.text().strip()
        if not name or "/" in name or (self.store_dir / name).exists():
            self.eta.setText("Choose a new model name (a folder of that name exists or the name is empty).")
            return
        folder = Path(self.work_dir or tempfile.mkdtemp(prefix="bloodview-train-")) / name
        try:
            request = self.request(folder)
        except Exception as exc:  # noqa: BLE001 - told to the user; nothing started
            log.exception("could not write the training set")
            self.eta.setText(f"Could not write the training data: {exc}")
            return
        self._epochs = request.epochs
        self.plot.clear()
        self._step_epochs.clear()
        self.plot.epochs = request.epochs
        self.bar.setValue(0)
        self.eta.setText("Starting the trainer (loading TensorFlow)…")
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.process.start(request.args())

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
        self.cancel_button.setEnabled(False)
        self.start_button.setEnabled(True)
        self.eta.setText(outcome.message)
        if outcome.ok:
            self.bar.setValue(1000)
            self._caution(outcome.model_dir)
            self.modelTrained.emit(outcome.model_dir or "")

    def _caution(self, model_dir: str | None) -> None:
        """Say under the result when the new model learnt from too little to be trusted."""
        from bloodview.errors import BloodviewError
        from bloodview.gui.model_actions import training_caution
        from bloodview.model.store import read_model_info

        try:
            caution = training_caution(read_model_info(Path(model_dir or "")).training)
        except BloodviewError as exc:
            caution = f"its model.json cannot be read ({exc})"
        if caution:
            self.eta.setText(f"{self.eta.text()}\nCaution: the new model {caution}")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.process.is_running():
            self.hide()  # keeps training; the Model menu brings the dialog back
            event.ignore()
            return
        super().closeEvent(event)


