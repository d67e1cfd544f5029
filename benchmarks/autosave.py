"""GUI-thread time of one autosave with a large set open (2,720 images by default).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/autosave.py [--images 2720] [--runs 5]

``before``: the recovery file written on the GUI thread (:func:`write_recovery`, what
autosave did until it moved to a worker). ``after``: :meth:`Session.autosave` as it
is now — snapshot on the GUI thread, JSON and disk in the worker; the worker's own
time is shown too. Each run changes one cell first, so every autosave has work.
Medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.crash_safety import build_image  # noqa: E402 - the same synthetic images


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=2720)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from PyQt6.QtWidgets import QApplication

    from bloodview.core.annotation import Dataset
    from bloodview.core.classes import ClassCatalogue
    from bloodview.gui.opening import OpenResult
    from bloodview.gui.session import Session, write_recovery

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dataset = Dataset([build_image(i, 0) for i in range(args.images)], ClassCatalogue.pbc(), tmp)
        session = Session(recovery_dir=tmp / "recovery", autosave_interval_s=0)
        session.load(OpenResult(dataset, "folder", sources=[tmp]))
        written: list[float] = []
        session.autosaved.connect(lambda _path: written.append(time.perf_counter()))

        def edit(run: int) -> None:
            image = dataset.images[run]
            image.replace(image.instances[0].copy(class_name="basophil" if run % 2 else "neutrophil"))

        before, after, worker = [], [], []
        for run in range(args.runs):
            edit(run)
            started = time.perf_counter()
            write_recovery(session.recovery_dir, session.sources, dataset, session.kind)
            before.append(time.perf_counter() - started)
        for run in range(args.runs):
            edit(run)
            started = time.perf_counter()
            session.autosave()
            after.append(time.perf_counter() - started)
            session._writer.wait()
            app.processEvents()
            worker.append(written[-1] - started)
        cells = dataset.instance_count
    figures = {"images": args.images, "cells": cells, "runs": args.runs,
               "gui_thread_before_s": round(statistics.median(before), 4),
               "gui_thread_after_s": round(statistics.median(after), 4),
               "worker_write_s": round(statistics.median(worker), 4)}
    print(f"{args.images} images, {cells} cells; median of {args.runs} autosaves")
    print(f"  GUI thread per autosave: before {figures['gui_thread_before_s'] * 1000:.0f} ms "
          f"(written on the GUI thread), after {figures['gui_thread_after_s'] * 1000:.1f} ms (snapshot only)")
    print(f"  worker thread: {figures['worker_write_s'] * 1000:.0f} ms from autosave to the file written")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
