"""What a stopped `bloodview train` tells the person: --resume from its checkpoint, except when its caller
removes the unfinished folder (the app's Retrain dialog passes --no-resume-hint)."""

from __future__ import annotations

from pathlib import Path

from bloodview.cli.cmd_train import stopped_message
from bloodview.cli.main import build_parser


def test_a_stopped_run_offers_resume_unless_its_folder_is_removed_after_it():
    out = Path("/store/lab-model")
    assert stopped_message(3, out) == ("training stopped during epoch 3; checkpoint saved in "
                                       f"{out / 'checkpoints'}; continue with --resume")
    assert stopped_message(3, out, resume_hint=False) == "training stopped during epoch 3; no model was written"


def test_the_app_can_say_it_removes_the_unfinished_folder():
    base = ["train", "--data", "t.json", "--out", "m"]
    assert build_parser().parse_args([*base, "--no-resume-hint"]).no_resume_hint is True
    assert build_parser().parse_args(base).no_resume_hint is False
