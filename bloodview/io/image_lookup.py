"""Finding an image whose recorded path was written on another computer.

Annotation files and projects travel between Windows PCs, Macs, Linux and a lab's
network share, and the name they record is often not the name on this disk:

* Windows and macOS ignore letter case, so ``IMG_001.JPG`` recorded on a PC opens
  ``img_001.jpg`` there, but not on Linux;
* macOS writes ``é`` as two code points (NFD), Windows and Linux as one (NFC): the
  two spellings look the same and are different names to Linux;
* a Windows tool records absolute paths (``C:\\Users\\tech\\smears\\day1\\a.jpg``,
  ``\\\\labserver\\share\\day1\\a.jpg``), which :func:`bloodview.io.paths.member_path`
  turns into ``Users/tech/smears/day1/a.jpg`` under the data folder, where the image
  is not: it is at the end of that path (``day1/a.jpg``).

:func:`find_image` matches a path part by part, exactly first, else ignoring case and
Unicode normalisation (only when exactly one file fits: two files that differ only in
case are never guessed between). :func:`find_moved_images` points a dataset's missing
images at the file found under the longest tail of their recorded path (of the size the
annotation file gives, when it gives one), never two
differently recorded images at one file (``a.JPG`` and ``A.jpg`` are one file to the PC that
wrote them, and may share one here).
"""

from __future__ import annotations

import logging
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from bloodview.core.annotation import Dataset, ImageAnnotation

log = logging.getLogger(__name__)


def name_key(name: str) -> str:
    """``name`` as Windows and macOS compare it: letter case and NFC/NFD spelling ignored."""
    return unicodedata.normalize("NFC", name).casefold()


@dataclass
class FolderListings:
    """Folder listings read once per lookup session (a share answers each listing slowly)."""

    listings: dict[Path, dict[str, list[str]]] = field(default_factory=dict)

    def names(self, folder: Path) -> dict[str, list[str]]:
        """``name_key`` -> the names in ``folder`` with that key (empty when it cannot be listed)."""
        if folder not in self.listings:
            keyed: dict[str, list[str]] = {}
            try:
                for name in os.listdir(folder):
                    keyed.setdefault(name_key(name), []).append(name)
            except OSError:
                pass
            self.listings[folder] = keyed
        return self.listings[folder]


def find_image(root: Path, recorded: Path, listings: FolderListings | None = None) -> Path | None:
    """The on-disk spelling of ``recorded`` under ``root`` (relative, as ``recorded`` is), or None.

    Each part is taken as written when it exists, else the one entry of its folder that
    differs only in letter case or Unicode normalisation; ``None`` when there is none or
    more than one.
    """
    listings = listings or FolderListings()
    parts = recorded.parts
    if not parts:
        return None
    found: list[str] = []
    folder = root
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        fits = Path.is_file if last else Path.is_dir
        if part in ("..", "."):
            chosen = part
        else:
            alike = listings.names(folder).get(name_key(part), [])
            same = [name for name in ([part] if part in alike else alike) if fits(folder / name)]
            if len(same) != 1:
                return None
            chosen = same[0]
        found.append(chosen)
        folder = folder / chosen
    return Path(*found)


def recorded_tails(recorded: Path) -> list[Path]:
    """``recorded`` and its ever shorter tails, without ``..``, ``.`` and drive or share parts.

    ``Users/tech/smears/day1/a.jpg`` -> itself, ``tech/smears/day1/a.jpg``, ..., ``a.jpg``.
    """
    parts = [p for p in recorded.parts if p not in ("..", ".") and not _is_anchor(p)]
    tails = [recorded] + [Path(*parts[start:]) for start in range(len(parts))]
    unique: list[Path] = []
    for tail in tails:
        if tail not in unique:
            unique.append(tail)
    return unique


def _is_anchor(part: str) -> bool:
    """A root, drive (``C:``) or share (``\\\\server\\share\\``) part, as Linux or Windows spell it
    (``a:b.jpg`` is a Linux file name, not a drive)."""
    return part.endswith(("/", "\\")) or PureWindowsPath(part).drive == part


@dataclass
class MovedImages:
    """What :func:`find_moved_images` did: ``(recorded, found)`` pairs, and the images left missing."""

    found: list[tuple[Path, Path]] = field(default_factory=list)
    missing: int = 0

    def sentence(self) -> str:
        """One sentence for the user ("" when nothing was found elsewhere)."""
        if not self.found:
            return ""
        recorded, found = self.found[0]
        more = f" and {len(self.found) - 1} more" if len(self.found) > 1 else ""
        return (f"{len(self.found)} image(s) were not where the file records them but were found under "
                f"another letter case, spelling or folder (it was written on another computer): "
                f"{recorded.as_posix()} is {found.as_posix()}{more}")


def find_moved_images(dataset: Dataset, root: Path | None = None) -> MovedImages:
    """Point the images of ``dataset`` that are not where recorded at the file found (see module doc).

    Looked for under ``root`` (default: the dataset's root, which becomes ``root``): the recorded
    path spelled as on disk, then its ever shorter tails, then those tails in the folders above
    (see :func:`_search`). An image found where recorded (under
    ``root``) is left alone; a
    file is given to one recorded path only (``day1/a.jpg`` and ``day2/a.jpg`` never both
    become one ``a.jpg``). Rewritten paths are relative to ``root``. The result also holds
    what :func:`find_moved_on_read` found in ``dataset`` and nobody has said yet (once).
    """
    root = root if root is not None else dataset.root
    result = MovedImages(found=dataset.moved_on_read)
    dataset.moved_on_read = []  # said once
    if root is None:
        return result
    missing = [image for image in dataset.images if not _at(root, image.image_path).is_file()]
    if not missing:  # the usual case: no listing, no resolving
        dataset.root = root
        return result
    listings = FolderListings()
    claimed: dict[Path, str] = {}  # file on disk -> the recorded path that has it, as Windows compares
    missing_ids = {id(image) for image in missing}
    for image in dataset.images:
        if id(image) not in missing_ids:
            claimed.setdefault(_key(_at(root, image.image_path)), name_key(image.image_path.as_posix()))
    for image in missing:
        recorded = image.image_path
        found = _search(root, recorded, listings, lambda path, image=image: _same_size(image, root / path))
        if found is None or claimed.setdefault(_key(root / found), name_key(recorded.as_posix())) != name_key(
                recorded.as_posix()):
            result.missing += 1
            continue
        image.image_path = found
        result.found.append((recorded, found))
        log.debug("%s: found at %s", recorded.as_posix(), found.as_posix())
    dataset.root = root
    return result


def _at(root: Path, path: Path) -> Path:
    return path if path.is_absolute() else root / path


def find_moved_on_read(dataset: Dataset, root: Path) -> MovedImages:
    """:func:`find_moved_images` as a reader does it: images found elsewhere also get their size
    (one listed without cells had none while it was not found), and the sentence is logged.

    Why here: the command line (``convert``, ``count``, ``info``) and the window must see one
    dataset; a Windows path read as ``Users/tech/smears/day1/a.jpg`` was found as ``day1/a.jpg``
    by the window only. The finds are kept in ``dataset.moved_on_read`` for the next
    :func:`find_moved_images` call on it, so a caller that looks again (the window, which says it
    in a dialog) still reports them, once.
    """
    from bloodview.errors import BloodviewError
    from bloodview.io.images import read_image_size

    moved = find_moved_images(dataset, root)
    found = {path for _recorded, path in moved.found}
    for image in dataset.images:
        if image.width <= 0 and image.image_path in found:
            try:
                image.width, image.height = read_image_size(dataset.resolve_image(image))
            except BloodviewError:
                pass  # unreadable: said where it is opened
    if moved.found:
        log.warning("%s", moved.sentence())
        dataset.moved_on_read = list(moved.found)
    return moved


def find_recorded(root: Path, recorded: Path, listings: FolderListings | None = None) -> Path | None:
    """Where the image recorded as ``recorded`` is under ``root`` (relative to it), or None: as
    :func:`find_moved_images` looks for one (case, spelling, tails, folders above), for a reader
    that needs the file itself while reading (VIA stores no image sizes)."""
    if (root / recorded).is_file():
        return recorded
    return _search(root, recorded, listings or FolderListings())


# How many folders above the data folder are searched, and the fewest path parts matched there.
ANCESTORS = 3
ANCESTOR_TAIL_PARTS = 2


def _search(root: Path, recorded: Path, listings: FolderListings,
            fits: Callable[[Path], bool] = lambda _path: True) -> Path | None:
    """The first file found for ``recorded`` that ``fits``: its tails under ``root``, then (two parts
    or more, so that a bare file name never picks a stranger's) under the folders above ``root``.

    Why above: a project on a share stores images beside it (``../smears/a.jpg``); written on a PC
    that reached them by another drive letter or UNC name, it stored them absolute
    (``//labserver/lab/smears/a.jpg``), and on the workstation that mounts the share the images are
    beside the project again. Only image files are taken there: a crafted ``C:\\etc\\passwd`` must
    not lead to a file outside the data folder.
    """
    from bloodview.io.images import is_image_file

    tails = recorded_tails(recorded)
    for tail in tails:
        if (hit := find_image(root, tail, listings)) is not None and fits(hit):
            return hit
    for level, folder in enumerate(root.absolute().parents[:ANCESTORS], start=1):
        for tail in tails:
            if len(tail.parts) < ANCESTOR_TAIL_PARTS or (hit := find_image(folder, tail, listings)) is None:
                continue
            if is_image_file(hit) and fits(found := Path(*[".."] * level, hit)):
                return found
    return None


def _same_size(image: ImageAnnotation, path: Path) -> bool:
    """Whether the file at ``path`` has the size the annotation file gives ``image`` (True when it
    gives none): another picture that happens to share the name is not taken for it."""
    from bloodview.errors import BloodviewError
    from bloodview.io.images import read_image_size

    if image.width <= 0 or image.height <= 0:
        return True
    try:
        return read_image_size(path) == (image.width, image.height)
    except (BloodviewError, OSError):
        return True  # found, but unreadable: said as such where it opens


def _key(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path
