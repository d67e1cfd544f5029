"""Reading smear images into one predictable array type.

Whatever the file holds (JPEG/PNG/TIFF/BMP; 8- or 16-bit; grey, RGB or RGBA;
rotated by an EXIF orientation tag), :func:`load_image` returns a ``uint8``
array of shape ``(height, width, 3)`` in RGB order, as the image is *shown*
(EXIF orientation applied). Annotation coordinates always refer to that
displayed orientation, and :func:`read_image_size` reports the same size
without decoding pixels.

Conversions: grey is repeated to three channels; RGBA is composited on white
(slides are bright, so transparent parts read as background); 10- to 16-bit
data (16-bit TIFF/PNG, colour ones decoded at full depth by
:mod:`bloodview.io.deep_images`) is scaled by the camera's bit depth inferred
from the largest value (a 12-bit camera's 0..4095 by ``255 / 4095``); float
data in ``[0, 1]`` by 255, other float ranges are stretched min..max.

Images above :data:`MAX_IMAGE_PIXELS` are refused before decoding (a
"decompression bomb" would otherwise fill memory), with an :class:`ImageError`;
so are empty files and files cut short (a half-copied JPEG is refused, not shown
half grey: its cells would be counted as if the field ended there).

A multi-page TIFF is read at its first full-resolution page (pages marked as
reduced-resolution thumbnails are passed over); :func:`load_image` logs a warning
naming the file when it has other full pages (a z-stack or several fields), which
are not read; once per file and process, as the app decodes a file several times.
:func:`multi_page_warning` gives the same sentence from the headers, for the GUI
to show when the file is opened.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from bloodview.errors import FormatError, ImageError
from bloodview.io.deep_images import decode_deep_colour, is_deep_colour, scale_to_uint8

log = logging.getLogger(__name__)

IMAGE_SUFFIXES: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"})

# ~179 megapixels (Pillow's own hard limit): a 13,000 x 13,000 field still opens.
MAX_IMAGE_PIXELS = 178_956_970

# EXIF orientations 5..8 rotate by 90 degrees, so width and height swap.
_EXIF_ORIENTATION = 0x0112
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}
_TIFF_WIDTH, _TIFF_HEIGHT = 256, 257  # ImageWidth, ImageLength tags
_TIFF_NEW_SUBFILE_TYPE = 254  # bit 0: a reduced-resolution version of another page


def read_image_size(path: str | Path, max_pixels: int = MAX_IMAGE_PIXELS) -> tuple[int, int]:
    """``(width, height)`` as displayed (EXIF orientation applied), from the header only."""
    path = Path(path)
    with _open(path) as image:
        width, height = _stored_size(image)
        _check_pixels(path, width, height, max_pixels)
        if _orientation(image) in _SWAPPING_ORIENTATIONS:
            width, height = height, width
    return int(width), int(height)


def load_image(path: str | Path, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode an image file to a ``uint8`` ``(H, W, 3)`` RGB array (see module doc).

    Raises :class:`ImageError` naming the file when it is missing, not an image,
    truncated/corrupt or larger than ``max_pixels``.
    """
    path = Path(path)
    with _open(path) as image:
        _check_pixels(path, image.size[0], image.size[1], max_pixels)
        page, full_pages = _main_page(image)
        if full_pages > 1 and _first_time(path):
            log.warning("%s", _pages_sentence(path, page, full_pages))
        if is_deep_colour(path, image):  # Pillow would keep only each sample's high byte
            return _turn(decode_deep_colour(path, _stored_size(image), page), _orientation(image))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image.load()
                image = ImageOps.exif_transpose(image)
                array = _to_rgb8(image)
        except (OSError, ValueError, SyntaxError) as exc:
            if "truncated" in str(exc).lower():
                raise ImageError(path, "image is corrupt or truncated: the file ends before its last pixels "
                                       "(copy it again from the camera)") from exc
            raise ImageError(path, f"image is corrupt or truncated ({exc})") from exc
    return array


def multi_page_warning(path: str | Path) -> str:
    """What :func:`load_image` leaves unread of ``path``, in a sentence ("" for all but multi-page TIFFs).

    From the headers only, so that opening a folder can say it once where people see it; the log
    line :func:`load_image` writes reaches only those who read logs. Unreadable files give "" (their
    error is reported where they are opened).
    """
    path = Path(path)
    if path.suffix.lower() not in (".tif", ".tiff"):
        return ""
    try:
        with _open(path) as image:
            page, full_pages = _main_page(image)
    except (ImageError, OSError):
        return ""
    return _pages_sentence(path, page, full_pages) if full_pages > 1 else ""


def list_images(folder: str | Path, recursive: bool = True) -> list[Path]:
    """Image files under ``folder`` (by suffix, case-insensitive), sorted by path.

    Hidden files (``.name``, e.g. macOS ``._`` resource forks) are skipped. A sub-folder
    that cannot be read, or that vanishes while the folder is read (a colleague tidying the
    lab's share), is left out with a warning; before, the vanished one made opening the folder
    fail with a bare "No such file or directory".
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageError(folder, "is not a folder of images")
    try:
        entries: Iterable[Path] = _walk(folder) if recursive else folder.iterdir()
        found = [
            p for p in entries
            if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
        ]
    except PermissionError as exc:
        raise ImageError(exc.filename or folder, "cannot be read (permission denied)") from exc
    except OSError as exc:
        raise ImageError(exc.filename or folder, f"cannot be read ({exc.strerror or exc})") from exc
    return sorted(found)


def _walk(folder: Path) -> Iterable[Path]:
    """Every entry under ``folder`` (symbolic links to folders not followed, as ``rglob``); sub-folders
    that cannot be listed are skipped with a warning, ``folder`` itself raises ``OSError``."""
    def skipped(error: OSError) -> None:
        if Path(error.filename or "") == folder:
            raise error
        log.warning("%s: left out (%s)", error.filename, error.strerror or error)

    for parent, folders, files in os.walk(folder, onerror=skipped):
        for name in folders + files:
            yield Path(parent, name)


def is_image_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


# --- helpers -------------------------------------------------------------
def _open(path: Path) -> Image.Image:
    if not path.exists():
        raise ImageError(path, "image file not found")
    if path.is_dir():
        raise ImageError(path, "is a folder, not an image file")
    try:
        if path.stat().st_size == 0:
            raise ImageError(path, "is an empty file (0 bytes), not an image")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise ImageError(path, f"image is too large to open safely ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise ImageError(path, "is not a readable image (unknown or corrupt format)") from exc
    except PermissionError as exc:
        raise ImageError(path, "image cannot be read (permission denied)") from exc
    except OSError as exc:
        raise ImageError(path, f"image cannot be read ({exc})") from exc
    try:
        _main_page(image)
    except (OSError, EOFError, ValueError, SyntaxError) as exc:  # a damaged later page of a TIFF
        image.close()
        raise ImageError(path, f"image is corrupt or truncated (its pages cannot be followed: {exc})") from exc
    return image


def _main_page(image: Image.Image) -> tuple[int, int]:
    """Go to the page of a multi-page TIFF that is read; ``(its index, the number of full-size pages)``.

    The first page not marked as a reduced-resolution thumbnail (NewSubfileType bit 0), else page 0.
    Other formats (and one-page files) stay at their only picture: ``(0, 1)``.
    """
    if image.format != "TIFF" or getattr(image, "n_frames", 1) <= 1:
        return 0, 1
    full = []
    for page in range(image.n_frames):
        image.seek(page)
        if not int(image.tag_v2.get(_TIFF_NEW_SUBFILE_TYPE, 0)) & 1:
            full.append(page)
    image.seek(full[0] if full else 0)
    return (full[0], len(full)) if full else (0, 1)


def _pages_sentence(path: Path, page: int, full_pages: int) -> str:
    return (f"{path}: has {full_pages} full-size pages; only page {page + 1} is read (save each field as its "
            "own file to find the cells of the others)")


# Files whose unread pages were logged. The app decodes a file for the canvas, the thumbnails and
# detection (thumbnails on pool threads), so the warning is logged once per file and process.
_told_pages: set[Path] = set()
_told_lock = threading.Lock()


def _first_time(path: Path) -> bool:
    """True the first time ``path``'s unread pages are to be told in this process."""
    key = path.resolve()
    with _told_lock:
        if key in _told_pages:
            return False
        _told_pages.add(key)
        return True


def _check_pixels(path: Path, width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(path, f"image has an empty size {width}x{height}")
    if width * height > max_pixels:
        raise ImageError(
            path,
            f"image is {width}x{height} = {width * height:,} pixels, above the limit of "
            f"{max_pixels:,} (refused as a possible decompression bomb)",
        )


def _stored_size(image: Image.Image) -> tuple[int, int]:
    """``(width, height)`` as stored in the file, before any EXIF turn.

    Pillow's TIFF reader reports a TIFF with a 90-degree Orientation tag at its *shown* size
    already (and turns it on load), where other formats report the stored size: read without
    this, such a TIFF's size was turned twice and disagreed with its pixels.
    """
    if image.format == "TIFF":
        try:
            return int(image.tag_v2[_TIFF_WIDTH]), int(image.tag_v2[_TIFF_HEIGHT])
        except (KeyError, TypeError, ValueError):
            pass
    return image.size


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except (AttributeError, OSError, ValueError, SyntaxError):
        return 1  # no or broken EXIF: shown as stored


_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""EXIF orientation -> the turn that shows the picture upright (as ``ImageOps.exif_transpose``)."""


def _turn(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """``rgb`` as shown: the EXIF turn applied to a picture decoded without Pillow."""
    method = _TURNS.get(orientation)
    if method is None:
        return rgb
    return np.asarray(Image.fromarray(rgb).transpose(method))


def _to_rgb8(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in ("RGB", "L", "P", "RGBA", "LA", "PA", "CMYK", "YCbCr", "1", "LAB", "HSV", "La", "RGBa"):
        if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
        return np.asarray(image.convert("RGB"))
    # 16-bit or 32-bit integer / float single-channel modes ("I;16", "I", "F", ...)
    return _grey_to_rgb8(np.asarray(image))


def _grey_to_rgb8(array: np.ndarray) -> np.ndarray:
    scaled = scale_to_uint8(array)
    if scaled.ndim == 2:
        scaled = np.repeat(scaled[:, :, None], 3, axis=2)
    return np.ascontiguousarray(scaled)


def check_image_size(path: str | Path, width: int, height: int, source: str | Path) -> None:
    """Refuse an annotation whose stated image size differs from the image file.

    Does nothing when the file is absent (annotations can be converted without
    their images). Raises :class:`FormatError` naming ``source`` otherwise.
    """
    path = Path(path)
    if not path.is_file():
        return
    actual = read_image_size(path)
    if actual != (int(width), int(height)):
        rotated = actual == (int(height), int(width)) and _stored_rotated(path)
        hint = (" as shown: its EXIF orientation tag turns it by 90 degrees, and the annotations were made on "
                "the stored, unturned picture") if rotated else ""
        raise FormatError(
            source,
            f"says {path.name} is {width}x{height} but the image file is {actual[0]}x{actual[1]}{hint}",
        )


def _stored_rotated(path: Path) -> bool:
    """Whether ``path`` carries an EXIF orientation that swaps its width and height when shown."""
    with _open(path) as image:
        return _orientation(image) in _SWAPPING_ORIENTATIONS
