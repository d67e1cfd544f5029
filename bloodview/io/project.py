"""The bloodview project folder: what the GUI opens, autosaves and reopens.

Layout (never a copy of the images)::

    my-project/
      project.json                      schema_version, classes, images, settings
      project.json.bak                  the previous save's project.json
      annotations/<image stem>-<path hash>-<content hash>.json   one file per image: its cells

``project.json``::

    {"schema_version": 1, "bloodview_version": "...", "classes": [...catalogue...],
     "images": [{"path": "../smears/a.jpg", "annotation": "annotations/a-1f2e3d4c-0a1b2c3d4e5f.json"}, ...],
     "settings": {...}}

Image paths are relative to the project folder, and may climb out with ``..``
(labs keep images apart from projects); an image on another drive is stored
absolute. Annotation file names must stay inside ``annotations/``.

Each annotation file holds everything that changes while editing one image::

    {"schema_version": 1, "image": "../smears/a.jpg", "width": W, "height": H,
     "split": null, "image_label": null, "signed_off": false,
     "sign_off_history": [{"signed_off": true, "by": "...", "at": "<ISO time>", "login": "..."}, ...],
     "pixel_size": {"um_per_pixel": 0.109, "source": "red cells", "cells_measured": 41},
     "instances": [{"id", "class", "polygons": [[[x, y], ...], ...], "score", "source",
                    "reviewed", "box_only", "quality", "origin", "corrected", "extra"}]}

One file per image keeps saving cheap (only the images that changed are
written) and limits what a damaged file can take with it. A save is atomic as a
whole: annotation files are named after their content and never overwritten,
and the new ``project.json`` replaces the old one in one rename (see
:func:`save_project`). ``pixel_size`` is absent
while the image's scale is unknown; the project-wide setting
``settings["pixel_size_um"]`` (µm per pixel, ``null`` = estimate per image) is
read with :func:`project_pixel_size`. A project written by a newer
bloodview (higher ``schema_version``) is refused with a :class:`ProjectError`.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bloodview import __version__
from bloodview.core.annotation import Dataset, ImageAnnotation, SignOffEvent
from bloodview.core.classes import ClassCatalogue, shown_name
from bloodview.core.measure import parse_pixel_size
from bloodview.errors import FormatError, ProjectError
from bloodview.io.atomic import (
    BACKUP_SUFFIX,
    atomic_write_bytes,
    atomic_write_json,
    backup_path,
    dumps_json,
    fsync_folder,
    json_number,
)
from bloodview.io.jsonio import read_json
from bloodview.io.outlines import polygon_from_points
from bloodview.io.paths import member_path, portable_name
from bloodview.io.provenance import instance_record, make_instance, read_pixel_size

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
PROJECT_FILE = "project.json"
ANNOTATIONS_DIR = "annotations"
PIXEL_SIZE_SETTING = "pixel_size_um"


@dataclass
class Project:
    """A project folder loaded in memory: its dataset (rooted at the folder) and settings.

    ``warnings``: one sentence each for what :func:`load_project` opened anyway but the user
    should know (a missing annotation file, a class added to the class list); also logged.
    Empty after a save.
    """

    folder: Path
    dataset: Dataset
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def project_file(self) -> Path:
        return self.folder / PROJECT_FILE


def project_pixel_size(settings: dict[str, Any]) -> float | None:
    """The project's pixel size setting in µm (``None``: estimate each image's from its red cells).

    A damaged value is ignored with a warning: the images are then measured.
    """
    try:
        return parse_pixel_size(settings.get(PIXEL_SIZE_SETTING))
    except ValueError as exc:
        log.warning("project setting %s ignored: %s", PIXEL_SIZE_SETTING, exc)
        return None


def is_project(path: str | Path) -> bool:
    path = Path(path)
    return (path / PROJECT_FILE).is_file() or (path.name == PROJECT_FILE and path.is_file())


def annotation_file_name(image_path: Path, content: bytes | None = None) -> str:
    """``annotations/<stem>-<8 hex of the path>[-<12 hex of the content>].json``.

    Unique per image path; with ``content``, also per saved content (what
    :func:`save_project` writes), and the stem made storable on Windows and a share
    (:func:`bloodview.io.paths.portable_name`: an image ``smear 12:30.jpg`` on Linux
    gave a file the project could not be copied to a PC with). Without it, the name
    projects written before content names used, still read when an entry names no file.
    """
    digest = hashlib.sha1(image_path.as_posix().encode("utf-8")).hexdigest()[:8]
    if content is None:
        return f"{ANNOTATIONS_DIR}/{image_path.stem}-{digest}.json"
    return f"{ANNOTATIONS_DIR}/{portable_name(image_path.stem)}-{digest}-{hashlib.sha1(content).hexdigest()[:12]}.json"


def project_image_path(dataset: Dataset, image: ImageAnnotation, folder: Path) -> Path:
    """The image's path relative to the project folder (absolute if on another drive)."""
    source = dataset.resolve_image(image)
    if not source.is_absolute():
        source = source.absolute()
    try:
        return Path(os.path.relpath(source, folder.absolute()))
    except ValueError:
        return source


# --- saving ---------------------------------------------------------------
def save_project(
    dataset: Dataset,
    folder: str | Path,
    settings: dict[str, Any] | None = None,
) -> Project:
    """Write ``dataset`` as a project in ``folder`` (created if needed), atomically as a whole.

    Each image's annotation file is named after its content, so a save writes only
    the images that changed and never overwrites a file the saved ``project.json``
    names. ``project.json`` is replaced last, with one ``os.replace``: a crash at
    any moment leaves either the previous save or this one, never a mix. The
    previous ``project.json`` is kept as ``project.json.bak`` together with every
    file it names; files neither names (older saves, leftovers of a crashed save)
    are removed afterwards.

    Refuses (:class:`ProjectError`) a folder another running bloodview has open
    (see :mod:`bloodview.io.project_lock`). Returns a :class:`Project` wrapping
    the same ``dataset`` object (its root is left as it was; paths are made
    relative to ``folder`` only in the files).
    """
    from bloodview.io.project_lock import check_not_locked

    folder = Path(folder)
    check_not_locked(folder)
    try:
        (folder / ANNOTATIONS_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProjectError(f"{folder}: cannot create the project folder ({exc.strerror or exc})") from exc
    previous = _referenced_files(folder / PROJECT_FILE)
    entries = []
    wrote = False
    for image in dataset.images:
        relative = project_image_path(dataset, image, folder)
        data = annotation_bytes(image, relative)
        annotation = annotation_file_name(relative, data)
        entries.append({"path": relative.as_posix(), "annotation": annotation})
        wrote |= _write_once(folder / annotation, data)
    if wrote:
        fsync_folder(folder / ANNOTATIONS_DIR)  # every file durable before project.json names it
    settings = dict(settings or {})
    atomic_write_json(folder / PROJECT_FILE, {
        "schema_version": SCHEMA_VERSION,
        "bloodview_version": __version__,
        "classes": dataset.classes.to_list(),
        "images": entries,
        "settings": settings,
    })
    if previous is not None:
        _remove_unreferenced(folder, {e["annotation"] for e in entries} | previous)
    return Project(folder, dataset, settings)


def save_image(project: Project, image: ImageAnnotation) -> Path:
    """Save ``project`` after an edit of ``image``; return that image's annotation file.

    Only files whose content changed are written (see :func:`save_project`).
    """
    save_project(project.dataset, project.folder, project.settings)
    relative = project_image_path(project.dataset, image, project.folder)
    return project.folder / annotation_file_name(relative, annotation_bytes(image, relative))


def annotation_bytes(image: ImageAnnotation, relative: Path) -> bytes:
    """An annotation file's content: compact JSON (C-speed; files of 2,720 images are saved often)."""
    return dumps_json(image_record(image, relative), compact=True).encode("utf-8")


def _write_once(path: Path, data: bytes) -> bool:
    """Write a content-named file unless an intact one is there; True when written."""
    try:
        if path.stat().st_size == len(data):
            return False
    except FileNotFoundError:
        pass
    atomic_write_bytes(path, data, backup=False, sync_folder=False)
    return True


def _referenced_files(project_file: Path) -> set[str] | None:
    """The annotation files ``project_file`` names (empty when there is none yet);
    ``None`` when it cannot be read (then nothing is cleaned up)."""
    if not project_file.exists():
        return set()
    try:
        data = read_json(project_file, "project file")
    except FormatError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        return None
    names = set()
    for entry in data["images"]:
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            names.add(str(entry.get("annotation") or annotation_file_name(Path(entry["path"]))))
    return names


def _ours(path: Path) -> bool:
    """Whether ``path`` is an image annotation file a project save wrote: its name starts with
    the stem and path digest of the image it records (see :func:`annotation_file_name`)."""
    try:
        record = read_json(path, "annotation file")
    except FormatError:
        return False
    image = record.get("image") if isinstance(record, dict) else None
    if not isinstance(image, str) or not image:
        return False
    legacy = annotation_file_name(Path(image)).removeprefix(f"{ANNOTATIONS_DIR}/").removesuffix(".json")
    current = annotation_file_name(Path(image), b"").removeprefix(f"{ANNOTATIONS_DIR}/").rsplit("-", 1)[0]
    return path.name.startswith((legacy + ".json", legacy + "-", current + "-"))


def _remove_unreferenced(folder: Path, keep: set[str]) -> None:
    """Remove annotation files no kept ``project.json`` names, older ``.bak`` files and the
    temporary files of saves that were killed. Failures only leave a file behind.

    Only files a project save wrote are removed (:func:`_ours`): a project saved into a
    folder whose ``annotations/`` held the lab's own files (LabelMe JSON beside ``images/``)
    used to delete them."""
    for directory, pattern in ((folder / ANNOTATIONS_DIR, "*"), (folder, f".{PROJECT_FILE}.*.tmp")):
        for path in directory.glob(pattern):
            name = f"{ANNOTATIONS_DIR}/{path.name}" if directory.name == ANNOTATIONS_DIR else path.name
            stale = path.name.endswith(".tmp") or (
                path.name.endswith((".json", ".json" + BACKUP_SUFFIX)) and name not in keep and _ours(path))
            if stale and path.is_file():
                try:
                    path.unlink()
                except OSError as exc:
                    log.warning("%s: left in place (%s)", path, exc.strerror or exc)


def image_record(image: ImageAnnotation, relative: Path) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "image": relative.as_posix(),
        "width": image.width,
        "height": image.height,
        "split": image.split,
        "image_label": image.image_label,
        "signed_off": image.signed_off,
        "sign_off_history": [event.to_dict() for event in image.sign_off_history],
        **({"pixel_size": image.pixel_size.to_dict()} if image.pixel_size is not None else {}),
        "instances": [
            {
                "class": instance.class_name,
                "polygons": [[[json_number(x), json_number(y)] for x, y in p.tolist()] for p in instance.polygons],
                **instance_record(instance),
            }
            for instance in image.instances
        ],
    }


# --- loading --------------------------------------------------------------
def load_project(path: str | Path) -> Project:
    """Open a project folder (or its ``project.json``).

    What can be opened is opened, with a line in :attr:`Project.warnings`: an image whose
    annotation file is gone opens without cells; a cell class the class list lacks (a
    hand-edited or older ``project.json``) is added to it, as an import adds classes, rather
    than locking the user out of the whole project. A damaged ``project.json`` or annotation
    file is refused (:class:`ProjectError`), naming ``project.json.bak`` and how to go back to
    it when there is one.
    """
    path = Path(path)
    folder = path.parent if path.name == PROJECT_FILE and path.is_file() else path
    project_file = folder / PROJECT_FILE
    if not project_file.is_file():
        raise ProjectError(f"{folder}: not a bloodview project (no {PROJECT_FILE})")
    data = _read(project_file)
    version = data.get("schema_version")
    if not isinstance(version, int):
        raise ProjectError(f"{project_file}: has no integer schema_version{_backup_hint(project_file)}")
    if version > SCHEMA_VERSION:
        raise ProjectError(
            f"{project_file}: was written by a newer bloodview (project format {version}, this version "
            f"reads up to {SCHEMA_VERSION}); update bloodview to open it"
        )
    try:
        classes = ClassCatalogue.from_list(data.get("classes") or [])
    except (KeyError, ValueError, TypeError) as exc:
        raise ProjectError(f"{project_file}: the class list is damaged ({exc}){_backup_hint(project_file)}") from exc
    entries = data.get("images") or []
    if not isinstance(entries, list):
        raise ProjectError(f"{project_file}: 'images' must be a list of image entries, not "
                           f"{type(entries).__name__}{_backup_hint(project_file)}")
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        raise ProjectError(f"{project_file}: 'settings' must be an object, not "
                           f"{type(settings).__name__}{_backup_hint(project_file)}")
    warnings: list[str] = []
    images = [_load_image(folder, entry, project_file, classes, warnings) for entry in entries]
    for warning in warnings:
        log.warning("%s", warning)
    return Project(folder, Dataset(images, classes, folder), dict(settings), warnings)


def _load_image(folder: Path, entry: Any, project_file: Path, classes: ClassCatalogue,
                warnings: list[str]) -> ImageAnnotation:
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        raise ProjectError(f"{project_file}: an image entry has no 'path': {entry!r}{_backup_hint(project_file)}")
    image_path = _recorded_image_path(folder, entry["path"])
    try:
        annotation = member_path(entry.get("annotation") or annotation_file_name(image_path), project_file,
                                 "annotation")
    except FormatError as exc:
        raise ProjectError(str(exc)) from exc
    file = folder / annotation
    if not file.is_file():
        if entry.get("annotation"):  # a save names the file it wrote: it was deleted or moved since
            warnings.append(_missing_annotation(project_file, image_path, annotation))
        else:  # a hand-written entry that only lists the image
            log.info("%s: no annotation file yet for %s", project_file, image_path)
        return _unannotated(folder, image_path)
    record = _read(file)
    try:
        instances = [_instance(item, file, classes, warnings) for item in record.get("instances") or []]
        return ImageAnnotation(
            image_path, int(record["width"]), int(record["height"]), instances,
            image_label=record.get("image_label"), split=record.get("split"),
            signed_off=bool(record.get("signed_off", False)),
            sign_off_history=[SignOffEvent.from_dict(e) for e in record.get("sign_off_history") or []],
            pixel_size=read_pixel_size(record.get("pixel_size"), file, "pixel_size"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProjectError(f"{file}: annotation file is damaged ({exc}){_backup_hint(file)}") from exc


def _instance(item: dict[str, Any], file: Path, classes: ClassCatalogue, warnings: list[str]):
    polygons = [polygon_from_points(p, file, f"instance {item.get('id')}") for p in item["polygons"]]
    name = item["class"]
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"instance {item.get('id')} has no class name ({name!r})")
    if name not in classes:
        name = classes.add(name, display_name=shown_name(name.strip())).name
        warnings.append(f"{file}: cell class {name!r} was missing from the project's class list; "
                        "added it (saved with the project from now on)")
    return make_instance(polygons, name, item, file)


def _missing_annotation(project_file: Path, image_path: Path, annotation: Path) -> str:
    """The warning for an image whose annotation file ``project.json`` names is gone."""
    previous = backup_path(project_file)
    hint = (f"; if its cells were saved before, {previous.name} may still name them (rename it to "
            f"{PROJECT_FILE} to go back to the previous save)") if previous.is_file() else ""
    return (f"{project_file}: the annotation file {annotation.as_posix()} of {image_path.as_posix()} is missing; "
            f"the image opens without cells{hint}")


def _recorded_image_path(folder: Path, text: str) -> Path:
    """An entry's image path; backslashes are folder separators unless a file here has them in its name.

    Why: a project.json written or edited on a Windows PC (``..\\smears\\a.jpg``) named on Linux one
    file called ``..\\smears\\a.jpg`` beside the project, which is not there.
    """
    if "\\" in text and not (folder / text).exists():
        text = text.replace("\\", "/")
    return Path(text)


def _unannotated(folder: Path, image_path: Path) -> ImageAnnotation:
    """An image listed without cells; size 0 x 0 when its file cannot be read now (moved, on a share
    that is down): the project still opens, and the app marks the image as not found."""
    from bloodview.errors import BloodviewError
    from bloodview.io.images import read_image_size

    try:
        width, height = read_image_size(folder / image_path)
    except (BloodviewError, OSError) as exc:
        log.info("%s: size unknown until the image is found (%s)", image_path, exc)
        width, height = 0, 0
    return ImageAnnotation(image_path, width, height)


def _read(file: Path) -> dict[str, Any]:
    try:
        data = read_json(file, "project file")
    except FormatError as exc:
        raise ProjectError(f"{exc}{_backup_hint(file)}") from exc
    if not isinstance(data, dict):
        raise ProjectError(f"{file}: is not a bloodview project file (expected an object){_backup_hint(file)}")
    if isinstance(data.get("schema_version"), int) and data["schema_version"] > SCHEMA_VERSION:
        raise ProjectError(f"{file}: was written by a newer bloodview (format {data['schema_version']}); "
                           "update bloodview to open it")
    return data


def _backup_hint(file: Path) -> str:
    """How to go back to the previous save of a damaged ``file``, when one is kept ("" if none)."""
    bak = backup_path(file)
    if bak.is_file() and file.name == PROJECT_FILE:
        return (f"; the previous save is in {bak.name} beside it: to go back to it, move the damaged "
                f"{PROJECT_FILE} aside and rename {bak.name} to {PROJECT_FILE} (edits since that save are lost)")
    if bak.is_file():
        return f"; the previous version is in {bak.name} (rename it to {file.name} to go back to it)"
    previous = backup_path(file.parent.parent / PROJECT_FILE)
    if file.parent.name == ANNOTATIONS_DIR and previous.is_file():
        return f"; the previous save is {previous.name} (rename it to {PROJECT_FILE} to go back to it)"
    return ""
