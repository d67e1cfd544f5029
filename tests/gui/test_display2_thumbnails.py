"""Gallery thumbnails at 150-200 % display scaling: cut at the screen's resolution, so they are sharp.

Seen on a lab PC at 200 %: the thumbnails were 72-pixel crops that Qt enlarged to 144 screen pixels,
soft where a person judges a cell's chromatin. The scale factor is fixed when Qt starts, so each
check runs a real gallery in a Python of its own with ``QT_SCALE_FACTOR`` set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance, Source
from bloodview.gui.canvas.sample import ellipse
from bloodview.gui.panels.gallery import GalleryPanel
from bloodview.gui.panels.thumbnail_drawing import THUMB, thumb_pixels
from bloodview.gui.qt_image import to_qimage

pytestmark = pytest.mark.gui

STRIPES = 4  # image pixels per black-and-white period: finer than a 72-px thumbnail of BIG_CELL can hold


def striped(size: int = 400) -> np.ndarray:
    """Upright black and white stripes, ``STRIPES`` pixels a period: fine detail a soft thumbnail loses."""
    row = np.where((np.arange(size) // (STRIPES // 2)) % 2 == 0, 0, 255).astype(np.uint8)
    return np.repeat(np.repeat(row[None, :, None], size, axis=0), 3, axis=2)


BIG_CELL = (56, 56, 344, 344)  # its thumbnail square is 335 image px: 144 screen px hold the stripes, 72 do not

GALLERY_AT = textwrap.dedent("""
    import json, sys
    import cv2, numpy as np
    from PyQt6.QtWidgets import QApplication
    app = QApplication(sys.argv)
    from bloodview.core.annotation import Dataset, ImageAnnotation
    from bloodview.core.classes import ClassCatalogue
    from bloodview.core.instance import Instance, Source
    from bloodview.gui.canvas.sample import ellipse
    from bloodview.gui.panels.gallery import THUMB, GalleryPanel
    from bloodview.gui.qt_image import qimage_to_numpy, to_qimage
    path, box, all_images = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "all"
    picture = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
    cell = Instance([ellipse(*box)], "neutrophil", score=0.9, source=Source.MODEL)
    images = [ImageAnnotation(path, picture.shape[1], picture.shape[0], [cell])]
    if all_images:  # the striped image is not on screen: its thumbnail comes from the pool's decode
        images.insert(0, ImageAnnotation("elsewhere.png", 10, 10, []))
    dataset = Dataset(images, ClassCatalogue.pbc())
    panel = GalleryPanel()
    panel.resize(320, 400)
    panel.set_classes(dataset.classes)
    panel.show()
    panel.set_all_images(all_images)
    panel.show_cells(dataset, 0, lambda _i: to_qimage(picture), 0.75)
    for _ in range(500):
        app.processEvents()
        if not panel._loader.busy() and not panel._pending:
            break
        import time; time.sleep(0.01)
    item = panel.list.item(0)
    pixmap = item.icon().pixmap(THUMB, THUMB)  # what the list is given to paint at the screen's ratio
    shown = panel.list.viewport().grab()  # what the screen shows, in device pixels
    ratio = shown.devicePixelRatio()
    rect = panel.list.visualItemRect(item)
    middle_x, middle_y = rect.center().x(), rect.top() + 4 + THUMB // 2
    screen = qimage_to_numpy(shown.toImage()).astype(float).mean(axis=2)
    x0, x1 = round((middle_x - 20) * ratio), round((middle_x + 20) * ratio)
    y0, y1 = round((middle_y - 20) * ratio), round((middle_y + 20) * ratio)
    band = screen[y0:y1, x0:x1]
    print(json.dumps({"ratio": pixmap.devicePixelRatio(), "side": pixmap.width(),
                      "logical": pixmap.deviceIndependentSize().width(), "screen_ratio": ratio,
                      "contrast": float(np.abs(np.diff(band, axis=1)).mean())}))
""")


def gallery_at(scale: str, image_path, box, scope: str, tmp_path) -> dict:
    script = tmp_path / "gallery_at.py"
    script.write_text(GALLERY_AT)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": scale}
    done = subprocess.run([sys.executable, str(script), str(image_path), json.dumps(box), scope],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def stripes_file(tmp_path):
    import cv2

    path = tmp_path / "stripes.png"
    cv2.imwrite(str(path), striped())
    return path


@pytest.mark.parametrize("scope", ["this", "all"])
def test_thumbnails_are_sharp_at_200_percent(stripes_file, tmp_path, scope):
    """Both ways a thumbnail is cut: from the picture on screen, and from a decode on the pool."""
    at_200 = gallery_at("2", stripes_file, BIG_CELL, scope, tmp_path)
    assert at_200["ratio"] == 2 and at_200["side"] == 2 * THUMB and at_200["logical"] == THUMB
    # on screen the stripes stay stripes (~100); cut at 72 px and enlarged they were a grey blur (~6)
    assert at_200["contrast"] > 60, at_200


def test_thumbnails_at_100_percent_are_72_pixels_as_before(stripes_file, tmp_path):
    at_100 = gallery_at("1", stripes_file, BIG_CELL, "all", tmp_path)
    assert at_100["ratio"] == 1 and at_100["side"] == THUMB


def test_thumbnail_pixels_follow_the_ratio():
    assert [thumb_pixels(r) for r in (1.0, 1.25, 1.5, 2.0)] == [72, 90, 108, 144]
    assert thumb_pixels(0.5) == THUMB  # never fewer pixels than logical ones


def test_the_gallery_keeps_its_72_pixel_layout_in_process(qtbot):
    """At the test screen's ratio (1) the list lays thumbnails out in THUMB logical pixels, as before."""
    cell = Instance([ellipse(*BIG_CELL)], "neutrophil", score=0.9, source=Source.MODEL)
    dataset = Dataset([ImageAnnotation("stripes.png", 400, 400, [cell])], ClassCatalogue.pbc())
    panel = GalleryPanel()
    qtbot.addWidget(panel)
    panel.set_classes(dataset.classes)
    panel.show()
    picture = to_qimage(striped())
    panel.show_cells(dataset, 0, lambda _i: picture, 0.75)
    pixmap = panel.list.item(0).icon().pixmap(THUMB, THUMB)
    assert pixmap.deviceIndependentSize().width() == THUMB
