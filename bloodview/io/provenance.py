"""The ``"bloodview"`` record that keeps an instance's provenance in foreign formats.

COCO and LabelMe readers of other tools ignore unknown keys, so each exported
cell carries ``{"id", "source", "reviewed", "score", "quality", "origin",
"corrected", "box_only"}`` (plus ``"extra"`` when non-empty). Reading it back
restores the :class:`Instance` exactly; a file without it gives a human,
unreviewed instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bloodview.core.instance import Instance, Source
from bloodview.errors import FormatError


def instance_record(instance: Instance) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": instance.id,
        "source": instance.source.value,
        "reviewed": instance.reviewed,
        "score": instance.score,
        "quality": instance.quality,
        "origin": instance.origin,
        "corrected": instance.corrected,
        "box_only": instance.box_only,
    }
    if instance.extra:
        record["extra"] = instance.extra
    return record


def make_instance(
    polygons: list[np.ndarray],
    class_name: str,
    record: Any,
    source_file: str | Path,
    score: float | None = None,
    box_only: bool = False,
) -> Instance:
    """An :class:`Instance` from outlines plus an optional ``"bloodview"`` record."""
    if record is None:
        return Instance(polygons, class_name, score=score, box_only=box_only)
    if not isinstance(record, dict):
        raise FormatError(source_file, f"the 'bloodview' field must be an object, got {record!r}")
    try:
        source = Source(record.get("source", Source.HUMAN.value))
    except ValueError as exc:
        raise FormatError(source_file, f"unknown instance source {record.get('source')!r}") from exc
    values: dict[str, Any] = {
        "score": record.get("score", score),
        "source": source,
        "reviewed": bool(record.get("reviewed", False)),
        "box_only": bool(record.get("box_only", box_only)),
        "quality": record.get("quality"),
        "origin": record.get("origin"),
        "corrected": bool(record.get("corrected", False)),
        "extra": dict(record.get("extra") or {}),
    }
    if record.get("id"):
        values["id"] = str(record["id"])
    return Instance(polygons, class_name, **values)
