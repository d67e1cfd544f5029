"""NumPy RGB arrays <-> QImage, without surprises about strides or lifetime.

``numpy_to_qimage`` always returns a QImage that owns its pixels (a copy), so the
array may be freed or changed afterwards. Arrays are ``uint8`` in ``(H, W)`` grey,
``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA order, rows first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6.QtGui import QImage



def numpy_to_qimage(array: np.ndarray) -> QImage:
    """Copy a ``uint8`` grey/RGB/RGBA array into a new QImage.

    Other integer or float dtypes are scaled into 0..255 (16-bit by >> 8, floats
    assumed 0..1).
    """
    data = np.asarray(array)
    if data.dtype == np.uint16:
        data = (data >> 8).astype(np.uint8)
    elif data.dtype.kind == "f":
        data = np.clip(data * 255.0 + 0.5, 0, 255).astype(np.uint8)
    elif data.dtype != np.uint8:
        data = np.clip(data, 0, 255).astype(np.uint8)
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    if data.ndim == 2:
        fmt, channels = QImage.Format.Format_Grayscale8, 1
    elif data.ndim == 3 and data.shape[2] == 3:
        fmt, channels = QImage.Format.Format_RGB888, 3
    elif data.ndim == 3 and data.shape[2] == 4:
        fmt, channels = QImage.Format.Format_RGBA8888, 4
    else:
        raise ValueError(f"an image array must be (H, W), (H, W, 3) or (H, W, 4), got {data.shape}")
    data = np.ascontiguousarray(data)
    height, width = data.shape[:2]
    image = QImage(data.data, width, height, width * channels, fmt)
    return image.copy()  # detach from the NumPy buffer


def qimage_to_numpy(image: QImage) -> np.ndarray:
    """A QImage as a new ``uint8`` RGB array of shape ``(H, W, 3)``."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = rgb.width(), rgb.height()
    if width == 0 or height == 0:
        return np.zeros((height, width, 3), dtype=np.uint8)
    stride = rgb.bytesPerLine()
    buffer = np.frombuffer(rgb.constBits().asstring(stride * height), dtype=np.uint8)
    return buffer.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()


def load_qimage(path: str | Path) -> QImage:
    """Read an image file as the rest of bloodview reads it (:func:`bloodview.io.images.load_image`).

    One loader everywhere: Qt's own readers differ from it for 16-bit camera TIFFs, transparent PNGs
    (composited on white for detection), TIFFs whose first page is a thumbnail and WebP without Qt's
    plugin, so a picture read here could differ from the one the cells were found on.
    Raises :class:`ImageError` naming the file when it is missing or unreadable.
    """
    from bloodview.io.images import load_image

    return numpy_to_qimage(load_image(Path(path)))


def to_qimage(image: QImage | np.ndarray) -> QImage:
    """Accept either a QImage or an array; arrays are copied."""
    if isinstance(image, QImage):
        return image
    return numpy_to_qimage(image)
