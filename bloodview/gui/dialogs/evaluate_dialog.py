"""Model → Evaluate…: run ``bloodview evaluate`` on the reviewed images, show its tables.

The reviewed images (every cell checked by a person) are the ground truth; the
selected model predicts them in a separate process (TensorFlow never loads in
the editor), and the report folder's ``report.md`` (the paper's Tables 4 and 5)
is shown, with the confusion matrix picture when there is one.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PyQt6.QtCore import QProcess, pyqtSignal
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from bloodview.core.annotation import Dataset
from bloodview.gui.training_data import training_images, write_training_set
from bloodview.gui.workers.train_process import bloodview_command

log = logging.getLogger(__name__)


class EvaluateDialog(QDialog):
    finishedReport = pyqtSignal(str)  # report folder ("" on failure)

    def __init__(self, dataset: Dataset, model_dir: Path, broken: tuple[int, ...] = (),
                 command: Sequence[str] | None = None, parent: QWidget | None = None,
                 pixel_size: float | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Evaluate {model_dir.name}")
        self.pixel_size = pixel_size  # the project's µm per pixel (None: measured per image)
        self.dataset, self.model_dir, self.broken = dataset, Path(model_dir), broken
        self.command = list(command or bloodview_command())
        self.process: QProcess | None = None
        self.out_dir: Path | None = None
        images = training_images(dataset, broken=broken)
        self.info = QLabel(f"Ground truth: {len(images)} reviewed image(s) with "
                           f"{sum(len(i.instances) for i in images)} checked cells. "
                           f"Model: {self.model_dir.name}.")
        self.info.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tables = QTextBrowser()
        self.tables.setObjectName("evaluationTables")
        self.picture = QLabel("The confusion matrix appears here.")
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.tabs.addTab(self.tables, "Tables")
        self.tabs.addTab(self.picture, "Confusion matrix")
        self.tabs.addTab(self.log, "Log")
        self.start_button = QPushButton("Evaluate")
        self.start_button.setEnabled(bool(images))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        close = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.start_button, self.cancel_button, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        close.clicked.connect(self.close)
        self.resize(760, 620)

    def start(self) -> None:
        work = Path(tempfile.mkdtemp(prefix="bloodview-evaluate-"))
        images = training_images(self.dataset, broken=self.broken)
        try:
            written = write_training_set(self.dataset, images, work)
        except Exception as exc:  # noqa: BLE001 - told to the user
            self.tables.setPlainText(f"Could not write the ground truth: {exc}")
            return
        self.out_dir = work / "report"
        args = ["evaluate", "--gt", str(written.coco), "--images", str(written.images_root),
                "--model", str(self.model_dir), "--out", str(self.out_dir)]
        if self.pixel_size:
            args += ["--pixel-size", repr(self.pixel_size)]
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(
            lambda: self.log.appendPlainText(
                process.readAllStandardOutput().data().decode("utf-8", "replace").rstrip()))
        process.finished.connect(self._finished)
        self.process = process
        self.tables.setPlainText("Evaluating (the model predicts every reviewed image)…")
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        program, *base = self.command
        process.start(program, [*base, *args])

    def cancel(self) -> None:
        if self.process is not None:
            self.process.kill()

    def _finished(self, exit_code: int, _status) -> None:
        self.cancel_button.setEnabled(False)
        self.start_button.setEnabled(True)
        report = self.out_dir / "report.md" if self.out_dir else None
        if exit_code != 0 or report is None or not report.is_file():
            self.tables.setPlainText("The evaluation failed; see the Log tab.")
            self.tabs.setCurrentWidget(self.log)
            self.finishedReport.emit("")
            return
        self.tables.setMarkdown(report.read_text(encoding="utf-8"))
        matrix = self.out_dir / "confusion_matrix.png"
        if matrix.is_file():
            self.picture.setPixmap(QPixmap(str(matrix)))
        self.finishedReport.emit(str(self.out_dir))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.cancel()
        if self.process is not None:
            self.process.waitForFinished(3000)
        super().closeEvent(event)
