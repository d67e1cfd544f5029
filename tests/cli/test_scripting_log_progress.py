"""Progress lines in a log: a cron job's ``bloodview predict ... 2>> predict.log`` said nothing for
hours after ``device: CPU`` (tqdm draws no bar off a terminal), so a hung run looked like a busy one."""

from __future__ import annotations

import io

from bloodview.cli import log_progress
from bloodview.cli.log_progress import LogProgress
from bloodview.cli.main import main
from tests.cli.stand_in import stand_in_predict_model
from tests.cli.test_predict_inputs import LYMPHOCYTE, NEUTROPHIL, _OneCellPerImage


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_line_at_most_once_a_minute_with_the_time_left():
    log, clock = io.StringIO(), _Clock()
    lines = LogProgress("predict", 1000, already=100, stream=log, clock=clock)
    clock.now += 30
    lines.update(200)
    assert log.getvalue() == "", "not yet a minute"
    clock.now += 30
    lines.update(300)  # 200 images in 60 s since the start: 0.3 s each, 700 left
    clock.now += 10
    lines.update(320)
    assert log.getvalue() == "predict: 300 of 1000 images, 0.30 s per image, about 4 min left\n"
    clock.now += 7200
    lines.update(400)
    assert log.getvalue().splitlines()[-1] == "predict: 400 of 1000 images, 24.23 s per image, about 4 h 02 min left"


def test_no_lines_on_a_terminal_where_the_bar_is_drawn():
    terminal, clock = _Terminal(), _Clock()
    lines = LogProgress("predict", 10, stream=terminal, clock=clock)
    clock.now += 3600
    lines.update(5)
    assert terminal.getvalue() == ""


def test_predict_writes_whole_progress_lines_into_a_log(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(log_progress, "EVERY_S", 0.0)
    model = stand_in_predict_model(monkeypatch, tmp_path, _OneCellPerImage)
    assert main(["predict", str(NEUTROPHIL), str(LYMPHOCYTE), "--model", str(model), "--out",
                 str(tmp_path / "cells.json"), "--batch-size", "1"]) == 0
    err = capsys.readouterr().err
    assert "predict: 1 of 2 images, " in err and " s per image, about " in err
    assert "\r" not in err, "whole lines, no bar"
