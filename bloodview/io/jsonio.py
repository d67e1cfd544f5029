"""Reading JSON annotation files with errors a person can act on."""

from __future__ import annotations

import codecs
import json
import math
from pathlib import Path
from typing import Any

from bloodview.errors import FormatError


# Byte-order marks of the UTF-16/32 text Windows tools write, longest first (UTF-32 LE starts as UTF-16 LE).
_WIDE_MARKS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
               (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def read_text(path: str | Path, what: str = "annotation file") -> str:
    """The text of ``path``: UTF-8 (a BOM is tolerated), or UTF-16/32 when it starts with their BOM.

    Why UTF-16: on a Windows PC, Notepad's "Unicode" and Windows PowerShell's ``>`` and
    ``Out-File`` save text as UTF-16 with a BOM, so a file a technician fixed there was
    "not a UTF-8 text file". Raises :class:`FormatError` naming the file for a
    missing/unreadable file and for bytes that are not UTF-8 (with the offset of the
    first bad byte).
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
    encoding = next((name for mark, name in _WIDE_MARKS if data.startswith(mark)), "utf-8-sig")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8-sig":
            raise FormatError(path, f"is not a readable {encoding.upper()} text file "
                                    f"(byte {exc.start} is invalid)") from exc
        raise FormatError(path, f"is not a UTF-8 text file (byte {exc.start} is invalid)") from exc


def read_json(path: str | Path, what: str = "annotation file") -> Any:
    """Parse ``path`` as JSON text (see :func:`read_text`: UTF-8, a BOM tolerated, or UTF-16/32 with a BOM).

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
