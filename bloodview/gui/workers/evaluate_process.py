"""Evaluations as separate processes: ``bloodview evaluate --model …`` in a QProcess, one after another.

Used by the Retrain dialog to score the current and the new model on the
held-out images. Like training, TensorFlow loads only in the child process, so
a model that cannot be loaded or runs out of memory ends that process, not the
editor. Each run ends in an :class:`EvaluateOutcome`: the report folder, or a
sentence saying why there is none (the last lines the process printed).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QObject, QProcess, QProcessEnvironment, pyqtSignal

from bloodview.gui.workers.progress import LineBuffer
from bloodview.gui.workers.train_process import bloodview_command

log = logging.getLogger(__name__)
CANCELLED = "The evaluation was cancelled."  # an outcome's message when the user cancelled it


@dataclass(frozen=True)
class EvaluateJob:
    """One model scored on one ground truth; ``out`` is the report folder to write."""

    name: str  # what the user calls it: "current", "new"
    model: Path
    gt: Path
    images: Path
    out: Path
    pixel_size: float | None = None  # µm per pixel for every image (None: as the ground truth says)

    def args(self) -> list[str]:
        args = ["evaluate", "--gt", str(self.gt), "--images", str(self.images),
                "--model", str(self.model), "--out", str(self.out)]
        if self.pixel_size:
            args += ["--pixel-size", repr(self.pixel_size)]
        return args


@dataclass(frozen=True)
class EvaluateOutcome:
    job: EvaluateJob
    ok: bool
    message: str  # "" when ok

    @property
    def report_dir(self) -> Path | None:
        return self.job.out if self.ok else None


class EvaluateQueue(QObject):
    """Runs :class:`EvaluateJob`s one at a time (two TensorFlow processes at once would halve each)."""

    jobStarted = pyqtSignal(object)  # EvaluateJob
    jobFinished = pyqtSignal(object)  # EvaluateOutcome
    finished = pyqtSignal(list)  # [EvaluateOutcome], in the jobs' order
    logLine = pyqtSignal(str)

    def __init__(self, parent: QObject | None = None, command: Sequence[str] | None = None):
        super().__init__(parent)
        self.command = list(command or bloodview_command())
        self.process: QProcess | None = None
        self._jobs: list[EvaluateJob] = []
        self._outcomes: list[EvaluateOutcome] = []
        self._tail: deque[str] = deque(maxlen=8)
        self._lines = LineBuffer()
        self._cancelled = False

    def is_running(self) -> bool:
        return self.process is not None

    def start(self, jobs: Sequence[EvaluateJob]) -> None:
        if self.is_running():
            raise RuntimeError("an evaluation is already running")
        self._jobs, self._outcomes, self._cancelled = list(jobs), [], False
        self._next()

    def cancel(self) -> None:
        """Stop the running evaluation and skip the rest (each ends as 'cancelled')."""
        self._cancelled = True
        if self.process is not None:
            self.process.kill()

    def wait(self, ms: int = 30000) -> bool:
        return self.process is None or self.process.waitForFinished(ms)

    def _next(self) -> None:
        if len(self._outcomes) == len(self._jobs):
            self.finished.emit(list(self._outcomes))
            return
        job = self._jobs[len(self._outcomes)]
        if self._cancelled:
            self._record(EvaluateOutcome(job, False, CANCELLED))
            return
        self._tail.clear()
        self._lines = LineBuffer()
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(env)
        process.readyReadStandardOutput.connect(self._read)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)
        self.process = process
        program, *base = self.command
        log.info("starting %s", " ".join([program, *base, *job.args()]))
        self.jobStarted.emit(job)
        process.start(program, [*base, *job.args()])

    def _read(self) -> None:
        self._lines_out(self._lines.feed(self.process.readAllStandardOutput().data()))

    def _lines_out(self, lines: list[str]) -> None:
        for line in lines:
            line = line.rstrip("\r").split("\r")[-1]  # a progress bar's last state
            if line.strip():
                self._tail.append(line)
                self.logLine.emit(line)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._done(f"The evaluation could not be started ({self.command[0]}).")

    def _finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        self._read()
        self._lines_out(self._lines.flush())
        job = self._jobs[len(self._outcomes)]
        if self._cancelled:
            self._done(CANCELLED)
        elif exit_status == QProcess.ExitStatus.CrashExit:
            self._done(self._why("crashed or was killed (out of memory?)"))
        elif exit_code != 0:
            self._done(self._why(f"failed (exit code {exit_code})"))
        elif not (job.out / "report.json").is_file():
            self._done(self._why("ended without writing report.json"))
        else:
            self._done("")

    def _why(self, what: str) -> str:
        tail = "\n".join(list(self._tail)[-4:])
        return f"The evaluation {what}." + (f"\n{tail}" if tail else "")

    def _done(self, message: str) -> None:
        process, self.process = self.process, None
        if process is None:
            return  # FailedToStart and finished can both arrive
        process.deleteLater()
        self._record(EvaluateOutcome(self._jobs[len(self._outcomes)], not message, message))

    def _record(self, outcome: EvaluateOutcome) -> None:
        self._outcomes.append(outcome)
        self.jobFinished.emit(outcome)
        self._next()
