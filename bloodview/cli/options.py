"""Command-line options shared by several commands."""

from __future__ import annotations

import argparse


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
