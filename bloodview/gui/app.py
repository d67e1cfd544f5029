"""Starting the desktop application: ``bloodview`` / ``bloodview gui [PATH...]``.

Imports nothing heavy before the window shows; TensorFlow loads in a worker thread,
in the background shortly after the window shows (``WARM_UP_DELAY_MS``) or when
detection first runs, whichever comes first. ``screenshot`` renders the window
(after detection finishes when ``detect`` is set) to a PNG and quits.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)


def create_application(argv: Sequence[str] | None = None):
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv or sys.argv[:1]))
        app.setApplicationName("bloodview")
        app.setOrganizationName("bloodview")
        app.setApplicationDisplayName("bloodview")
    return app


WINDOW_FRAME_PX = (16, 40)
"""What a desktop's window frame and title bar add around the window (width, height), about."""


def fit_to_screen(size: tuple[int, int], available) -> tuple[int, int]:
    """``size`` made no larger than the screen's free area (``available``: a QSize, the screen less
    its taskbar), less the window's frame.

    The window opened at 1400 x 900 on every screen: on a 1366 x 768 laptop its status bar and the
    bottoms of its docks were below the screen's edge, and its right edge under the scroll bar."""
    width = min(size[0], available.width() - WINDOW_FRAME_PX[0])
    height = min(size[1], available.height() - WINDOW_FRAME_PX[1])
    return max(width, 1), max(height, 1)


WARM_UP_DELAY_MS = 1500
"""The model starts loading in the background this long after the window shows (its first paint and
the images it opens come first)."""


def run(
    paths: Sequence[str | Path] = (),
    screenshot: Path | None = None,
    detect: bool = False,
    size: tuple[int, int] = (1400, 900),
) -> int:
    """Show the main window (open ``paths`` if given); return the exit code."""
    app = create_application()
    from PyQt6.QtCore import QTimer

    from bloodview.gui.main_window import MainWindow
    from bloodview.gui.prompts import Prompts

    window = MainWindow(prompts=Prompts(non_interactive=screenshot is not None))
    screen = app.primaryScreen()
    if screenshot is None and screen is not None:  # a screenshot's --size is the screen it stands for
        size = fit_to_screen(size, screen.availableGeometry().size())
    window.resize(*size)
    window.show()
    exit_code = [0]

    def grab_and_quit() -> None:
        app.processEvents()
        image = window.grab()
        if not image.save(str(screenshot), "PNG"):
            log.error("could not write %s", screenshot)
            exit_code[0] = 1
        else:
            print(f"screenshot written to {screenshot}")
        # exit(), not quit(): Qt 6's quit() first asks every window to close, and the window
        # refuses while detections are unsaved (the non-interactive prompt answers Cancel).
        app.exit(exit_code[0])

    def start() -> None:
        if not paths and screenshot is None:
            window.files.offer_startup_recovery()
        if paths and not window.files.open(list(paths)):
            if screenshot is not None:
                exit_code[0] = 1
        if screenshot is None:
            return
        if detect and window.session.dataset.images:
            window.detectionFinished.connect(lambda _c: QTimer.singleShot(200, grab_and_quit))
            if window.models.detect("all"):
                return
            exit_code[0] = 1
        QTimer.singleShot(300, grab_and_quit)

    def warm_up() -> None:  # the model loads while the person looks at the images (gui/workers/warm_up.py)
        window.models.warm_up_enabled = True
        window.models.warm_up()

    QTimer.singleShot(0, start)
    if screenshot is None:
        QTimer.singleShot(WARM_UP_DELAY_MS, warm_up)
    code = app.exec()
    window.models.warm.wait()  # however the loop ended: Qt aborts on a thread destroyed while it runs
    window.models.runner.wait(None)
    return exit_code[0] or code
