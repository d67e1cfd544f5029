"""`bloodview predict` prints its own lines, not TensorFlow's start-up log (``--debug`` keeps it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "samples" / "pbc_neutrophil_BNE_67131.jpg"
TENSORFLOW_LOG_LINE = re.compile(r"^(?:[IWEF]\d{4} |WARNING: All log messages before absl)", re.M)


def _predict(tmp_path: Path, *options: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user's shell has it
    return subprocess.run([sys.executable, "-m", "bloodview", *options, "predict", str(SAMPLE),
                           "--out", str(tmp_path / "cells.json")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)


@pytest.mark.slow
def test_predict_prints_no_tensorflow_log_lines(tmp_path):
    quiet = _predict(tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "cells in 1 images" in quiet.stdout + quiet.stderr
    assert not TENSORFLOW_LOG_LINE.search(quiet.stderr), quiet.stderr
    assert "retracing" not in quiet.stderr
    debug = _predict(tmp_path, "--debug")
    assert debug.returncode == 0, debug.stderr
    assert TENSORFLOW_LOG_LINE.search(debug.stderr)  # what the plain run hides is there to hide
