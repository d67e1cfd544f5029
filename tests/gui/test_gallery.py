"""The gallery panel alone: captions and thumbnails a technician can read."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtGui import QImage

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance, Source
from bloodview.gui.canvas.sample import ellipse
from bloodview.gui.panels.gallery import THUMB, GalleryPanel
from bloodview.gui.qt_image import qimage_to_numpy, to_qimage

pytestmark = pytest.mark.gui


def _gallery(qtbot, cells) -> GalleryPanel:
    grey = np.full((200, 300, 3), 215, dtype=np.uint8)
    picture = to_qimage(grey)
    dataset = Dataset([ImageAnnotation("field.png", 300, 200, cells)], ClassCatalogue.pbc())
    panel = GalleryPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 400)
    panel.set_classes(dataset.classes)
    panel.show()
    panel.show_cells(dataset, 0, lambda _i: picture, 0.75)
    return panel


def test_captions_give_the_whole_class_name_and_the_score_on_their_own_lines(qtbot):
    """Clumsy: captions were cut to 10 letters plus the score and elided ("Lymphocy…", "Neutrophil…")."""
    cells = [Instance([ellipse(20, 20, 80, 80)], "lymphocyte", score=0.91, source=Source.MODEL),
             Instance([ellipse(120, 20, 180, 80)], "ig", score=0.62, source=Source.MODEL),
             Instance([ellipse(200, 20, 260, 80)], "neutrophil")]
    panel = _gallery(qtbot, cells)
    texts = [panel.list.item(r).text() for r in range(panel.list.count())]
    assert texts == ["Lymphocyte\n0.91", "Immature\n0.62", "Neutrophil"]
    metrics = panel.list.fontMetrics()
    widest = max(metrics.horizontalAdvance(line) for text in texts for line in text.split("\n"))
    assert panel.list.gridSize().width() >= widest + 8  # the names are not elided


def test_a_platelet_thumbnail_shows_its_outline(qtbot):
    """Clumsy: a platelet a few pixels wide was a blur of background in its thumbnail."""
    platelet = Instance([ellipse(150, 100, 157, 106)], "platelet", score=0.8, source=Source.MODEL)
    big = Instance([ellipse(10, 10, 90, 90)], "monocyte", score=0.8, source=Source.MODEL)
    panel = _gallery(qtbot, [big, platelet])
    olive = np.array(ClassCatalogue.pbc()["platelet"].color)
    icons = [panel.list.item(r).icon().pixmap(THUMB, THUMB).toImage().convertToFormat(QImage.Format.Format_RGB32)
             for r in range(panel.list.count())]
    inner = [qimage_to_numpy(icon)[8:-8, 8:-8].astype(int) for icon in icons]  # inside the class frame
    near = [int((np.abs(pixels - olive).sum(axis=2) < 60).sum()) for pixels in inner]
    assert near[1] > 20  # the platelet's outline in its class colour
    assert near[0] == 0  # a big cell speaks for itself: no outline drawn over it
