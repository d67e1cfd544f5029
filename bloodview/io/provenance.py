"""The ``"bloodview"`` records that keep provenance in foreign formats.

Per cell, :func:`instance_record` gives ``{"id", "source", "reviewed", "score",
"quality", "origin", "corrected", "box_only"}`` (plus ``"extra"`` when non-empty:
who/when of a review, the model's class before a correction, ...); reading it
back with :func:`make_instance` restores the :class:`Instance` exactly.

Per image, :func:`image_record` gives the sign-off (``signed_off`` and its
``sign_off_history``: who signed off or withdrew, under which login, and when), ``image_label``,
``split`` and ``pixel_size`` (``{"um_per_pixel", "source", "cells_measured"}``)
when set; :func:`apply_image_record` puts them back.

A cell without a record (a file written by another tool, or a format that has
no room for one) is an *unreviewed import*: ``source="import"``, not reviewed,
never taken as checked by a person. :func:`mark_imports_reviewed` is the
explicit way to vouch for such cells (``bloodview convert --reviewed``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bloodview.core.annotation import Dataset, ImageAnnotation, SignOffEvent
from bloodview.core.instance import Instance, Source, new_instance_id
from bloodview.core.measure import PixelSize
from bloodview.errors import FormatError

log = logging.getLogger(__name__)

RECORD_KEY = "bloodview"


# --- cells ------------------------------------------------------------------
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


def imported_instance(
    polygons: list[np.ndarray], class_name: str, score: float | None = None, box_only: bool = False,
    extra: dict[str, Any] | None = None,
) -> Instance:
    """A cell from a file that does not say who made it: an unreviewed import."""
    return Instance(polygons, class_name, score=score, source=Source.IMPORT, box_only=box_only,
                    extra=dict(extra or {}))


def make_instance(
    polygons: list[np.ndarray],
    class_name: str,
    record: Any,
    source_file: str | Path,
    score: float | None = None,
    box_only: bool = False,
) -> Instance:
    """An :class:`Instance` from outlines plus an optional ``"bloodview"`` record.

    Without a record the cell is an unreviewed import; a record that is not an
    object or names an unknown source, or no outline at all, raises :class:`FormatError`.
    """
    if not polygons:
        raise FormatError(source_file, f"a {class_name!r} cell has no outline")
    if record is None:
        return imported_instance(polygons, class_name, score=score, box_only=box_only)
    if not isinstance(record, dict):
        raise FormatError(source_file, f"the 'bloodview' field must be an object, got {record!r}")
    try:
        source = Source(record.get("source", Source.IMPORT.value))
    except (ValueError, TypeError) as exc:
        raise FormatError(source_file, f"unknown instance source {record.get('source')!r:.60}") from exc
    try:
        values: dict[str, Any] = {
            "score": _optional_number(record.get("score", score), "score"),
            "source": source,
            "reviewed": bool(record.get("reviewed", False)),
            "box_only": bool(record.get("box_only", box_only)),
            "quality": _optional_number(record.get("quality"), "quality"),
            "origin": record.get("origin"),
            "corrected": bool(record.get("corrected", False)),
            "extra": dict(record.get("extra") or {}),
        }
        if record.get("id"):
            values["id"] = str(record["id"])
        return Instance(polygons, class_name, **values)
    except (TypeError, ValueError) as exc:
        raise FormatError(source_file, f"a cell's 'bloodview' record is damaged ({str(exc)[:120]})") from exc


def _optional_number(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(float(value)):
        raise ValueError(f"{what} must be a finite number or null, got {value!r:.40}")
    return float(value)


def mark_imports_reviewed(dataset: Dataset) -> int:
    """Mark every unreviewed import (``source="import"``) as reviewed; return how many.

    For annotations the user vouches for (another lab's checked ground truth):
    only then do imported cells count as checked and go into retraining. Cells
    whose file recorded their provenance keep it.
    """
    marked = 0
    for image in dataset.images:
        for instance in image.instances:
            if instance.source == Source.IMPORT and not instance.reviewed:
                instance.reviewed = True
                marked += 1
    return marked


# --- images -----------------------------------------------------------------
def image_record(image: ImageAnnotation) -> dict[str, Any]:
    """The image's sign-off, label and split; only what is set (``{}`` for a plain image)."""
    record: dict[str, Any] = {}
    if image.image_label:
        record["image_label"] = image.image_label
    if image.split:
        record["split"] = image.split
    if image.signed_off:
        record["signed_off"] = True
    if image.sign_off_history:
        record["sign_off_history"] = [event.to_dict() for event in image.sign_off_history]
    if image.pixel_size is not None:
        record["pixel_size"] = image.pixel_size.to_dict()
    return record


def read_pixel_size(value: Any, source_file: str | Path, where: str) -> PixelSize | None:
    """A stored ``pixel_size`` record; a damaged one loses only the scale (with a warning)."""
    if value is None:
        return None
    try:
        return PixelSize.from_dict(value)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("%s: %s: unreadable pixel size %r (%s); the scale will be estimated again",
                    source_file, where, value, exc)
        return None


def apply_image_record(image: ImageAnnotation, record: Any, source_file: str | Path) -> None:
    """Put an :func:`image_record` back on ``image`` (``None``: nothing to do).

    A sign-off only stands while every imported cell of the image was checked: a cell
    added by another tool (no record: an unchecked import) was not there when the image
    was approved, so the sign-off is dropped (with a warning) rather than extended to it.
    An import a person vouched for (``convert --reviewed``, then signed off in the app)
    carries ``reviewed`` in its record and keeps the sign-off.
    """
    if record is None:
        return
    if not isinstance(record, dict):
        raise FormatError(source_file, f"{image.image_path.as_posix()}: the 'bloodview' image record must be "
                                       f"an object, got {record!r}")
    if record.get("image_label"):
        image.image_label = str(record["image_label"])
    if record.get("split"):
        image.split = str(record["split"])
    image.pixel_size = read_pixel_size(record.get("pixel_size"), source_file, image.image_path.as_posix())
    try:
        image.sign_off_history = [SignOffEvent.from_dict(e) for e in record.get("sign_off_history") or []]
    except (KeyError, TypeError, AttributeError) as exc:
        raise FormatError(source_file, f"{image.image_path.as_posix()}: damaged sign-off history ({exc})") from exc
    image.signed_off = bool(record.get("signed_off", False))
    if image.signed_off and any(i.source == Source.IMPORT and not (i.reviewed or i.corrected) for i in image.instances):
        log.warning("%s: %s was signed off, but holds cells added without bloodview's record since; "
                    "its sign-off is withdrawn until a person checks them", source_file, image.image_path)
        image.signed_off = False


def encode_record(record: dict[str, Any]) -> str:
    """A record as compact JSON text, for formats whose attributes are strings (VIA)."""
    return json.dumps(record, separators=(",", ":"), sort_keys=True)


def decode_record(value: Any, source_file: str | Path, where: str) -> dict[str, Any] | None:
    """A record stored as JSON text or as an object; ``None`` (with a warning) when unreadable.

    An unreadable record loses only the provenance: the cell comes back as an
    unreviewed import, its outline and class intact.
    """
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            decoded = None
        if isinstance(decoded, dict):
            return decoded
    log.warning("%s: %s: unreadable 'bloodview' record %r; read as an unreviewed import",
                source_file, where, str(value)[:80])
    return None


def merge_parts(instances: Sequence[Instance]) -> list[Instance]:
    """Join cells that share an id into one multi-part cell (formats that split parts: VIA)."""
    by_id: dict[str, Instance] = {}
    merged: list[Instance] = []
    for instance in instances:
        first = by_id.get(instance.id) if instance.source != Source.IMPORT else None
        if first is not None and first.class_name == instance.class_name:
            first.polygons.extend(instance.polygons)
            continue
        if first is not None:  # a part relabelled in another tool: a cell of its own
            instance.id = new_instance_id()
        by_id.setdefault(instance.id, instance)
        merged.append(instance)
    return merged
