"""Frame times of the canvas with many cells on screen (target: median <= 16 ms).

Run from the repo root::

    .venv/bin/python benchmarks/gui_canvas.py [--cells 1000] [--frames 60] [--size 1280x800]

Shows a real BCCD field scaled up (or a grey image when the data is not there)
with ``--cells`` round cells of 32 vertices on a grid, then times with
``QElapsedTimer``:

* pan: ``pan_by`` + ``viewport().repaint()`` (full repaint of the window), and
  ``pan_by`` + event processing (what Qt does on screen: scroll, repaint strips);
* zoom: ``zoom_by`` in and out around the centre + full repaint;
* vertex drag: a simulated mouse move that drags one point of a selected cell
  (undo command, core change, item update) + full repaint, and the same with
  only the changed region repainted (what Qt does on screen).
Runs offscreen by default (``QT_QPA_PLATFORM=offscreen``), i.e. Qt's software
raster painter, the slowest case. CPU time is printed beside wall time because on
a shared machine wall time mostly measures waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PyQt6.QtCore import QElapsedTimer, QPointF, Qt  # noqa: E402
from PyQt6.QtGui import QImage, QUndoStack  # noqa: E402
from PyQt6.QtTest import QTest  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from bloodview.core.annotation import ImageAnnotation  # noqa: E402
from bloodview.gui.canvas import CanvasView  # noqa: E402
from bloodview.gui.canvas.items import InstanceItem  # noqa: E402
from bloodview.gui.canvas.sample import demo_catalogue, grid_cells  # noqa: E402

BCCD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "bccd" / "JPEGImages" / "BloodImage_00001.jpg"


def timed(action, frames: int) -> tuple[list[float], list[float]]:
    """Wall-clock (QElapsedTimer) and process CPU milliseconds of each frame."""
    timer = QElapsedTimer()
    wall, cpu = [], []
    for k in range(frames):
        start_cpu = time.process_time()
        timer.start()
        action(k)
        wall.append(timer.nsecsElapsed() / 1e6)
        cpu.append((time.process_time() - start_cpu) * 1e3)
    return wall, cpu


def report(name: str, times: tuple[list[float], list[float]]) -> None:
    wall, cpu = sorted(times[0]), sorted(times[1])
    p90 = wall[int(0.9 * (len(wall) - 1))]
    print(f"{name:<30} wall median {statistics.median(wall):6.2f} ms  p90 {p90:6.2f} ms   "
          f"CPU median {statistics.median(cpu):6.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", default="1280x800", help="window size WxH")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))

    app = QApplication.instance() or QApplication(sys.argv)
    image_w, image_h = 2560, 1920
    if BCCD.is_file():
        picture = QImage(str(BCCD)).scaled(image_w, image_h)
    else:
        picture = QImage(image_w, image_h, QImage.Format.Format_RGB32)
        picture.fill(0xFFD8C8D0)
    classes = demo_catalogue()
    cells = grid_cells(args.cells, image_w, image_h, classes.names)
    annotation = ImageAnnotation(Path("benchmark.png"), image_w, image_h, cells)
    view = CanvasView()
    view.resize(width, height)
    view.show()
    view.set_image(annotation, picture, classes, QUndoStack(view))
    view.set_labels_visible(False)
    app.processEvents()
    view.zoom_by(1.02)  # just past "fit" so there is room to pan
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    on_screen = sum(1 for i in view.scene().items(visible) if isinstance(i, InstanceItem))
    print(f"{args.cells} cells, image {image_w}x{image_h}, window {width}x{height}, "
          f"{on_screen} cells on screen, zoom {view.zoom():.3f}, platform {app.platformName()}")
    port = view.viewport()
    port.repaint()

    def pan(k: int) -> None:
        step = 6 if (k // 10) % 2 == 0 else -6
        view.pan_by(step, step / 2)
        port.repaint()

    def zoom(k: int) -> None:
        view.zoom_by(1.03 if (k // 5) % 2 == 0 else 1 / 1.03)
        port.repaint()

    def pan_on_screen(k: int) -> None:
        step = 6 if (k // 10) % 2 == 0 else -6
        view.pan_by(step, step / 2)
        app.processEvents()  # Qt scrolls the pixels and repaints only the uncovered strips

    report("pan (full repaint)", timed(pan, args.frames))
    report("pan (as on screen)", timed(pan_on_screen, args.frames))
    view.fit()
    view.zoom_by(1.02)
    report("zoom (full repaint)", timed(zoom, args.frames))

    view.fit()
    view.zoom_by(1.02)
    centre = view.mapToScene(port.rect().center())
    target = min(cells, key=lambda c: np.hypot(c.centroid[0] - centre.x(), c.centroid[1] - centre.y()))
    view.select([target.id])
    start = view.mapFromScene(QPointF(*target.polygons[0][0]))
    QTest.mousePress(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)

    def drag(k: int, full: bool) -> None:
        offset = (k % 20) - 10
        QTest.mouseMove(port, start + type(start)(offset, offset // 2))
        if full:
            port.repaint()
        else:
            app.processEvents()  # Qt repaints only the changed cell's region

    report("vertex drag (full repaint)", timed(lambda k: drag(k, True), args.frames))
    report("vertex drag (changed region)", timed(lambda k: drag(k, False), args.frames))
    QTest.mouseRelease(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    print(f"undo steps after the drag: {view.undo_stack.count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
