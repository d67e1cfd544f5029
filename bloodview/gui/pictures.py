"""Decoded images for the canvas and the gallery, the most recent few kept in memory.

An image that cannot be decoded is reported once to the session (it is marked
broken, with its one-sentence error) and gives ``None`` from then on, until
:meth:`PictureCache.read_again` finds its file readable again (a network share
that reconnected, a file renamed back): going to the image or detecting in it
tries once more, so a moment's absence does not lose the image for the session.
"""

from __future__ import annotations

from collections import OrderedDict

from PyQt6.QtGui import QImage

from bloodview.errors import BloodviewError
from bloodview.gui.session import Session


MAX_BYTES = 768 * 2**20
"""Decoded pictures kept at most (besides the one on screen): 24 PBC crops or BCCD fields are a few
MB, but 24 camera fields of 4000 x 3000 were 864 MB, held for a session of paging with N."""


class PictureCache:
    def __init__(self, session: Session, size: int = 24, max_bytes: int = MAX_BYTES):
        self.session = session
        self.size = size
        self.max_bytes = max_bytes
        self._pictures: OrderedDict[int, QImage | None] = OrderedDict()

    def clear(self) -> None:
        self._pictures.clear()

    def get(self, index: int) -> QImage | None:
        """The pixels of image ``index`` as a QImage, or None when it cannot be read."""
        if index not in self._pictures:
            self._pictures[index] = self._load(index)
        self._pictures.move_to_end(index)
        while len(self._pictures) > 1 and (len(self._pictures) > self.size or self.bytes_held() > self.max_bytes):
            self._pictures.popitem(last=False)  # the least recently used; never the one just asked for
        return self._pictures[index]

    def held(self, index: int) -> QImage | None:
        """Image ``index``'s pixels if they are decoded and kept already, else None; never decodes
        nor changes which pictures are kept (the gallery cuts thumbnails from it, within the
        canvas's memory budget)."""
        return self._pictures.get(index)

    def bytes_held(self) -> int:
        return sum(p.sizeInBytes() for p in self._pictures.values() if p is not None)

    def read_again(self, index: int) -> QImage | None:
        """Read an image marked unreadable once more; when it reads now it is unmarked (and an image
        whose size was never known gets it, or exports and autosave would leave its cells out)."""
        if index not in self.session.broken:
            return self.get(index)
        picture = self._decode(index)  # marked broken again, with today's reason, when it still fails
        if picture is None:
            return None
        self._pictures[index] = picture
        image = self.session.dataset.images[index]
        if image.width <= 0 or image.height <= 0:
            image.width, image.height = picture.width(), picture.height()
        self.session.clear_broken(index)
        return self.get(index)

    def _load(self, index: int) -> QImage | None:
        return None if index in self.session.broken else self._decode(index)

    def _decode(self, index: int) -> QImage | None:
        from bloodview.gui.qt_image import numpy_to_qimage
        from bloodview.io.images import load_image

        try:
            return numpy_to_qimage(load_image(self.session.image_path(index)))
        except BloodviewError as exc:
            self.session.mark_broken(index, str(exc))
        except OSError as exc:
            self.session.mark_broken(index, f"{self.session.image_path(index)}: {exc.strerror or exc}")
        return None
