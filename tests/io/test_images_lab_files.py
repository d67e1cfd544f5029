"""Image files as a lab's camera and PC write them: what opens, as what, and the sentence when it does not.

Regressions, each met with files made from a BCCD field:
- a 0-byte file (a copy that failed) was "not a readable image (unknown or corrupt format)";
- a JPEG copied half-way gave Pillow's "image file is truncated (8 bytes not processed)" in brackets;
- a WebP (Pillow reads it) was left out of a folder and refused on the command line;
- a multi-page TIFF (a z-stack, several fields) was read at its first page without a word, and one
  whose first page is a reduced-resolution thumbnail (TIFF/EP, some camera software) was read as
  that thumbnail.
"""

from __future__ import annotations

import logging
import struct

import cv2
import numpy as np
import pytest
from PIL import Image, TiffImagePlugin

from bloodview.errors import ImageError
from bloodview.io.images import is_image_file, list_images, load_image, multi_page_warning, read_image_size


def _field(h=24, w=32):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 7, y * 9, np.full_like(x, 180)], axis=2).astype(np.uint8)


def test_an_empty_file_is_refused_as_empty(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match=r"a\.jpg: is an empty file \(0 bytes\)"):
        load_image(tmp_path / "a.jpg")
    with pytest.raises(ImageError, match="empty file"):
        read_image_size(tmp_path / "a.jpg")


def test_a_jpeg_copied_half_way_is_refused_in_one_plain_sentence(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (200, 200, 3), np.uint8)).save(tmp_path / "a.jpg")
    data = (tmp_path / "a.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError) as caught:
        load_image(tmp_path / "cut.jpg")
    message = str(caught.value)
    assert "cut.jpg" in message and "ends before its last pixels" in message
    assert "bytes not processed" not in message


def test_webp_is_an_image_of_a_folder_and_loads(tmp_path):
    if not Image.registered_extensions().get(".webp"):
        pytest.skip("this Pillow has no WebP")
    Image.fromarray(_field()).save(tmp_path / "a.webp", lossless=True)
    assert is_image_file(tmp_path / "a.webp") and is_image_file(tmp_path / "B.WEBP")
    assert list_images(tmp_path) == [tmp_path / "a.webp"]
    np.testing.assert_array_equal(load_image(tmp_path / "a.webp"), _field())


def test_a_multi_page_tiff_reads_its_first_page_and_says_the_others_are_not_read(tmp_path, caplog):
    first, second = _field(), 255 - _field()
    Image.fromarray(first).save(tmp_path / "stack.tif", save_all=True, append_images=[Image.fromarray(second)])
    with caplog.at_level(logging.WARNING, logger="bloodview.io.images"):
        out = load_image(tmp_path / "stack.tif")
    np.testing.assert_array_equal(out, first)
    assert "stack.tif: has 2 full-size pages; only page 1 is read" in caplog.text


def _stack(path):
    Image.fromarray(_field()).save(path, save_all=True, append_images=[Image.fromarray(255 - _field())] * 2)
    return path


def test_a_multi_page_tiff_decoded_again_and_again_warns_once(tmp_path, caplog):
    """The app decodes a file for the canvas, the thumbnails and detection: before, the warning came 2-3 times."""
    path = _stack(tmp_path / "stack.tif")
    with caplog.at_level(logging.WARNING, logger="bloodview.io.images"):
        for _ in range(3):
            load_image(path)
        load_image(tmp_path / "." / "stack.tif")  # the same file under another spelling
    assert caplog.text.count("has 3 full-size pages") == 1


def test_a_multi_page_tiff_decoded_on_many_threads_at_once_warns_once(tmp_path, caplog):
    """Thumbnails decode on pool threads, alongside the canvas's decode on the GUI thread."""
    from concurrent.futures import ThreadPoolExecutor

    paths = [_stack(tmp_path / f"stack{i}.tif") for i in range(3)]
    with caplog.at_level(logging.WARNING, logger="bloodview.io.images"), ThreadPoolExecutor(8) as pool:
        list(pool.map(load_image, paths * 8))
    assert sorted(r.getMessage().split(":")[0] for r in caplog.records) == [str(p) for p in paths]


def test_the_multi_page_warning_is_read_from_the_headers_for_the_app_to_show(tmp_path):
    path = _stack(tmp_path / "stack.tiff")
    Image.fromarray(_field()).save(tmp_path / "one.tif")
    assert multi_page_warning(path) == (f"{path}: has 3 full-size pages; only page 1 is read (save each field "
                                        "as its own file to find the cells of the others)")
    load_image(path)
    assert multi_page_warning(path), "said to the user even when the log already had it"
    assert multi_page_warning(tmp_path / "one.tif") == ""
    (tmp_path / "broken.tif").write_bytes(b"not a picture at all")
    assert multi_page_warning(tmp_path / "broken.tif") == ""  # its error is said where it is opened


def test_a_tiff_whose_first_page_is_a_thumbnail_is_read_at_full_size(tmp_path, caplog):
    path = tmp_path / "camera.tif"
    Image.new("RGB", (8, 6)).save(path, tiffinfo={254: 1})  # NewSubfileType: reduced resolution
    with TiffImagePlugin.AppendingTiffWriter(str(path)) as tiff:
        Image.fromarray(_field()).save(tiff)
    with caplog.at_level(logging.WARNING, logger="bloodview.io.images"):
        out = load_image(path)
    np.testing.assert_array_equal(out, _field())
    assert read_image_size(path) == (32, 24)
    assert "pages" not in caplog.text  # one full-size page: nothing left unread


def _mark_first_page_reduced(path):
    """Set NewSubfileType of a little-endian classic TIFF's first page to "reduced resolution"."""
    data = bytearray(path.read_bytes())
    directory = struct.unpack("<I", data[4:8])[0]
    for index in range(struct.unpack("<H", data[directory:directory + 2])[0]):
        at = directory + 2 + 12 * index
        if struct.unpack("<H", data[at:at + 2])[0] == 254:
            data[at + 8:at + 12] = struct.pack("<I", 1)
    path.write_bytes(bytes(data))


def test_a_16_bit_colour_tiff_whose_first_page_is_a_thumbnail_is_read_at_full_size_and_depth(tmp_path):
    path = tmp_path / "camera16.tif"
    full = np.zeros((12, 20, 3), np.uint16)
    full[..., 2], full[..., 1], full[..., 0] = 4095, 2048, 0  # OpenCV order: B G R -> red 4095
    cv2.imwritemulti(str(path), [np.zeros((6, 8, 3), np.uint16), full])
    _mark_first_page_reduced(path)
    out = load_image(path)
    assert out.shape == (12, 20, 3)
    assert tuple(out[0, 0]) == (255, 128, 0)


@pytest.mark.parametrize("orientation, turn", [(3, Image.Transpose.ROTATE_180), (6, Image.Transpose.ROTATE_90),
                                               (8, Image.Transpose.ROTATE_270)])
def test_a_camera_jpeg_with_an_exif_turn_loads_as_every_viewer_shows_it(tmp_path, orientation, turn):
    shown = _field(24, 40)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(shown).transpose(turn).save(tmp_path / "a.jpg", exif=exif.tobytes(), quality=98)
    out = load_image(tmp_path / "a.jpg")
    assert out.shape == shown.shape and read_image_size(tmp_path / "a.jpg") == (40, 24)
    assert np.abs(out.astype(int) - shown).mean() < 4


@pytest.mark.parametrize("name, save", [
    ("cmyk.jpg", dict(format="JPEG", quality=98, mode="CMYK")),
    ("progressive.jpg", dict(format="JPEG", quality=98, progressive=True)),
    ("palette.png", dict(format="PNG", mode="P")),
    ("png inside.jpg", dict(format="PNG")),
    ("UPPER CASE.JPG", dict(format="JPEG", quality=98)),
    ("ÉCHANTILLON 中.TIF", dict(format="TIFF")),
])
def test_files_a_lab_brings_load_as_the_same_field(tmp_path, name, save):
    mode = save.pop("mode", "RGB")
    image = Image.fromarray(_field())
    image = image.convert(mode, palette=Image.Palette.ADAPTIVE) if mode == "P" else image.convert(mode)
    image.save(tmp_path / name, **save)
    assert list_images(tmp_path) == [tmp_path / name]
    out = load_image(tmp_path / name)
    assert out.shape == (24, 32, 3) and np.abs(out.astype(int) - _field()).mean() < 6
