"""Decoded images for the canvas and the gallery, the most recent few kept in memory.

An image that cannot be decoded is reported once to the session (it is marked
broken, with its one-sentence error) and gives ``None`` from then on.
"""

from __future__ import annotations

from collections import OrderedDict

from PyQt6.QtGui import QImage

from bloodview.errors import BloodviewError
from bloodview.gui.session import Session


class PictureCache:
    def __init__(self, session: Session, size: int = 24):
        self.session = session
        self.size = size
        self._pictures: OrderedDict[int, QImage | None] = OrderedDict()

    def clear(self) -> None:
        self._pictures.clear()

    def get(self, index: int) -> QImage | None:
        """The pixels of image ``index`` as a QImage, or None when it cannot be read."""
        if index not in self._pictures:
            self._pictures[index] = self._load(index)
            while len(self._pictures) > self.size:
                self._pictures.popitem(last=False)
        self._pictures.move_to_end(index)
        return self._pictures[index]

    def _load(self, index: int) -> QImage | None:
        if index in self.session.broken:
            return None
        from bloodview.gui.qt_image import numpy_to_qimage
        from bloodview.io.images import load_image

        try:
            return numpy_to_qimage(load_image(self.session.image_path(index)))
        except BloodviewError as exc:
            self.session.mark_broken(index, str(exc))
        except OSError as exc:
            self.session.mark_broken(index, f"{self.session.image_path(index)}: {exc.strerror or exc}")
        return None
