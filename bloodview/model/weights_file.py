"""Half-precision copies and averages of Keras weights files, for shipping a model.

The default model must stay under 30 MB in git; its float32 weights are ~33 MB.
Keras 3 ``load_weights`` casts each stored array to its variable's dtype, so a
``.weights.h5`` whose float32 arrays are stored as float16 (gzip-compressed) loads
into the unchanged float32 network. Rounding to float16 changes weights by about
1e-3 relative; ``tests/model/test_weights_file.py`` checks that detections stay the same.

:func:`write_average_weights` averages the weights of several epochs of one low-learning-rate
run (stochastic weight averaging, Izmailov et al. 2018): a flatter, less epoch-dependent
optimum than any single epoch's weights; with ``shares`` it blends a fine-tuned model with the
model it started from (WiSE-FT, Wortsman et al. 2022; :mod:`bloodview.model.blend`). BatchNorm
moving statistics are averaged too, which is sound for nearby weights of one run or of a
fine-tune and its start (not for unrelated models).
Only h5py (a Keras dependency) is needed here, no TensorFlow.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from bloodview.errors import ModelError


def _copy_group(source: h5py.Group, target: h5py.Group, skip: tuple[str, ...] = ()) -> None:
    for key, value in source.attrs.items():
        target.attrs[key] = value
    for name, item in source.items():
        if name in skip:
            continue
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


def write_float16_weights(source: str | Path, target: str | Path, drop_optimizer: bool = False) -> Path:
    """Copy a Keras ``.weights.h5`` to ``target`` with float32 arrays stored as float16.

    ``drop_optimizer`` leaves out the optimizer's state that Keras saves with a compiled
    network (Adam's two moments: twice the weights' size), which prediction never reads
    and fine-tuning starts afresh. Written to a temporary file beside ``target`` and renamed, so a failure never
    leaves a half-written weights file behind.
    """
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise ModelError(f"{source}: weights file not found")
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        with h5py.File(source, "r") as src, h5py.File(temporary, "w") as dst:
            _copy_group(src, dst, skip=("optimizer",) if drop_optimizer else ())
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ModelError(f"{source}: cannot be copied as float16 weights ({exc})") from exc
    return target


def write_average_weights(
    sources: list[str | Path], target: str | Path, shares: list[float] | None = None, skip: tuple[str, ...] = ()
) -> Path:
    """Write the element-wise (weighted) mean of the float arrays of same-shaped Keras ``.weights.h5`` files.

    ``shares`` (one per source, summing to 1; default equal) weight the mean. The layout,
    dtypes, non-float arrays (counters) and attributes come from the first file, less the
    groups named in ``skip`` (e.g. ``"optimizer"``: Adam's state, which a shipped file lacks).
    Files of different networks (other layers or shapes) are a :class:`ModelError`.
    """
    paths = [Path(s) for s in sources]
    if len(paths) < 2:
        raise ModelError("averaging needs at least two weights files")
    shares = [1.0 / len(paths)] * len(paths) if shares is None else [float(v) for v in shares]
    if len(shares) != len(paths) or min(shares) < 0 or abs(sum(shares) - 1.0) > 1e-6:
        raise ValueError(f"shares must be one non-negative number per file, summing to 1 (got {shares})")
    for path in paths:
        if not path.is_file():
            raise ModelError(f"{path}: weights file not found")
    target = Path(target)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        files = [h5py.File(path, "r") for path in paths]
        try:
            with h5py.File(temporary, "w") as dst:
                _average_group(files, dst, paths, shares, skip)
        finally:
            for handle in files:
                handle.close()
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ModelError(f"cannot average {', '.join(map(str, paths))} ({exc})") from exc
    except ModelError:
        temporary.unlink(missing_ok=True)
        raise
    return target


def _average_group(
    sources: list[h5py.Group], target: h5py.Group, paths: list[Path], shares: list[float], skip: tuple[str, ...]
) -> None:
    first = sources[0]
    for key, value in first.attrs.items():
        target.attrs[key] = value
    for name, item in first.items():
        if name in skip:
            continue
        others = [source.get(name) for source in sources[1:]]
        if isinstance(item, h5py.Dataset):
            data = item[()]
            if isinstance(data, np.ndarray) and data.dtype.kind == "f":
                for other, path in zip(others, paths[1:]):
                    if not isinstance(other, h5py.Dataset) or other.shape != data.shape:
                        raise ModelError(f"{path}: not the same network as {paths[0]} (at {item.name})")
                total = data.astype(np.float64) * shares[0]
                for other, share in zip(others, shares[1:]):
                    total += other[()].astype(np.float64) * share
                data = total.astype(item.dtype)
            dataset = target.create_dataset(name, data=data)
            for key, attr in item.attrs.items():
                dataset.attrs[key] = attr
        else:
            for other, path in zip(others, paths[1:]):
                if not isinstance(other, h5py.Group):
                    raise ModelError(f"{path}: not the same network as {paths[0]} (at {item.name})")
            _average_group([item] + others, target.create_group(name), paths, shares, skip)
