"""``bloodview train ... 2>> train.log``: whole lines in a log file, not a progress bar's redraws."""

from __future__ import annotations

import io

from bloodview.model.callbacks import LOG_LINE_EVERY_S, TqdmProgress


def test_off_a_terminal_training_progress_is_whole_lines_with_the_losses():
    stream, now = io.StringIO(), [0.0]
    progress = TqdmProgress(epochs=2, steps=100, stream=stream, clock=lambda: now[0])
    progress.on_epoch_begin(0)
    for step in range(100):
        now[0] += 1.0  # one second a step: a line at 60 s
        progress.on_train_batch_end(step, {"loss": 0.5})
    progress.on_epoch_end(0, {"loss": 0.4, "val_loss": 0.45})
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert lines == [f"epoch 1/2: step {int(LOG_LINE_EVERY_S)} of 100, 1.00 s per step, loss 0.500",
                     "epoch 1/2: done in 100 s, loss 0.400, val_loss 0.450"]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_the_bar_is_drawn():
    stream = _Terminal()
    progress = TqdmProgress(epochs=1, steps=3, stream=stream)
    progress.on_epoch_begin(0)
    for step in range(3):
        progress.on_train_batch_end(step, {"loss": 0.5})
    progress.on_epoch_end(0, {"loss": 0.4})
    assert "epoch 1/1" in stream.getvalue() and "3/3" in stream.getvalue()
