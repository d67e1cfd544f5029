"""Parsing the ``bloodview train --progress jsonl`` lines (pure, Qt-free).

One JSON object per stdout line (see notes/MODEL_CONTRACT.md): ``start``, ``step``,
``epoch``, ``done``, ``error``. Anything else on stdout (a stray print from a
library) is not an error: :func:`parse_progress_line` returns ``None`` for it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

EVENTS = ("start", "step", "epoch", "done", "error")


@dataclass
class ProgressEvent:
    """One line from the trainer. Epoch numbers are 1-based; ``eta_s`` in seconds."""

    event: str
    epoch: int | None = None
    epochs: int | None = None
    step: int | None = None
    steps: int | None = None
    losses: dict[str, float] = field(default_factory=dict)
    val_losses: dict[str, float] | None = None
    eta_s: float | None = None
    images_per_s: float | None = None
    model_dir: str | None = None
    message: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def fraction(self) -> float | None:
        """Done fraction 0..1 of the whole run, when the line says enough."""
        if not self.epochs or self.epoch is None:
            return None
        if self.event == "step" and self.steps:
            return min(1.0, ((self.epoch - 1) + (self.step or 0) / self.steps) / self.epochs)
        if self.event == "epoch":
            return min(1.0, self.epoch / self.epochs)
        return None


def _floats(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    out = {}
    for key, number in value.items():
        try:
            number = float(number)
        except (TypeError, ValueError):
            continue
        out[str(key)] = number
    return out


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def parse_progress_line(line: str | bytes) -> ProgressEvent | None:
    """One line -> event, or ``None`` when it is not a trainer progress line."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or obj.get("event") not in EVENTS:
        return None
    val = obj.get("val_losses")
    return ProgressEvent(
        event=obj["event"],
        epoch=_int(obj.get("epoch")),
        epochs=_int(obj.get("epochs")),
        step=_int(obj.get("step")),
        steps=_int(obj.get("steps")),
        losses=_floats(obj.get("losses") or obj.get("final_losses")),
        val_losses=_floats(val) if isinstance(val, dict) else None,
        eta_s=_number(obj.get("eta_s")),
        images_per_s=_number(obj.get("images_per_s")),
        model_dir=obj.get("model_dir"),
        message=obj.get("message"),
        raw=obj,
    )


class LineBuffer:
    """Splits a byte stream into lines; keeps a partial last line for the next chunk."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[str]:
        data = self._pending + bytes(chunk)
        *lines, self._pending = data.split(b"\n")
        return [ln.decode("utf-8", errors="replace") for ln in lines]

    def flush(self) -> list[str]:
        rest, self._pending = self._pending, b""
        return [rest.decode("utf-8", errors="replace")] if rest.strip() else []


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
