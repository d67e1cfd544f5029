"""Half-precision copies of Keras weights files, for shipping a model small.

The default model must stay under 30 MB in git; its float32 weights are ~33 MB.
Keras 3 ``load_weights`` casts each stored array to its variable's dtype, so a
``.weights.h5`` whose float32 arrays are stored as float16 (gzip-compressed) loads
into the unchanged float32 network. Rounding to float16 changes weights by about
1e-3 relative; ``tests/model/test_weights_file.py`` checks that detections stay the same.
Only h5py (a Keras dependency) is needed here, no TensorFlow.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from bloodview.errors import ModelError


def _copy_group(source: h5py.Group, target: h5py.Group) -> None:
    for key, value in source.attrs.items():
        target.attrs[key] = value
    for name, item in source.items():
        if isinstance(item, h5py.Dataset):
            data = item[()]
            if isinstance(data, np.ndarray) and data.dtype == np.float32:
                data = data.astype(np.float16)
            compress = isinstance(data, np.ndarray) and data.size > 64
            dataset = target.create_dataset(
                name, data=data, compression="gzip" if compress else None,
                compression_opts=9 if compress else None, shuffle=compress,
            )
            for key, attr in item.attrs.items():
                dataset.attrs[key] = attr
        else:
            _copy_group(item, target.create_group(name))


def write_float16_weights(source: str | Path, target: str | Path) -> Path:
    """Copy a Keras ``.weights.h5`` to ``target`` with float32 arrays stored as float16.

    Written to a temporary file beside ``target`` and renamed, so a failure never
    leaves a half-written weights file behind.
    """
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise ModelError(f"{source}: weights file not found")
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        with h5py.File(source, "r") as src, h5py.File(temporary, "w") as dst:
            _copy_group(src, dst)
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ModelError(f"{source}: cannot be copied as float16 weights ({exc})") from exc
    return target
