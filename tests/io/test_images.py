"""Image loading: every bit depth / channel layout becomes uint8 RGB as displayed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from bloodview.errors import ImageError
from bloodview.io.images import list_images, load_image, read_image_size


def _gradient(h=12, w=20):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 10, y * 20, np.full_like(x, 200)], axis=2).astype(np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif"])
def test_lossless_rgb_round_trip(tmp_path, suffix):
    rgb = _gradient()
    path = tmp_path / f"a{suffix}"
    Image.fromarray(rgb).save(path)
    out = load_image(path)
    assert out.dtype == np.uint8 and out.shape == (12, 20, 3)
    np.testing.assert_array_equal(out, rgb)
    assert read_image_size(path) == (20, 12)


def test_jpeg_loads_close_to_original(tmp_path):
    rgb = _gradient()
    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=95)
    out = load_image(tmp_path / "a.jpg")
    assert out.shape == (12, 20, 3)
    assert np.abs(out.astype(int) - rgb).mean() < 6


def test_grey_8_and_16_bit(tmp_path):
    grey16 = (np.arange(12 * 20).reshape(12, 20) * 270).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "g16.png"), grey16)
    cv2.imwrite(str(tmp_path / "g16.tif"), grey16)
    Image.fromarray((grey16 >> 8).astype(np.uint8)).save(tmp_path / "g8.png")
    for name in ("g16.png", "g16.tif", "g8.png"):
        out = load_image(tmp_path / name)
        assert out.shape == (12, 20, 3) and out.dtype == np.uint8
        assert np.array_equal(out[..., 0], out[..., 2])
        # 16-bit is scaled by 255/65535: the brightest pixel keeps its relative level
        assert abs(int(out[-1, -1, 0]) - round(grey16[-1, -1] / 257)) <= 1


def test_16_bit_rgb_tiff(tmp_path):
    rgb16 = (_gradient().astype(np.uint16) * 257)
    cv2.imwrite(str(tmp_path / "c16.tif"), rgb16[..., ::-1])  # OpenCV writes BGR
    out = load_image(tmp_path / "c16.tif")
    assert np.abs(out.astype(int) - _gradient()).max() <= 1


def test_rgba_composited_on_white(tmp_path):
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:2, :, 3] = 255  # top half opaque red, bottom transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png")
    assert tuple(out[0, 0]) == (255, 0, 0)
    assert tuple(out[3, 0]) == (255, 255, 255)


def test_exif_orientation_is_applied_to_pixels_and_size(tmp_path):
    rgb = _gradient(10, 30)
    image = Image.fromarray(rgb)
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    image.save(tmp_path / "r.jpg", exif=exif, quality=95)
    assert read_image_size(tmp_path / "r.jpg") == (10, 30)
    out = load_image(tmp_path / "r.jpg")
    assert out.shape == (30, 10, 3)
    # displayed top row is the stored left column, read bottom to top
    assert np.abs(out[0, :, 1].astype(int) - rgb[::-1, 0, 1]).max() < 12


@pytest.mark.parametrize("suffix", [".tif", ".jpg", ".png"])
def test_a_turned_images_size_matches_its_pixels(tmp_path, suffix):
    """Regression: Pillow reports a TIFF with a 90-degree Orientation tag at its shown size already,
    and read_image_size turned it again, so its size disagreed with the loaded pixels."""
    image = Image.fromarray(_gradient(10, 30))
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(tmp_path / f"r{suffix}", exif=exif)
    out = load_image(tmp_path / f"r{suffix}")
    assert out.shape == (30, 10, 3)
    assert read_image_size(tmp_path / f"r{suffix}") == (10, 30)


def test_annotations_made_on_the_unturned_picture_are_refused_with_the_reason(tmp_path, capsys):
    """A camera JPEG turned by its EXIF tag, annotated by a tool that ignores the tag: the sizes
    are swapped. The refusal used to give two sizes and no reason."""
    import json

    from bloodview.cli.main import main

    image = Image.fromarray(_gradient(10, 30))
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(tmp_path / "r.jpg", exif=exif)
    coco = {"images": [{"id": 1, "file_name": "r.jpg", "width": 30, "height": 10}], "annotations": [],
            "categories": []}
    (tmp_path / "c.json").write_text(json.dumps(coco))
    assert main(["info", str(tmp_path / "c.json")]) == 1
    assert capsys.readouterr().err == (
        f"bloodview: error: {tmp_path / 'c.json'}: says r.jpg is 30x10 but the image file is 10x30 as shown: its EXIF "
        "orientation tag turns it by 90 degrees, and the annotations were made on the stored, unturned picture\n")
    Image.fromarray(_gradient(30, 10)).save(tmp_path / "r.jpg")  # stored 10 x 30, no tag: just the sizes
    assert main(["info", str(tmp_path / "c.json")]) == 1
    assert capsys.readouterr().err.endswith("says r.jpg is 30x10 but the image file is 10x30\n")


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(ImageError, match="missing.png.*not found"):
        load_image(tmp_path / "missing.png")


def test_not_an_image(tmp_path):
    (tmp_path / "notes.png").write_text("hello")
    with pytest.raises(ImageError, match="notes.png.*not a readable image"):
        load_image(tmp_path / "notes.png")


def test_truncated_jpeg(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), np.uint8)).save(tmp_path / "a.jpg")
    data = (tmp_path / "a.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="cut.jpg.*corrupt or truncated"):
        load_image(tmp_path / "cut.jpg")


def test_decompression_bomb_refused_before_decoding(tmp_path):
    Image.new("L", (400, 300)).save(tmp_path / "big.png")
    with pytest.raises(ImageError, match="big.png.*above the limit"):
        load_image(tmp_path / "big.png", max_pixels=100_000)
    with pytest.raises(ImageError, match="decompression bomb"):
        read_image_size(tmp_path / "big.png", max_pixels=100_000)


def test_list_images_sorted_recursive_skips_hidden(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.JPG", "a.png", "sub/c.tif", "._a.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)] == ["a.png", "b.JPG", "sub/c.tif"]
    assert [p.name for p in list_images(tmp_path, recursive=False)] == ["a.png", "b.JPG"]


def test_real_bmp_and_jpeg(zheng_dir, bccd_dir):
    crop = load_image(zheng_dir / "001.bmp")
    assert crop.dtype == np.uint8 and crop.ndim == 3
    assert read_image_size(zheng_dir / "001.bmp") == (crop.shape[1], crop.shape[0])
    assert read_image_size(bccd_dir / "JPEGImages" / "BloodImage_00000.jpg") == (640, 480)
