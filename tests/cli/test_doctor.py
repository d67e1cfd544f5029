"""``bloodview doctor``: versions, models, Qt plugins and what is missing, without loading TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bloodview.cli.main import main
from bloodview.cli.system_report import debian_packages, parse_ldd_missing
from bloodview.model.devices import Gpu

REPO = Path(__file__).resolve().parents[2]

# What `ldd libqxcb.so` printed on a Debian 12 machine with libxcb-cursor0 but not libxcb-icccm4/keysyms1.
LDD_DEBIAN12 = """\
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f1c)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f1d)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibfoo-unknown.so.3 => not found
"""


def test_missing_xcb_libraries_are_named_with_their_debian_packages():
    missing = parse_ldd_missing(LDD_DEBIAN12)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libfoo-unknown.so.3"]
    assert debian_packages(missing) == ["libxcb-icccm4", "libxcb-keysyms1", "libfoo-unknown.so.3"]


def test_doctor_prints_versions_models_and_qt_without_tensorflow(tmp_path):
    probe = ("import sys; from bloodview.cli.main import main; code = main(['doctor']); "
             "print('TF LOADED' if 'tensorflow' in sys.modules else 'no tf'); sys.exit(code)")
    env = dict(os.environ, PYTHONPATH=str(REPO), BLOODVIEW_MODEL_STORE=str(tmp_path / "store"))
    env.pop("BLOODVIEW_DEFAULT_MODEL", None)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.rstrip().endswith("no tf")
    for label in ("python", "bloodview", "tensorflow", "keras", "numpy", "opencv", "PyQt6", "memory",
                  "default model", "model store", "samples", "platforms"):
        assert label in out, label
    assert "offscreen" in out  # Qt's platform plugins are listed
    assert f"{tmp_path / 'store'} (0 model(s))" in out
    assert "not checked (bloodview doctor --devices" in out


def test_doctor_says_when_the_default_model_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BLOODVIEW_DEFAULT_MODEL", str(tmp_path / "nowhere"))
    monkeypatch.setenv("BLOODVIEW_MODEL_STORE", str(tmp_path / "store"))
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["models"]["default_model_name"] is None
    assert any(f"no default model at {tmp_path / 'nowhere'}" in p for p in report["problems"])
    assert report["devices"] is None


def test_doctor_devices_lists_the_gpus_tensorflow_sees(monkeypatch, tmp_path, capsys):
    pytest.importorskip("tensorflow")
    from bloodview.model import distribute

    monkeypatch.setenv("BLOODVIEW_MODEL_STORE", str(tmp_path / "store"))
    monkeypatch.setattr(distribute, "find_gpus", lambda visible_only=True: [Gpu("/gpu:0", "NVIDIA H200", (9, 0))])
    assert main(["doctor", "--devices"]) == 0
    out = capsys.readouterr().out
    assert "TensorFlow GPUs NVIDIA H200 (compute 9.0)" in out
    assert "--device auto   GPU: NVIDIA H200 (compute 9.0) (mixed precision helps here)" in out


def test_doctor_flags_a_gpu_the_driver_sees_but_tensorflow_does_not(monkeypatch, tmp_path, capsys):
    pytest.importorskip("tensorflow")
    from bloodview.cli import system_report
    from bloodview.model import distribute

    monkeypatch.setenv("BLOODVIEW_MODEL_STORE", str(tmp_path / "store"))
    monkeypatch.setattr(distribute, "find_gpus", lambda visible_only=True: [])
    monkeypatch.setattr(system_report, "nvidia_gpus", lambda: ["NVIDIA H200, 143771 MiB, 570.86"])
    assert main(["doctor", "--devices"]) == 0
    out = capsys.readouterr().out
    assert "NVIDIA H200, 143771 MiB" in out
    assert "TensorFlow does not: pip install 'bloodview[gpu]'" in out
