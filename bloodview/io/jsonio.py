"""Reading JSON annotation files with errors a person can act on."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bloodview.errors import FormatError


def read_text(path: str | Path, what: str = "annotation file") -> str:
    """The UTF-8 text of ``path`` (a BOM is tolerated).

    Raises :class:`FormatError` naming the file for a missing/unreadable file
    and for bytes that are not UTF-8 (with the offset of the first bad byte).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise FormatError(path, f"{what} not found") from exc
    except IsADirectoryError as exc:
        raise FormatError(path, f"is a folder, not a {what}") from exc
    except PermissionError as exc:
        raise FormatError(path, f"{what} cannot be read (permission denied)") from exc
    except OSError as exc:
        raise FormatError(path, f"{what} cannot be read ({exc.strerror or exc})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(path, f"is not a UTF-8 text file (byte {exc.start} is invalid)") from exc


def read_json(path: str | Path, what: str = "annotation file") -> Any:
    """Parse ``path`` as UTF-8 JSON (a BOM is tolerated).

    Raises :class:`FormatError` naming the file for a missing/unreadable file,
    for bytes that are not UTF-8 and for malformed or truncated JSON (with the
    line and column where parsing stopped), numbers too long to read and
    nesting too deep to follow.
    """
    path = Path(path)
    text = read_text(path, what)
    if not text.strip():
        raise FormatError(path, f"{what} is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) else ""
        raise FormatError(
            path, f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}{hint}"
        ) from exc
    except ValueError as exc:  # an integer of more than 4300 digits
        raise FormatError(path, f"is not a usable JSON file ({exc})") from exc
    except RecursionError as exc:
        raise FormatError(path, "is not a usable JSON file (nested too deeply)") from exc


def require(condition: bool, path: str | Path, reason: str) -> None:
    """Raise :class:`FormatError` with ``reason`` unless ``condition`` holds."""
    if not condition:
        raise FormatError(path, reason)


def as_number(value: Any, path: str | Path, what: str) -> float:
    """``value`` as a float, or a FormatError saying which field is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FormatError(path, f"{what} must be a number, got {short(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise FormatError(path, f"{what} is not a finite number ({short(value)})")
    return number


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
