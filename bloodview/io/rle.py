"""COCO run-length encoded (RLE) masks via the pycocotools mask API.

COCO stores a mask as ``{"size": [height, width], "counts": ...}`` where the
runs go down the columns (Fortran order) starting with a run of zeros; ``counts``
is a list of ints ("uncompressed", used for crowd regions in ground truth) or a
string ("compressed", used by result files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_api

from bloodview.errors import FormatError


def rle_to_mask(rle: Any, height: int, width: int, source: str | Path, where: str) -> np.ndarray:
    """Decode an RLE dict to a bool ``(height, width)`` mask (checking its size)."""
    if not isinstance(rle, dict) or "counts" not in rle or "size" not in rle:
        raise FormatError(source, f"{where}: RLE segmentation needs 'size' and 'counts'")
    size = rle["size"]
    if not isinstance(size, list) or size != [height, width] or any(isinstance(s, bool) for s in size):
        raise FormatError(
            source, f"{where}: RLE size {size} does not match the {width}x{height} image ([height, width] expected)"
        )
    counts = rle["counts"]
    try:
        if isinstance(counts, list):
            if sum(int(c) for c in counts) != height * width:
                raise ValueError("run lengths do not add up to height x width")
            encoded = mask_api.frPyObjects(rle, height, width)
        elif isinstance(counts, str):
            encoded = {"size": [height, width], "counts": counts.encode("ascii")}
        else:
            raise ValueError("'counts' must be a list of ints or a string")
        mask = mask_api.decode(encoded)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise FormatError(source, f"{where}: RLE segmentation cannot be decoded ({exc})") from exc
    return np.asarray(mask, dtype=bool).reshape(height, width)


def mask_to_rle(mask: np.ndarray) -> dict[str, Any]:
    """Compressed RLE with ``counts`` as an ASCII string (JSON-ready)."""
    encoded = mask_api.encode(np.asfortranarray(np.asarray(mask, dtype=np.uint8)))
    return {"size": [int(s) for s in encoded["size"]], "counts": encoded["counts"].decode("ascii")}


def mask_to_uncompressed_rle(mask: np.ndarray) -> dict[str, Any]:
    """Uncompressed RLE (``counts`` a list of run lengths), as COCO writes crowd regions."""
    flat = np.asarray(mask, dtype=bool).flatten(order="F")
    changes = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        runs = [0, *runs]
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": [int(r) for r in runs]}
