"""The window opens fast and without TensorFlow; `bloodview gui --screenshot` works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys, time
t0 = time.perf_counter()
from PyQt6.QtWidgets import QApplication
from bloodview.gui.app import create_application
app = create_application()
from bloodview.gui.main_window import MainWindow
from bloodview.gui.prompts import Prompts
window = MainWindow(prompts=Prompts(non_interactive=True))
window.show()
app.processEvents()
shown = time.perf_counter() - t0
window.files.open([sys.argv[1]])
app.processEvents()
print(json.dumps({"shown_s": shown, "images": len(window.session.dataset.images),
                  "heavy": sorted(m for m in ("tensorflow", "keras", "bloodview.model.predict")
                                  if m in sys.modules)}))
"""


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_window_opens_images_without_importing_tensorflow(tmp_path, bccd_dir):
    out = subprocess.run([sys.executable, "-c", PROBE, str(bccd_dir / "JPEGImages")], capture_output=True,
                         text=True, env=_env(tmp_path), cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    assert result["images"] == 364
    assert result["shown_s"] < 5.0  # benchmarks/gui.py measures it; < 1 s on a quiet machine


def test_screenshot_command_writes_a_png_of_the_window(tmp_path, bccd_dir):
    shot = tmp_path / "shot.png"
    image = bccd_dir / "JPEGImages" / "BloodImage_00000.jpg"
    out = subprocess.run([sys.executable, "-m", "bloodview", "gui", str(image), "--screenshot", str(shot),
                          "--size", "1000x700"], capture_output=True, text=True, env=_env(tmp_path),
                         cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    from PyQt6.QtGui import QImage

    picture = QImage(str(shot))
    assert (picture.width(), picture.height()) == (1000, 700)


def test_screenshot_after_detection_exits_although_the_detections_are_unsaved(tmp_path):
    """`gui --screenshot --detect` once hung: the window refused to close with unsaved cells."""
    shot = tmp_path / "detect.png"
    sample = REPO / "resources" / "samples" / "pbc_neutrophil_BNE_67131.jpg"
    out = subprocess.run([sys.executable, "-m", "bloodview", "gui", str(sample), "--screenshot", str(shot),
                          "--detect", "--size", "800x600"], capture_output=True, text=True, env=_env(tmp_path),
                         cwd=REPO, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert " cells added" in out.stdout + out.stderr and shot.stat().st_size > 10_000


def test_screenshot_of_a_missing_path_fails_with_exit_code_1(tmp_path):
    out = subprocess.run([sys.executable, "-m", "bloodview", "gui", str(tmp_path / "none"), "--screenshot",
                          str(tmp_path / "x.png")], capture_output=True, text=True, env=_env(tmp_path),
                         cwd=REPO, timeout=60)
    assert out.returncode == 1
