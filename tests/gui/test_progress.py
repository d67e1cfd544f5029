"""Parsing `bloodview train --progress jsonl` lines (bloodview.gui.workers.progress)."""

from __future__ import annotations

import json

import pytest

from bloodview.gui.workers.progress import LineBuffer, format_eta, parse_progress_line


def test_step_line_gives_losses_eta_and_fraction_of_the_whole_run():
    line = json.dumps({"event": "step", "epoch": 2, "epochs": 4, "step": 5, "steps": 10,
                       "losses": {"loss": 1.5, "mask_loss": 0.25}, "images_per_s": 3.2, "eta_s": 61})
    event = parse_progress_line(line)
    assert event.event == "step" and event.losses == {"loss": 1.5, "mask_loss": 0.25}
    assert event.fraction == pytest.approx((1 + 0.5) / 4)
    assert event.eta_s == 61 and event.images_per_s == pytest.approx(3.2)


def test_epoch_done_and_error_lines():
    epoch = parse_progress_line('{"event":"epoch","epoch":3,"epochs":3,"losses":{"loss":0.5},'
                                '"val_losses":{"loss":0.7},"eta_s":0}')
    assert epoch.fraction == 1.0 and epoch.val_losses == {"loss": 0.7}
    done = parse_progress_line(b'{"event":"done","model_dir":"/m/x","final_losses":{"loss":0.4}}\n')
    assert done.model_dir == "/m/x" and done.losses == {"loss": 0.4}
    error = parse_progress_line('{"event":"error","message":"out of memory"}')
    assert error.message == "out of memory"
    assert parse_progress_line('{"event":"epoch","epoch":1,"epochs":2,"val_losses":null}').val_losses is None


@pytest.mark.parametrize("line", ["", "Epoch 1/3", "{not json", '{"event":"other"}', "[1, 2]",
                                  '{"event":"step","losses":"nan"}'])
def test_other_output_is_ignored_or_tolerated(line):
    event = parse_progress_line(line)
    assert event is None or event.losses == {}


def test_non_finite_numbers_do_not_break_eta():
    event = parse_progress_line('{"event":"step","epoch":1,"epochs":1,"step":1,"steps":2,'
                                '"losses":{"loss":NaN},"eta_s":Infinity}')
    assert event.eta_s is None and format_eta(event.eta_s) == "–"


def test_line_buffer_joins_chunks_split_mid_line():
    buffer = LineBuffer()
    assert buffer.feed(b'{"event":"st') == []
    assert buffer.feed(b'art"}\n{"event":"done"') == ['{"event":"start"}']
    assert buffer.flush() == ['{"event":"done"']


def test_format_eta():
    assert format_eta(59) == "0:59" and format_eta(3725) == "1:02:05"
