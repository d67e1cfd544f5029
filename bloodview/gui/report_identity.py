"""What identifies a printed differential report: which project, which images, when, by what.

A lab files the printout and may read it again months later, or find one page apart from the
others: the report must say the folder it counts, whether it is the whole project or one image,
when it was made (UTC, like the sign-offs), the software version, the model(s) whose calls it
counts and the scale (µm per pixel) the cells were measured at. :func:`report_id` is the short
form printed in every PDF page's footer. Qt-free.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path

from bloodview import __version__
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.instance import Source


def utc_text(moment: _dt.datetime) -> str:
    """``"2026-12-07 18:45 UTC"`` (a naive time is taken as local time)."""
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def project_folder(dataset: Dataset, images: Sequence[ImageAnnotation]) -> str:
    """The folder the report counts: the data set's root, else the first image's folder, else ``""``."""
    if dataset.root is not None:
        return str(dataset.root)
    for image in images:
        if image.image_path.is_absolute():
            return str(image.image_path.parent)
    return ""


def scope_text(dataset: Dataset, images: Sequence[ImageAnnotation]) -> str:
    """Whole project or which images: ``"whole project, 40 image(s)"``, ``"1 of 40 image(s): a.png"``."""
    if len(images) == len(dataset.images) and all(a is b for a, b in zip(images, dataset.images)):
        return f"whole project, {len(images)} image(s)"
    names = ", ".join(Path(i.image_path).name for i in images[:3]) + (" …" if len(images) > 3 else "")
    return f"{len(images)} of {len(dataset.images)} image(s): {names}"


def models_text(images: Sequence[ImageAnnotation], selected: str | None) -> str:
    """The models whose calls are counted (from each cell's record), and the one selected in the app
    where it is not one of them (the selector may have been changed after detection)."""
    origins = sorted({c.origin or "a model not recorded" for i in images for c in i.instances if c.source == Source.MODEL})
    made = f"calls made by {', '.join(origins)}" if origins else "no model calls counted"
    return f"{made}; selected in the app: {selected}" if selected and selected not in origins else made


def scale_text(images: Sequence[ImageAnnotation]) -> str:
    """The pixel sizes the images were measured at: one value, a range, or "not set"."""
    sizes = [i.pixel_size_um for i in images]
    known = sorted({round(s, 4) for s in sizes if s is not None})
    unknown = sum(s is None for s in sizes)
    if not known:
        return "not set (no cell sizes in µm)"
    shown = f"{known[0]:g} µm/pixel" if len(known) == 1 else f"{known[0]:g}–{known[-1]:g} µm/pixel ({len(known)} values)"
    return shown + (f"; not set for {unknown} image(s)" if unknown else "")


def identity_rows(dataset: Dataset, images: Sequence[ImageAnnotation], model_name: str | None,
                  generated: _dt.datetime) -> list[tuple[str, str]]:
    """``(label, value)`` rows of the report's identification table."""
    return [
        ("Project folder", project_folder(dataset, images) or "not recorded"),
        ("Images reported", scope_text(dataset, images)),
        ("Report made", f"{utc_text(generated)} by bloodview {__version__}"),
        ("Model", models_text(images, model_name)),
        ("Scale", scale_text(images)),
    ]


def report_id(dataset: Dataset, images: Sequence[ImageAnnotation], generated: _dt.datetime) -> str:
    """The footer's short identity (the folder's name; the full path is in the table on page 1):
    ``"smears · whole project, 40 image(s) · 2026-12-07 18:45 UTC"``."""
    folder = project_folder(dataset, images)
    parts = (Path(folder).name if folder else "", scope_text(dataset, images), utc_text(generated))
    return " · ".join(part for part in parts if part)
