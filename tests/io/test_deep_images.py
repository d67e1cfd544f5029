"""16-bit TIFF/PNG from scientific cameras load at their real brightness (regression: a 12-bit
camera's 16-bit RGB TIFF, values 0..4095, loaded nearly black because Pillow kept the high byte)."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from bloodview.errors import ImageError
from bloodview.io.deep_images import scale_to_uint8
from bloodview.io.images import load_image, read_image_size


def _to_12_bit(rgb8: np.ndarray) -> np.ndarray:
    return np.round(rgb8.astype(np.float64) * (4095 / 255)).astype(np.uint16)


@pytest.fixture(scope="module")
def smear(pbc_dir) -> np.ndarray:
    """A real PBC smear crop, 8-bit RGB."""
    path = sorted((pbc_dir / "neutrophil").glob("*.jpg"))[0]
    return load_image(path)


@pytest.mark.parametrize("suffix", [".tif", ".png"])
def test_a_12_bit_camera_colour_file_loads_as_bright_as_the_scene(tmp_path, smear, suffix):
    path = tmp_path / f"camera{suffix}"
    cv2.imwrite(str(path), _to_12_bit(smear)[..., ::-1])  # OpenCV writes BGR
    out = load_image(path)
    assert out.dtype == np.uint8 and out.shape == smear.shape
    assert np.abs(out.astype(int) - smear).max() <= 1  # was at most 15: nearly black
    assert read_image_size(path) == (smear.shape[1], smear.shape[0])


def test_a_12_bit_grey_tiff_loads_as_bright_as_the_scene(tmp_path, smear):
    grey8 = cv2.cvtColor(smear, cv2.COLOR_RGB2GRAY)
    cv2.imwrite(str(tmp_path / "grey.tif"), _to_12_bit(grey8))
    out = load_image(tmp_path / "grey.tif")
    assert np.abs(out[..., 1].astype(int) - grey8).max() <= 1
    assert np.array_equal(out[..., 0], out[..., 2])


def test_frames_of_one_camera_keep_their_relative_brightness_and_a_hot_pixel_changes_nothing():
    bright = np.full((4, 4, 3), 3000, np.uint16)
    dim = np.full((4, 4, 3), 1500, np.uint16)
    dim[0, 0] = 4095  # a hot pixel: a sensor's values stop at its depth
    assert scale_to_uint8(bright)[1, 1, 0] == round(3000 * 255 / 4095)
    assert scale_to_uint8(dim)[1, 1, 0] == round(1500 * 255 / 4095)
    assert scale_to_uint8(np.full((2, 2), 65535, np.uint16))[0, 0] == 255  # full 16-bit range
    assert scale_to_uint8(np.full((2, 2), 200, np.uint16))[0, 0] == 200  # 8-bit values in a 16-bit file


def test_a_16_bit_rgba_png_is_composited_on_white(tmp_path):
    bgra = np.zeros((4, 5, 4), np.uint16)
    bgra[..., 2] = 4095  # red, 12-bit full
    bgra[:2, :, 3] = 65535  # top half opaque, bottom transparent
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    out = load_image(tmp_path / "a.png")
    assert tuple(out[0, 0]) == (255, 0, 0)
    assert tuple(out[3, 0]) == (255, 255, 255)


def _png_with_orientation(path, bgr16: np.ndarray, orientation: int) -> None:
    """A 16-bit PNG written by OpenCV with an eXIf chunk (EXIF orientation) added before IDAT."""
    cv2.imwrite(str(path), bgr16)
    data = path.read_bytes()
    exif = Image.Exif()
    exif[0x0112] = orientation
    payload = exif.tobytes()[6:] if exif.tobytes().startswith(b"Exif\x00\x00") else exif.tobytes()
    chunk = struct.pack(">I", len(payload)) + b"eXIf" + payload
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + payload) & 0xFFFFFFFF)
    at = data.index(b"IDAT") - 4
    path.write_bytes(data[:at] + chunk + data[at:])


def test_exif_orientation_is_applied_to_a_16_bit_colour_file(tmp_path, smear):
    rgb8 = smear[:30, :50]
    path = tmp_path / "turned.png"
    _png_with_orientation(path, _to_12_bit(rgb8)[..., ::-1], 6)  # shown turned 90 degrees clockwise
    assert read_image_size(path) == (30, 50)
    out = load_image(path)
    assert out.shape == (50, 30, 3)
    expected = np.asarray(Image.fromarray(rgb8).transpose(Image.Transpose.ROTATE_270))
    assert np.abs(out.astype(int) - expected).max() <= 1


def _tiff_with_orientation(path, rgb16: np.ndarray, orientation: int) -> None:
    """A plain (uncompressed, one strip) 16-bit RGB TIFF with an Orientation tag, as cameras write."""
    height, width, _ = rgb16.shape
    pixels = rgb16.astype("<u2").tobytes()
    bits_at = 8 + len(pixels)  # the three BitsPerSample values follow the pixels
    ifd_at = bits_at + 6
    tags = [(256, 3, 1, width), (257, 3, 1, height), (258, 3, 3, bits_at), (259, 3, 1, 1), (262, 3, 1, 2),
            (273, 4, 1, 8), (274, 3, 1, orientation), (277, 3, 1, 3), (278, 3, 1, height),
            (279, 4, 1, len(pixels)), (284, 3, 1, 1)]
    ifd = struct.pack("<H", len(tags)) + b"".join(
        struct.pack("<HHI", tag, kind, count) + (struct.pack("<HH", value, 0) if kind == 3 and count == 1
                                                  else struct.pack("<I", value))
        for tag, kind, count, value in tags) + struct.pack("<I", 0)
    path.write_bytes(b"II*\x00" + struct.pack("<I", ifd_at) + pixels + struct.pack("<3H", 16, 16, 16) + ifd)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_16_bit_camera_tiff_is_turned_as_its_8_bit_twin(tmp_path, smear, orientation):
    # OpenCV's TIFF reader turns by the tag itself: the picture must be turned once, as Pillow turns
    rgb8 = smear[:30, :50]
    deep = tmp_path / "camera.tif"
    _tiff_with_orientation(deep, _to_12_bit(rgb8), orientation)
    assert Image.open(deep).mode == "RGB"  # what Pillow alone would cut to the high byte
    twin = Image.fromarray(rgb8)
    exif = twin.getexif()
    exif[0x0112] = orientation
    twin.save(tmp_path / "twin.tif", exif=exif)
    expected = load_image(tmp_path / "twin.tif")
    out = load_image(deep)
    assert out.shape == expected.shape and np.abs(out.astype(int) - expected).max() <= 1
    shown = (50, 30) if orientation < 5 else (30, 50)
    assert read_image_size(deep) == read_image_size(tmp_path / "twin.tif") == shown


def test_a_truncated_16_bit_png_names_the_file(tmp_path, smear):
    cv2.imwrite(str(tmp_path / "whole.png"), _to_12_bit(smear)[..., ::-1])
    data = (tmp_path / "whole.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])  # header intact, pixels cut
    assert read_image_size(tmp_path / "cut.png") == (smear.shape[1], smear.shape[0])
    with pytest.raises(ImageError, match="cut.png.*corrupt or truncated"):
        load_image(tmp_path / "cut.png")


def test_a_huge_16_bit_tiff_is_refused_before_decoding(tmp_path):
    cv2.imwrite(str(tmp_path / "big.tif"), np.zeros((300, 400, 3), np.uint16))
    with pytest.raises(ImageError, match="big.tif.*decompression bomb"):
        load_image(tmp_path / "big.tif", max_pixels=100_000)


@pytest.mark.parametrize("name,array", [
    ("rgb8.tif", np.full((6, 7, 3), (10, 120, 240), np.uint8)),
    ("grey8.tif", np.full((6, 7), 99, np.uint8)),
    ("rgb8.png", np.full((6, 7, 3), (10, 120, 240), np.uint8)),
    ("grey8.png", np.full((6, 7), 99, np.uint8)),
])
def test_8_bit_files_load_unchanged(tmp_path, name, array):
    Image.fromarray(array).save(tmp_path / name)
    out = load_image(tmp_path / name)
    expected = array if array.ndim == 3 else np.repeat(array[:, :, None], 3, axis=2)
    np.testing.assert_array_equal(out, expected)
