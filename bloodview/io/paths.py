"""Rules for file names written inside annotation files.

An annotation file (COCO, VIA, LabelMe, ...) names its images relative to a data
folder. Those names come from other people's files, so they are checked: a ``..`` that
climbs out of the data folder is refused with a :class:`FormatError`, and an
absolute path is read from inside the data folder (a crafted file must not make
bloodview read or overwrite files elsewhere; a file written on a Windows PC that
recorded ``C:\\Users\\tech\\a.jpg`` must still open elsewhere). Backslashes
(Windows tools) are read as folder separators.

The project file is different: it may point at images beside the project
(``../images/a.jpg``) because labs keep images apart from annotations; see
:mod:`bloodview.io.project`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.errors import FormatError


def member_path(name: str, source: str | Path, what: str = "image") -> Path:
    """A relative, normalised path for ``name`` that stays inside the data folder.

    An absolute path (``C:\\Users\\tech\\a.jpg``, ``\\\\labserver\\share\\a.jpg``,
    ``/home/tech/a.jpg``: a tool that recorded where the images were on the computer that
    wrote the file) is taken without its drive, share or root (``Users/tech/a.jpg``), inside
    the data folder like any other name: the file opens, and
    :func:`bloodview.io.image_lookup.find_moved_images` finds the image under the tail of that
    path. ``source`` is the annotation file quoted in the error message.
    """
    if not isinstance(name, str) or not name.strip():
        raise FormatError(source, f"an {what} has an empty or missing file name")
    text = name.strip()
    parts: list[str] = []
    for part in _without_anchor(text):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise FormatError(source, f"{what} file name {name!r} points outside the data folder")
            parts.pop()
        else:
            parts.append(part)
    if not parts:
        raise FormatError(source, f"an {what} has an empty file name {name!r}")
    return Path(*parts)


def _without_anchor(text: str) -> tuple[str, ...]:
    """The parts of ``text`` after its drive, share or root, either separator.

    ``a:b.jpg`` (a Linux name; a drive without a root is no path a Windows tool records) stays whole.
    """
    windows = PureWindowsPath(text)
    if windows.root:
        return windows.parts[1:]
    return PurePosixPath(text.replace("\\", "/")).parts


def image_name_for_export(dataset: Dataset, image: ImageAnnotation, images_root: Path | None) -> str:
    """The name to write for ``image`` in a file whose images live in ``images_root``.

    A relative ``image_path`` is written as is (it is relative to the dataset's
    image folder, which readers pass as their images folder). An absolute path is
    made relative to ``images_root`` when it lies inside; otherwise only the file
    name is written. A relative path that climbs out with ``..`` (a project's images
    kept beside it) is taken as the absolute path it leads to: written as is, no
    reader of ours would accept it (:func:`member_path`).
    """
    path = image.image_path
    if not path.is_absolute():
        if ".." not in path.parts:
            return path.as_posix()
        if dataset.root is None:
            return path.name
        path = Path(os.path.normpath(dataset.root.absolute() / path))
    if images_root is not None:
        try:
            return Path(os.path.relpath(path, images_root)).as_posix() if _inside(path, images_root) else path.name
        except ValueError:  # different drives on Windows
            return path.name
    return path.name


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def flat_export_names(dataset: Dataset) -> list[str]:
    """One name per image for tools without folders (MakeSense): the base file name.

    MakeSense knows images only by file name; when two images share a name, the
    relative path is written for those instead (with ``/``), so none is lost.
    """
    names = [image.image_path.name for image in dataset.images]
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    return [
        name if seen[name] == 1 else image_name_for_export(dataset, image, dataset.root)
        for name, image in zip(names, dataset.images)
    ]


def output_relative(image_path: Path) -> Path:
    """Where an image's own annotation file goes under an output folder.

    The image's relative path (so sub-folders are mirrored and names cannot
    collide); a path that is absolute or climbs out with ``..`` gives the bare
    file name, so nothing is ever written outside the output folder.
    """
    if image_path.is_absolute() or ".." in image_path.parts:
        return Path(image_path.name)
    return image_path


# Characters Windows (and an SMB share serving Windows) cannot store in a file name.
_NOT_ON_WINDOWS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
PORTABLE_NAME_BYTES = 120
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10)), *(f"LPT{n}" for n in range(1, 10))}


def portable_name(name: str, max_chars: int = 60) -> str:
    """``name`` as a file name Windows, macOS, Linux and a lab's share can all store.

    Why: a project saved on Linux from an image ``smear 12:30.jpg`` named its annotation file
    after it, and the project could not be copied to a Windows PC (``:`` ``?`` ``*`` ``"`` ``<``
    ``>`` ``|`` and trailing dots or spaces are refused there, as are device names like ``CON``).
    Those characters become ``_``; the name is cut to ``max_chars`` and to :data:`PORTABLE_NAME_BYTES`
    of UTF-8 (a project deep in a share otherwise passes Windows' 260-character path limit, and
    60 emoji or CJK characters pass the 255 bytes a name may have). Never empty.
    """
    text = _NOT_ON_WINDOWS.sub("_", name)[:max_chars]
    text = text.encode("utf-8")[:PORTABLE_NAME_BYTES].decode("utf-8", "ignore").rstrip(". ") or "_"
    if text.split(".")[0].upper() in _WINDOWS_DEVICES:
        text = "_" + text
    return text


def visible(paths):
    """``paths`` without hidden files (names starting with a dot).

    A Mac copying to a USB stick or a lab's SMB share leaves a ``._name`` file (AppleDouble: the
    Finder's metadata, binary) beside every file: ``._a.json`` beside ``a.json`` made a LabelMe
    folder refused as "not valid JSON". Image listings already left them out."""
    return [p for p in paths if not Path(p).name.startswith(".")]
