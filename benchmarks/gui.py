"""GUI figures: launch to visible window, and memory with 200 images open.

    .venv/bin/python benchmarks/gui.py [--bccd ../shared/data/bccd] [--runs 3]

Each measurement runs in a fresh interpreter (offscreen Qt), as a user's launch would:

* ``launch``: wall time from starting ``python`` to the main window being shown
  (event loop turned once), median of ``--runs``; and whether TensorFlow was imported.
* ``200 images``: resident memory after opening a folder of 200 BCCD fields
  (640 x 480), after detecting (fake predictor: 20 cells per image, so the panels
  have work) and after paging through 50 images with N; plus the median time
  per image change.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

LAUNCH = """
import sys, time, json
from bloodview.gui.app import create_application
app = create_application()
from bloodview.gui.main_window import MainWindow
from bloodview.gui.prompts import Prompts
w = MainWindow(prompts=Prompts(non_interactive=True))
w.show()
app.processEvents()
print(json.dumps({"shown": time.time(), "tensorflow": "tensorflow" in sys.modules}), flush=True)
"""

MEMORY = """
import json, sys, time, statistics
import numpy as np
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.app import create_application
app = create_application()
from bloodview.gui.main_window import MainWindow
from bloodview.gui.prompts import Prompts
from PyQt6.QtTest import QTest

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

class Fake:
    def predict(self, images, min_confidence=None, **kw):
        out = []
        for image in images:
            h, w = image.shape[:2]
            cells = []
            for k in range(20):
                x, y = (k % 5) * w / 5 + 5, (k // 5) * h / 4 + 5
                t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
                poly = np.stack([x + 30 + 25 * np.cos(t), y + 30 + 25 * np.sin(t)], 1)
                cells.append(Instance([poly], ["neutrophil", "lymphocyte", "platelet"][k % 3],
                                      score=0.5 + k / 40, source=Source.MODEL))
            out.append(cells)
        return out

base = rss_mb()
w = MainWindow(prompts=Prompts(non_interactive=True), predictor_factory=lambda d: Fake())
w.resize(1400, 900); w.show(); app.processEvents()
shown = rss_mb()
t0 = time.perf_counter()
w.files.open([sys.argv[1]])
app.processEvents()
open_s = time.perf_counter() - t0
opened = rss_mb()
done = []
w.detectionFinished.connect(done.append)
t0 = time.perf_counter()
ok = w.models.detect("all")
while ok and not done:
    QTest.qWait(20)
detect_s = time.perf_counter() - t0
detected = rss_mb()
times = []
for _ in range(50):
    t0 = time.perf_counter()
    w.review.step_image(1)
    app.processEvents()
    times.append(time.perf_counter() - t0)
paged = rss_mb()
print(json.dumps({"rss_start_mb": base, "rss_window_mb": shown, "rss_200_open_mb": opened,
                  "rss_200_detected_mb": detected, "rss_after_paging_mb": paged, "open_s": open_s,
                  "detect_all_fake_s": detect_s, "image_change_median_ms": 1000 * statistics.median(times),
                  "image_change_max_ms": 1000 * max(times), "cells": w.session.dataset.instance_count,
                  "model_found": ok}))
"""


def env(work: Path) -> dict:
    e = dict(os.environ, QT_QPA_PLATFORM="offscreen", BLOODVIEW_RECOVERY_DIR=str(work / "recovery"),
             XDG_CONFIG_HOME=str(work / "config"))
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def launch_times(runs: int, work: Path) -> tuple[list[float], bool]:
    times, tf = [], False
    for _ in range(runs):
        start = time.time()
        out = subprocess.run([sys.executable, "-c", LAUNCH], capture_output=True, text=True, env=env(work),
                             cwd=REPO, timeout=120, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        times.append(result["shown"] - start)
        tf = tf or result["tensorflow"]
    return times, tf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bccd", type=Path, default=REPO.parent / "shared" / "data" / "bccd")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bloodview-bench-"))
    times, tf = launch_times(args.runs, work)
    print(f"launch to visible window: median {statistics.median(times):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)}); TensorFlow imported: {tf}")
    folder = work / "smears"
    folder.mkdir()
    for path in sorted((args.bccd / "JPEGImages").glob("*.jpg"))[:200]:
        shutil.copy(path, folder / path.name)
    sys.path.insert(0, str(REPO))
    from bloodview.model.store import ModelInfo, write_model_info

    (work / "store" / "fake").mkdir(parents=True)
    write_model_info(ModelInfo(name="fake", backbone="resnet50", class_names=[], config={}),
                     work / "store" / "fake")
    e = env(work)
    e["BLOODVIEW_MODEL_STORE"] = str(work / "store")
    out = subprocess.run([sys.executable, "-c", MEMORY, str(folder)], capture_output=True, text=True, env=e,
                         cwd=REPO, timeout=600)
    if out.returncode:
        print(out.stderr[-2000:])
        return 1
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"200 images ({result['cells']} cells): RSS {result['rss_window_mb']:.0f} MB with the empty window, "
          f"{result['rss_200_open_mb']:.0f} MB opened ({result['open_s']:.2f} s), "
          f"{result['rss_200_detected_mb']:.0f} MB after detect-all with a fake predictor "
          f"({result['detect_all_fake_s']:.1f} s), {result['rss_after_paging_mb']:.0f} MB after paging 50 images")
    print(f"image change (N): median {result['image_change_median_ms']:.0f} ms, "
          f"max {result['image_change_max_ms']:.0f} ms")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
