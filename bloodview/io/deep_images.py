"""Colour images with more than 8 bits per sample (16-bit TIFF/PNG from scientific cameras).

Why this exists: Pillow opens a 16-bit RGB or RGBA TIFF or PNG in its 8-bit ``RGB`` mode by
keeping each sample's *high byte*. A 12-bit camera saving 16-bit TIFFs (values 0..4095) then
loads as values 0..15: nearly black. Such files are decoded here at full depth with OpenCV
(``IMREAD_UNCHANGED``) *as stored*, the caller applying the EXIF turn the same way for every
format, and brought to ``uint8`` by :func:`scale_to_uint8`. (OpenCV's TIFF reader turns an
image by its Orientation tag whatever the flags say, and its PNG reader does not: a TIFF is
decoded from a copy whose tag says "as stored", so the picture is turned exactly once.)
Grey 16-bit files are not routed here: Pillow keeps their full depth (mode ``I;16``) and
:func:`scale_to_uint8` scales them the same way.
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from bloodview.errors import ImageError

CAMERA_BIT_DEPTHS = (8, 10, 12, 14, 16)
"""Sample depths cameras record; the smallest that holds an image's largest value is its depth."""

_TIFF_BITS_PER_SAMPLE = 258
_TIFF_ORIENTATION = 274
_TIFF_SHORT = 3
_PNG_COLOUR_TYPES = {2, 4, 6}  # RGB, grey + alpha, RGBA (0 is plain grey, kept deep by Pillow)
_PILLOW_DEEP_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def is_deep_colour(path: Path, image: Image.Image) -> bool:
    """Whether Pillow would cut ``image`` (opened from ``path``) to 8 bits per sample.

    True for TIFFs whose BitsPerSample exceeds 8 and PNGs of bit depth 16 with colour or alpha,
    when Pillow reports an 8-bit mode. Reads the header only.
    """
    if image.mode in _PILLOW_DEEP_MODES:
        return False
    if image.format == "TIFF":
        bits = image.tag_v2.get(_TIFF_BITS_PER_SAMPLE, 8)
        bits = bits if isinstance(bits, tuple) else (bits,)
        return max(int(b) for b in bits) > 8
    if image.format == "PNG":
        with path.open("rb") as file:
            header = file.read(26)  # signature 8, chunk length 4, "IHDR" 4, width 4, height 4, depth, type
        return len(header) == 26 and header[24] == 16 and header[25] in _PNG_COLOUR_TYPES
    return False


def decode_deep_colour(path: Path, size: tuple[int, int], page: int = 0) -> np.ndarray:
    """Decode ``path`` at full depth to ``uint8`` RGB ``(H, W, 3)``, as *stored* (no EXIF turn).

    ``size``: ``(width, height)`` from the header, already checked against the pixel limit;
    the decoded array must match it. ``page``: which page of a multi-page TIFF (0: the first).
    Alpha is composited on white, as for 8-bit images.
    Raises :class:`ImageError` when OpenCV cannot decode the file.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)  # not cv2.imread: it fails on non-ASCII paths on Windows
        if page == 0:
            array = cv2.imdecode(_as_stored(data), cv2.IMREAD_UNCHANGED)
        else:  # a later page (the first is a thumbnail); its Orientation tag is not patched
            ok, pages = cv2.imdecodemulti(data, cv2.IMREAD_UNCHANGED, None, (page, page + 1))
            array = pages[0] if ok and pages else None
    except (OSError, cv2.error) as exc:
        raise ImageError(path, f"image is corrupt or truncated ({exc})") from exc
    if array is None or array.shape[1::-1] != tuple(size):
        raise ImageError(path, "image is corrupt or truncated (its 16-bit samples could not be decoded)")
    if array.ndim == 2:
        array = array[:, :, None]
    channels = array.shape[2]
    colour = array[:, :, :1].repeat(3, axis=2) if channels <= 2 else array[:, :, 2::-1]
    alpha = array[:, :, -1] if channels in (2, 4) else None
    rgb = scale_to_uint8(colour).astype(np.float32)
    if alpha is not None:
        top = float(np.iinfo(alpha.dtype).max) if np.issubdtype(alpha.dtype, np.integer) else 1.0
        opacity = np.clip(alpha.astype(np.float32) / top, 0.0, 1.0)[:, :, None]
        rgb = rgb * opacity + 255.0 * (1.0 - opacity)
    return np.ascontiguousarray(np.round(rgb).astype(np.uint8))


def _as_stored(data: np.ndarray) -> np.ndarray:
    """A TIFF's bytes with its first directory's Orientation tag set to 1 ("as stored"); other
    files unchanged. Classic and BigTIFF, either byte order; a file it cannot follow is left as is
    (the decoded size is checked afterwards)."""
    head = data[:16].tobytes()
    order = {b"II": "<", b"MM": ">"}.get(head[:2])
    if order is None or len(head) < 16:
        return data
    magic = struct.unpack(order + "H", head[2:4])[0]
    if magic == 42:
        count_format, entry_size, directory = "H", 12, struct.unpack(order + "I", head[4:8])[0]
    elif magic == 43:
        count_format, entry_size, directory = "Q", 20, struct.unpack(order + "Q", head[8:16])[0]
    else:
        return data
    count_size = struct.calcsize(count_format)
    if directory + count_size > data.size:
        return data
    count = struct.unpack(order + count_format, data[directory:directory + count_size].tobytes())[0]
    for index in range(count):
        at = directory + count_size + index * entry_size
        if at + entry_size > data.size:
            return data
        tag, kind = struct.unpack(order + "HH", data[at:at + 4].tobytes())
        if tag == _TIFF_ORIENTATION and kind == _TIFF_SHORT:
            value_at = at + entry_size - (4 if magic == 42 else 8)
            patched = data.copy()
            patched[value_at:value_at + 2] = np.frombuffer(struct.pack(order + "H", 1), np.uint8)
            return patched
    return data


def scale_to_uint8(array: np.ndarray) -> np.ndarray:
    """Samples of any depth to ``uint8``, one factor for the whole image (no offset).

    Integers are scaled by the camera's bit depth, inferred from the largest value: the smallest
    of :data:`CAMERA_BIT_DEPTHS` that holds it, and ``255 / (2**depth - 1)``. A 12-bit camera's
    0..4095 become 0..255; a full-range 16-bit file is scaled by ``255 / 65535`` as before.
    Why the depth rather than the image's own maximum or a percentile: one factor per camera keeps
    a series of frames as bright, relative to one another, as they were exposed; a hot pixel cannot
    darken the rest (a sensor's values stop at its depth); and a factor with no offset keeps the
    ratios to the glass that optical density (red-cell finder, pixel-size estimate) is computed
    from. Only a frame under a quarter of its camera's range is brightened (read as the next depth
    down), never darkened. Floats in ``[0, 1]`` are scaled by 255; other float ranges are
    stretched min..max.
    """
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        finite = np.nan_to_num(array.astype(np.float64))
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if low >= 0.0 and high <= 1.0:
            return np.round(finite * 255).astype(np.uint8)
        span = high - low or 1.0
        return np.round((finite - low) / span * 255).astype(np.uint8)
    largest = int(array.max()) if array.size else 0
    depth = next((bits for bits in CAMERA_BIT_DEPTHS if largest < 2**bits), CAMERA_BIT_DEPTHS[-1])
    scaled = array.astype(np.float32) * np.float32(255.0 / (2**depth - 1))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
