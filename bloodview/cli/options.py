"""Command-line options shared by several commands."""

from __future__ import annotations

import argparse
from pathlib import Path


def pixel_size_arg(text: str) -> float | str:
    """``--pixel-size``: a positive number of µm per pixel, or ``auto`` (estimate from the red cells)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected µm per pixel (e.g. 0.109) or 'auto', got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"a pixel size must be a positive number of µm per pixel, got {text!r}")
    return value


def positive_int_arg(text: str) -> int:
    """A count such as ``--batch-size``: a whole number of at least 1 (a negative one used to
    read no image at all and report them all unreadable)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def finite_float_arg(text: str) -> float:
    """A threshold such as ``--min-score``: a finite number (``nan`` compared false with every
    score, so the threshold was silently ignored)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def add_pixel_size_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--pixel-size", type=pixel_size_arg, metavar="UM", default=None, help=help_text)


def given_pixel_size(value: float | str | None) -> float | None:
    """The number to pass on: ``None`` for ``auto`` or absent (each image measured)."""
    return None if value in (None, "auto") else float(value)


def add_device_option(parser: argparse.ArgumentParser, work: str) -> None:
    """``--device auto|cpu|gpu`` (see :mod:`bloodview.model.devices`)."""
    parser.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto",
                        help=f"where {work} runs: auto (the GPU(s) when TensorFlow sees any, else the CPU; "
                             "default), gpu (stop with a message when there is none) or cpu")


def check_output_file(path: Path, option: str = "--out") -> None:
    """Refuse, before any work, an output file that could not be written at the end.

    ``predict`` and ``bootstrap`` write their one file after minutes or hours of work; a
    missing folder, a folder given as the file, or a folder that takes no files (a read-only
    disk, no permission, no room for one more file) used to be found only then, with the
    work lost. The last is tried with an empty temporary file, removed at once.
    """
    import os
    import tempfile

    from bloodview.cli.run_errors import OutputError

    if path.is_dir():
        raise OutputError(path, f"is a folder; give {option} a file name (e.g. {path / 'cells.json'})")
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(path, f"cannot be written: its folder {folder} does not exist")
    try:
        handle, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(path, f"cannot be written: its folder {folder} takes no new file "
                                f"({exc.strerror or exc})") from None
    os.close(handle)
    os.unlink(probe)
