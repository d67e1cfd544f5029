"""Training as a separate process: ``bloodview train … --progress jsonl`` in a QProcess.

A crash, an out-of-memory kill or a Python error in TensorFlow ends only that
process; the editor keeps running and reports what happened. Progress comes
from the JSON lines on stdout (:mod:`bloodview.gui.workers.progress`); stderr is
kept (last lines) to explain a failure.

A run that ends without a model (cancelled, crashed, failed) leaves checkpoints in its ``--out``
folder; once the process has exited that folder is removed, if this run created it and it holds no
``model.json`` (:mod:`bloodview.gui.workers.run_folder`), and the outcome's message says so. The
message and the trainer's last lines (:attr:`TrainProcess.logLine`) are kept: they say why it ended.
Such a run is started with ``--no-resume-hint``, so the trainer's own stop message does not tell the
person to ``--resume`` from the folder about to be removed.
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PyQt6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, pyqtSignal

from bloodview.gui.workers.progress import LineBuffer, ProgressEvent, parse_progress_line
from bloodview.gui.workers.run_folder import RunFolder

log = logging.getLogger(__name__)

KILL_AFTER_MS = 5000
NO_RESUME_HINT = "--no-resume-hint"  # bloodview train: its stop message offers no --resume


@dataclass
class TrainRequest:
    """What to train. ``init_model`` set means fine-tune that model; paths absolute.

    ``epochs=None`` (and no ``steps_per_epoch``) with ``init_model`` leaves the
    schedule to ``bloodview train``: its recipe for adapting a model to a few
    images; the chosen epochs and steps arrive in the trainer's ``start`` event.
    """

    data: Path
    images: Path
    backbone: str | None  # None: the init model's
    out: Path
    epochs: int | None
    steps_per_epoch: int | None = None
    init_model: Path | None = None
    extra: list[str] = field(default_factory=list)

    def args(self) -> list[str]:
        args = ["train", "--data", str(self.data), "--images", str(self.images)]
        if self.backbone:
            args += ["--backbone", self.backbone]
        if self.epochs:
            args += ["--epochs", str(self.epochs)]
        args += ["--out", str(self.out), "--progress", "jsonl"]
        if self.steps_per_epoch:
            args += ["--steps-per-epoch", str(self.steps_per_epoch)]
        if self.init_model is not None:
            args += ["--init", str(self.init_model)]
        return args + list(self.extra)


@dataclass
class TrainOutcome:
    ok: bool
    cancelled: bool
    model_dir: str | None
    message: str
    exit_code: int


def bloodview_command() -> list[str]:
    """How to run our own CLI: the same interpreter, ``-m bloodview``."""
    return [sys.executable, "-m", "bloodview"]


class TrainProcess(QObject):
    """Starts, watches and cancels one training process."""

    progressEvent = pyqtSignal(object)  # ProgressEvent
    logLine = pyqtSignal(str)
    finished = pyqtSignal(object)  # TrainOutcome

    def __init__(self, parent: QObject | None = None, command: Sequence[str] | None = None,
                 cwd: Path | None = None):
        super().__init__(parent)
        self.command = list(command or bloodview_command())
        self.cwd = cwd
        self.process: QProcess | None = None
        self._stdout = LineBuffer()
        self._stderr: deque[str] = deque(maxlen=40)
        self._last: ProgressEvent | None = None
        self._error_message: str | None = None
        self._done_dir: str | None = None
        self._cancelled = False
        self._run: RunFolder | None = None  # the --out folder of the run under way

    def is_running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def start(self, args: Sequence[str], out: Path | None = None) -> None:
        """Run the trainer with ``args``; ``out``: its ``--out`` folder, removed if the run ends without a
        model and did not find it there (see the module doc; ``None``: nothing is removed)."""
        if self.is_running():
            raise RuntimeError("a training process is already running")
        self._run = RunFolder.claim(out) if out is not None else None
        if self._run is not None and not self._run.existed:  # removed if it ends without a model: no resuming it
            args = [*args, NO_RESUME_HINT]
        self._stdout = LineBuffer()
        self._stderr.clear()
        self._last = self._error_message = self._done_dir = None
        self._cancelled = False
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(env)
        if self.cwd is not None:
            process.setWorkingDirectory(str(self.cwd))
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)
        self.process = process
        program, *base = self.command
        log.info("starting %s", " ".join([program, *base, *args]))
        process.start(program, [*base, *args])

    def cancel(self) -> None:
        """Ask the trainer to stop (SIGTERM), kill it if it has not gone in 5 s."""
        if not self.is_running():
            return
        self._cancelled = True
        self.process.terminate()
        # The timer is the process's child: if the process object is deleted first
        # (window closed, test over), the timer goes with it instead of firing on a
        # dead wrapper.
        timer = QTimer(self.process)
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: self._kill_if_still_running(timer.parent()))
        timer.start(KILL_AFTER_MS)

    @staticmethod
    def _kill_if_still_running(process: QProcess) -> None:
        if process.state() != QProcess.ProcessState.NotRunning:
            process.kill()

    def kill(self) -> None:
        if self.is_running():
            self._cancelled = True
            self.process.kill()

    def wait(self, ms: int = 30000) -> bool:
        return self.process is None or self.process.waitForFinished(ms)

    def _read_stdout(self) -> None:
        for line in self._stdout.feed(self.process.readAllStandardOutput().data()):
            self._handle_line(line)

    def _handle_line(self, line: str) -> None:
        event = parse_progress_line(line)
        if event is None:
            if line.strip():
                self.logLine.emit(line)
            return
        self._last = event
        if event.event == "error":
            self._error_message = event.message or "training failed"
        elif event.event == "done":
            self._done_dir = event.model_dir
        self.progressEvent.emit(event)

    def _read_stderr(self) -> None:
        text = self.process.readAllStandardError().data().decode("utf-8", errors="replace")
        for line in text.splitlines():
            if line.strip():
                self._stderr.append(line)
                self.logLine.emit(line)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._emit_outcome(TrainOutcome(False, False, None,
                                            f"The trainer could not be started ({self.command[0]}).", -1))

    def _finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        for line in self._stdout.flush():
            self._handle_line(line)
        self._read_stderr()
        crashed = exit_status == QProcess.ExitStatus.CrashExit
        if self._cancelled:
            outcome = TrainOutcome(False, True, None, "Training was cancelled.", exit_code)
        elif not crashed and exit_code == 0 and self._done_dir:
            outcome = TrainOutcome(True, False, self._done_dir, "Training finished.", 0)
        else:
            outcome = TrainOutcome(False, False, None, self._failure_text(crashed, exit_code), exit_code)
        run, self._run = self._run, None
        if not outcome.ok and run is not None:  # the process has exited: nothing writes there any more
            removed = run.discard_unfinished()
            if removed:
                outcome.message = f"{outcome.message}\n{removed}"
        self._emit_outcome(outcome)

    def _failure_text(self, crashed: bool, exit_code: int) -> str:
        if self._error_message:
            return f"Training failed: {self._error_message}"
        tail = "\n".join(list(self._stderr)[-6:])
        if crashed or exit_code in (137, -9):
            why = "The training process crashed or was killed (out of memory?)."
        elif exit_code == 0:
            why = "The training process ended without saying it had finished."
        else:
            why = f"The training process failed (exit code {exit_code})."
        return f"{why}\n{tail}" if tail else why

    def _emit_outcome(self, outcome: TrainOutcome) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.deleteLater()
        self.finished.emit(outcome)
