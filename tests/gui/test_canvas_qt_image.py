"""NumPy <-> QImage round trips keep every pixel, whatever the row padding."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtGui import QImage

from bloodview.errors import ImageError
from bloodview.gui.qt_image import load_qimage, numpy_to_qimage, qimage_to_numpy


@pytest.mark.parametrize("width", [1, 3, 7, 64])  # odd widths: QImage pads rows to 4 bytes
def test_rgb_round_trip_is_exact(qapp, width):
    rng = np.random.default_rng(width)
    rgb = rng.integers(0, 256, size=(5, width, 3), dtype=np.uint8)
    image = numpy_to_qimage(rgb)
    assert (image.width(), image.height()) == (width, 5)
    np.testing.assert_array_equal(qimage_to_numpy(image), rgb)


def test_the_qimage_owns_its_pixels(qapp):
    rgb = np.zeros((4, 4, 3), dtype=np.uint8)
    image = numpy_to_qimage(rgb)
    rgb[:] = 255
    assert image.pixelColor(0, 0).red() == 0


def test_grey_rgba_and_16_bit(qapp):
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    assert qimage_to_numpy(numpy_to_qimage(grey))[:, :, 1].tolist() == grey.tolist()
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 255
    assert numpy_to_qimage(rgba).pixelColor(1, 1).red() == 200
    deep = np.full((2, 2, 3), 65535, dtype=np.uint16)
    assert qimage_to_numpy(numpy_to_qimage(deep)).max() == 255
    with pytest.raises(ValueError):
        numpy_to_qimage(np.zeros((2, 2, 5), dtype=np.uint8))


def test_load_real_pbc_image_and_name_missing_files(qapp, pbc_dir, tmp_path):
    path = next((pbc_dir / "platelet").glob("*.jpg"))
    image = load_qimage(path)
    assert isinstance(image, QImage) and image.width() >= 360
    with pytest.raises(ImageError, match="nope.png"):
        load_qimage(tmp_path / "nope.png")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(ImageError, match="broken.jpg"):
        load_qimage(broken)


def test_load_qimage_reads_what_detection_reads(qapp, tmp_path):
    """One loader: a transparent PNG is composited on white (as for detection), not left transparent."""
    from PIL import Image

    from bloodview.io.images import load_image

    rgba = np.zeros((6, 8, 4), dtype=np.uint8)
    rgba[..., 0] = 180
    rgba[2:4, 2:6, 3] = 255  # an opaque red patch on a transparent field
    path = tmp_path / "border.png"
    Image.fromarray(rgba, "RGBA").save(path)
    shown = qimage_to_numpy(load_qimage(path))
    np.testing.assert_array_equal(shown, load_image(path))
    assert shown[0, 0].tolist() == [255, 255, 255]


def test_open_dialog_offers_every_image_type_the_loader_reads():
    from bloodview.gui.file_actions import open_filter
    from bloodview.io.images import IMAGE_SUFFIXES

    images = open_filter().split(";;")[0]
    assert all(f"*{suffix}" in images for suffix in IMAGE_SUFFIXES)
    assert "*.webp" in images and "*.json" in images
