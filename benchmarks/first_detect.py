"""The first Detect of a session, with and without the background model load (gui/workers/warm_up.py).

    .venv/bin/python benchmarks/first_detect.py [--image ../shared/data/bccd/JPEGImages/BloodImage_00001.jpg]
        [--model resources/models/default] [--runs 2]

Each run is a fresh interpreter (offscreen Qt, the real model and predictor), as a user's session:

* ``cold``: the window opens the image and Detect is pressed at once: seconds from Detect to the
  image's cells (TensorFlow's import, the model's load, the tracing and the detection itself);
* ``warm``: the window opens the image, the background load runs (as the app starts it 1.5 s after
  the window shows), then Detect: the load's seconds, and Detect to cells.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SESSION = """
import json, sys, time
from pathlib import Path
from bloodview.gui.app import create_application
app = create_application()
from PyQt6.QtTest import QTest
from bloodview.gui.main_window import MainWindow
from bloodview.gui.prompts import Prompts

folder, model, warm = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "warm"
w = MainWindow(prompts=Prompts(non_interactive=True))
w.show(); app.processEvents()
assert w.files.open([folder])
index = w.models.selector.findData(str(model.resolve()))
if index >= 0:
    w.models.selector.setCurrentIndex(index)
warm_s = None
if warm:
    loaded = []
    w.models.warm.finished.connect(lambda *args: loaded.append(args))
    w.models.warm_up_enabled = True
    t0 = time.perf_counter()
    assert w.models.warm_up()
    while not loaded:
        QTest.qWait(20)
    warm_s = time.perf_counter() - t0
    assert not loaded[0][2], loaded[0][2]
done = []
w.detectionFinished.connect(done.append)
t0 = time.perf_counter()
assert w.models.detect("current")
while not done:
    QTest.qWait(5)
detect_s = time.perf_counter() - t0
cells = len(w.session.dataset.images[w.session.current_index].instances)
w.session.close()
print(json.dumps({"warm_up_s": warm_s, "detect_s": detect_s, "cells": cells, "model": str(w.models.model_dir())}))
"""


def session(folder: Path, model: Path, mode: str, work: Path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BLOODVIEW_RECOVERY_DIR=str(work / "recovery"),
               XDG_CONFIG_HOME=str(work / "config"), TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", SESSION, str(folder), str(model), mode], capture_output=True,
                         text=True, env=env, cwd=REPO, timeout=600)
    if out.returncode:
        raise SystemExit(f"the {mode} session failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", type=Path,
                        default=REPO.parent / "shared" / "data" / "bccd" / "JPEGImages" / "BloodImage_00001.jpg")
    parser.add_argument("--model", type=Path, default=REPO / "resources" / "models" / "default")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    if not args.image.is_file():
        raise SystemExit(f"{args.image}: no such image (../shared/data is needed, or give --image)")
    work = Path(tempfile.mkdtemp(prefix="bloodview-first-detect-"))
    folder = work / "images"
    folder.mkdir()
    shutil.copy(args.image, folder / args.image.name)
    rows = {"cold": [], "warm": []}
    for _ in range(args.runs):  # alternating, so an hour's drift touches both alike
        for mode in rows:
            rows[mode].append(session(folder, args.model, mode, work))
    for mode, runs in rows.items():
        detect = [r["detect_s"] for r in runs]
        line = f"{mode}: Detect to cells median {statistics.median(detect):.2f} s ({', '.join(f'{t:.2f}' for t in detect)})"
        if mode == "warm":
            warm = [r["warm_up_s"] for r in runs]
            line += f"; background load before it {statistics.median(warm):.1f} s ({', '.join(f'{t:.1f}' for t in warm)})"
        print(line + f"; {runs[0]['cells']} cells, model {Path(runs[0]['model']).name}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
