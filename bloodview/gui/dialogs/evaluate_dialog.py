"""Model → Evaluate…: run ``bloodview evaluate`` on the reviewed images, show its tables.

The reviewed images (every cell checked by a person) are the ground truth; the
selected model predicts them in a separate process (TensorFlow never loads in
the editor, :class:`~bloodview.gui.workers.evaluate_process.EvaluateQueue`), and
the report folder's ``report.md`` (the paper's Tables 4 and 5) is shown, with the
confusion matrix picture when there is one.

Before Start the dialog says what will be evaluated and what weakens it (images
whose file is missing are left out and named, box-only ground truth, no pixel
size, too few cells); after the run it says the headline figures in a lab's
words (:func:`headline`) above the full report, and where the report folder is
kept (:func:`default_reports_root`, one folder per run, the last :data:`KEEP_RUNS`) so it can be
opened again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PyQt6.QtCore import QStandardPaths, Qt, QUrl, pyqtSignal
from PyQt6.QtGui import QDesktopServices, QPixmap
from PyQt6.QtWidgets import (
    QDialog,
    QFileDialog,
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
from bloodview.errors import BloodviewError
from bloodview.evaluation.reports import load_report
from bloodview.gui.comparison import clear_margin
from bloodview.gui.style import resize_within_screen
from bloodview.gui.training_data import missing_images, training_images, unreviewed_images, write_training_set
from bloodview.gui.workers.evaluate_process import EvaluateJob, EvaluateOutcome, EvaluateQueue

log = logging.getLogger(__name__)

FEW_CELLS = 100  # below this, a figure's noise (±1/sqrt(cells)) is said beside it: ±0.10 at 100
NAMED = 5  # missing files named one by one, then "and N more"


KEEP_RUNS = 30
"""Evaluation folders kept under the reports root; older ones go when a new run starts."""


def prune_old_runs(root: Path, keep: int = KEEP_RUNS) -> list[Path]:
    """Remove all but the ``keep`` newest run folders under ``root`` (by modification time); the
    folders removed.

    Why: each run keeps its ground truth and report, and nothing ever removed them, so a lab that
    evaluates after every Retrain filled its data folder for good. Only folders holding a ``report``
    folder or a ``train.json`` (what :meth:`EvaluateDialog.start` writes) are touched; a folder that
    cannot be removed is left with a line in the log."""
    import shutil

    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir()
            if p.is_dir() and not p.is_symlink() and ((p / "report").is_dir() or (p / "train.json").is_file())]
    runs.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    removed = []
    for old in runs[keep:]:
        try:
            shutil.rmtree(old)
            removed.append(old)
        except OSError as exc:
            log.warning("could not remove the old evaluation folder %s: %s", old, exc)
    return removed


def default_reports_root() -> Path:
    """Where each evaluation's folder is kept: the user's data folder beside the crash-recovery
    autosaves (``~/.local/share/bloodview/evaluations`` on Linux), not a temporary folder and not
    named after whatever program hosts the window."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base or Path.home() / ".local/share") / "bloodview" / "evaluations"


@dataclass
class Readiness:
    """What Start would evaluate, and the sentences that say so (Qt-free)."""

    images: list = field(default_factory=list)  # reviewed images whose file is there
    cells: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.images)


def readiness(dataset: Dataset, broken: Sequence[int] = (), pixel_size: float | None = None) -> Readiness:
    reviewed = training_images(dataset, broken=broken)
    missing = missing_images(dataset, reviewed)
    gone = {id(i) for i in missing}
    images = [i for i in reviewed if id(i) not in gone]
    cells = sum(len(i.instances) for i in images)
    unchecked = unreviewed_images(dataset, broken=broken)
    lines: list[str] = []
    if not images:
        why = ("No reviewed image to evaluate on: the ground truth is the images whose every cell a person "
               "checked (drawn, corrected or confirmed; or imported as reviewed).")
        if unchecked:
            why += f" {len(unchecked)} image(s) with cells are left out because some of their cells are unchecked."
        lines.append(why)
    else:
        signed = sum(1 for i in images if i.signed_off)
        lines.append(f"Ground truth: {len(images)} reviewed image(s) with {cells} checked cells "
                     f"({signed} signed off), as they are now, unsaved changes included.")
        if unchecked:
            lines.append(f"{len(unchecked)} image(s) with unchecked cells are left out.")
    if missing:
        names = ", ".join(i.image_path.name for i in missing[:NAMED])
        more = f" and {len(missing) - NAMED} more" if len(missing) > NAMED else ""
        lines.append(f"Left out, image file missing: {names}{more} (File → Locate images… if they moved).")
    if not images:
        return Readiness(images, cells, lines)
    if pixel_size:
        lines.append(f"Read at the project's pixel size, {pixel_size:g} µm/px.")
    else:
        unknown = sum(1 for i in images if i.pixel_size_um is None)
        if unknown:
            lines.append(f"{unknown} of {len(images)} image(s) have no pixel size: the model measures it from their "
                         "red cells, and crops without red cells are read at a guessed scale, which can lower "
                         "every figure. Set it with Model → Pixel size… first.")
    boxes = sum(1 for i in images if any(c.box_only for c in i.instances))
    if boxes:
        lines.append(f"{boxes} of {len(images)} image(s) have box-only ground truth (rectangles, e.g. VOC): they "
                     "count for the box figures only; no mask (outline) figure is made from them.")
    if cells < FEW_CELLS:
        lines.append(f"Only {cells} cells: a figure here is uncertain by about ±{clear_margin(cells):.2f} "
                     f"(±0.10 needs {FEW_CELLS} cells).")
    return Readiness(images, cells, lines)


def headline(report: dict) -> str:
    """The figures a lab asks about first, in words, from a ``report.json`` (Qt-free)."""
    counts = report.get("counts") or {}
    classification = report.get("classification") or {}
    cells = int(counts.get("ground_truth_cells") or classification.get("ground_truth") or 0)
    parts: list[str] = []
    accuracy = classification.get("accuracy")
    if isinstance(accuracy, (int, float)):
        matched, missed, spurious = (int(classification.get(k) or 0) for k in ("matched", "missed", "spurious"))
        parts.append(f"Classification accuracy {accuracy:.2f}: share of the {cells} cells found and named right, "
                     f"extra detections counted as errors ({matched} found, {missed} missed, {spurious} "
                     f"detections where no cell was marked).")
        matched_accuracy = classification.get("accuracy_matched")
        if isinstance(matched_accuracy, (int, float)) and spurious + missed:
            parts.append(f"Of the cells found, {matched_accuracy:.2f} were named right.")
    for kind, what in (("mask", "outlines"), ("box", "boxes")):
        figures = report.get(kind)
        if isinstance(figures, dict) and isinstance(figures.get("mAP50"), (int, float)):
            parts.append(f"Detection ({what}): mAP@0.5 {figures['mAP50']:.2f}, mAP@0.5:0.95 "
                         f"{figures.get('mAP50_95') or 0:.2f}. mAP is averaged over the classes and a cell with "
                         "the wrong class counts as missed for its class, so it falls with wrong classes as well "
                         "as with poor outlines; it is not a share of cells.")
            break
    if report.get("mask") is None and isinstance(report.get("box"), dict):
        parts.append("The ground truth is boxes only: no mask (outline) figure.")
    if 0 < cells < FEW_CELLS:
        parts.append(f"On {cells} cells each figure is uncertain by about ±{clear_margin(cells):.2f}.")
    elif cells == 0:
        parts.append("No outlined cells in the ground truth: only image labels were compared.")
    return " ".join(parts)


class EvaluateDialog(QDialog):
    finishedReport = pyqtSignal(str)  # report folder ("" on failure or cancel)

    def __init__(self, dataset: Dataset, model_dir: Path, broken: tuple[int, ...] = (),
                 command: Sequence[str] | None = None, parent: QWidget | None = None,
                 pixel_size: float | None = None, reports_root: Path | None = None,
                 project: Callable[[], tuple[Dataset, tuple[int, ...], float | None]] | None = None):
        super().__init__(parent)
        self._project = project  # () -> (dataset, unreadable image indices, project pixel size) as they are now
        self.setWindowTitle(f"Evaluate {Path(model_dir).name}")
        self.pixel_size = pixel_size  # the project's µm per pixel (None: measured per image)
        self.dataset, self.model_dir, self.broken = dataset, Path(model_dir), broken
        self.reports_root = Path(reports_root) if reports_root is not None else default_reports_root()
        self.queue = EvaluateQueue(self, command=command)
        self.out_dir: Path | None = None
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setObjectName("evaluationSummary")
        self.summary.setWordWrap(True)
        self.summary.hide()
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.folder_button = QPushButton("Open report folder")
        self.folder_button.setEnabled(False)
        self.earlier_button = QPushButton("Open a report…")
        close = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addWidget(self.earlier_button)
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)
        for button in (self.start_button, self.cancel_button, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.summary)
        layout.addWidget(self.where)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.folder_button.clicked.connect(self.open_folder)
        self.earlier_button.clicked.connect(self.open_earlier)
        close.clicked.connect(self.close)
        self.queue.logLine.connect(self.log.appendPlainText)
        self.queue.jobFinished.connect(self._finished)
        resize_within_screen(self, 760, 660)
        self.refresh()

    def _follow_window(self) -> None:
        """Take the window's project as it is now: the dialog is modeless, so the project, its
        broken images and its pixel size (Model → Pixel size…) can change while it is open."""
        if self._project is not None:
            self.dataset, self.broken, self.pixel_size = self._project()

    def refresh(self) -> Readiness:
        self._follow_window()
        ready = readiness(self.dataset, self.broken, self.pixel_size)
        self.info.setText(" ".join([*ready.lines, f"Model: {self.model_dir.name}."]))
        self.start_button.setEnabled(ready.ok and not self.queue.is_running())
        return ready

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self.queue.is_running():
            self.refresh()
        super().showEvent(event)

    def start(self) -> None:
        if self.queue.is_running():
            return
        ready = self.refresh()
        if not ready.ok:
            return
        prune_old_runs(self.reports_root, KEEP_RUNS - 1)  # room for this one
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run = self.reports_root / f"{self.model_dir.name}-{stamp}"
        suffix = 1
        while run.exists():
            suffix += 1
            run = self.reports_root / f"{self.model_dir.name}-{stamp}-{suffix}"
        try:
            written = write_training_set(self.dataset, ready.images, run)
        except Exception as exc:  # noqa: BLE001 - told to the user
            self.tables.setPlainText(f"Could not write the ground truth to {run}: {exc}")
            return
        self.out_dir = run / "report"
        job = EvaluateJob("evaluate", self.model_dir, written.coco, written.images_root, self.out_dir,
                          self.pixel_size)
        self.summary.hide()
        self.where.setText("")
        self.folder_button.setEnabled(False)
        self.picture.setPixmap(QPixmap())
        self.picture.setText("The confusion matrix appears here.")
        self.tables.setPlainText(f"Evaluating {ready.cells} cells on {len(ready.images)} image(s): the model "
                                 "predicts every reviewed image in a separate process…")
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.queue.start([job])

    def cancel(self) -> None:
        if self.queue.is_running():
            self.queue.cancel()

    def _finished(self, outcome: EvaluateOutcome) -> None:
        self.cancel_button.setEnabled(False)
        self.start_button.setEnabled(True)
        report = outcome.job.out / "report.md"
        if not outcome.ok or not report.is_file():
            message = outcome.message or "The evaluation ended without writing report.md."
            self.tables.setPlainText(message + ("" if "cancelled" in message else "\nSee the Log tab."))
            if "cancelled" not in message:
                self.tabs.setCurrentWidget(self.log)
            self.finishedReport.emit("")
            return
        self.show_report(outcome.job.out)
        self.finishedReport.emit(str(outcome.job.out))

    def show_report(self, folder: Path) -> bool:
        """Show the report in ``folder`` (one this dialog made, or an earlier one opened again)."""
        folder = Path(folder)
        try:
            report = load_report(folder)
            text = (folder / "report.md").read_text(encoding="utf-8")
        except (BloodviewError, OSError) as exc:
            self.tables.setPlainText(f"Cannot show the report in {folder}: {exc}")
            return False
        self.out_dir = folder
        self.summary.setText(headline(report))
        self.summary.show()
        self.where.setText(f"Report folder (kept): {folder}")
        self.folder_button.setEnabled(True)
        self.tables.setMarkdown(text)
        self.tabs.setCurrentWidget(self.tables)
        matrix = folder / "confusion_matrix.png"
        if matrix.is_file():
            self.picture.setPixmap(QPixmap(str(matrix)))
        else:
            self.picture.setPixmap(QPixmap())
            self.picture.setText("No confusion matrix picture in this report.")
        return True

    def open_folder(self) -> None:
        if self.out_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.out_dir)))

    def open_earlier(self) -> None:
        start = str(self.reports_root if self.reports_root.is_dir() else Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open an evaluation report folder", start)
        if folder:
            self.show_report(Path(folder))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.cancel()
        self.queue.wait(3000)
        super().closeEvent(event)
