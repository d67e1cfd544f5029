"""Atomic file writes: a reader (or a crash) never sees a half-written file.

Every file bloodview writes goes through here. The new content is written to a
temporary file in the *same folder* (so ``os.replace`` is a rename on one file
system), flushed and fsynced, then renamed over the target. Before the rename the
previous good file is kept as ``<name>.bak`` (e.g. ``project.json.bak``), so a
user can get back the last version even after a bad save.

If anything fails before the rename, the temporary file is removed and the
existing target is left untouched.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

BACKUP_SUFFIX = ".bak"

# The process umask, read once (os.umask can only be read by setting it).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def backup_path(path: str | Path) -> Path:
    """Where the previous good version of ``path`` is kept."""
    path = Path(path)
    return path.with_name(path.name + BACKUP_SUFFIX)


def atomic_write_bytes(path: str | Path, data: bytes, backup: bool = True, sync_folder: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically; keep the old file as ``<name>.bak``.

    The folder must exist. Returns ``path``. Raises ``OSError`` (with the file
    name) if the folder is not writable; the old file is then untouched.
    ``sync_folder=False`` leaves the folder's ``fsync`` to the caller (one
    :func:`fsync_folder` after writing many files, as a project save does).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=_temporary_prefix(path.name), suffix=".tmp", dir=folder)
    except OSError as exc:  # name the file the user asked for, not our hidden temporary one
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            _copy_mode(path, tmp)
            if backup:
                _keep_backup(path)
        else:
            os.chmod(tmp, 0o666 & ~_UMASK)  # as open() would create it, not mkstemp's 0600
        _replace(tmp, path)
    except IsADirectoryError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, "is a folder, not a file", str(path)) from exc
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.filename:
            raise
        # a write or fsync on a full disk names no file: "error: No space left on device", of what?
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_folder:
        fsync_folder(folder)
    log.debug("wrote %s (%d bytes)", path, len(data))
    return path


# Bytes of the target's name kept in its temporary file's name: file systems (ext4, APFS, NTFS, SMB)
# allow 255 per name, and mkstemp adds a dot, 8 random characters and ".tmp".
TEMPORARY_NAME_BYTES = 200


def _temporary_prefix(name: str) -> str:
    """``.<name>.`` for the temporary file, the name cut to :data:`TEMPORARY_NAME_BYTES` of UTF-8.

    Why: an image with a long name (camera software, a name kept from a Windows path) gave an
    export file whose name fit, but whose temporary file's did not: "File name too long".
    """
    return "." + name.encode("utf-8")[:TEMPORARY_NAME_BYTES].decode("utf-8", "ignore") + "."


# Pauses (seconds) before trying a refused rename again on Windows: about 1.5 s in all.
WINDOWS_REPLACE_RETRIES = (0.05, 0.1, 0.2, 0.4, 0.8)


def _replace(tmp: Path, path: Path) -> None:
    """``os.replace``, tried again for a moment on Windows when refused.

    Why: Windows refuses to rename over a file another program has open for a moment (the virus
    scanner or search indexer reading the file just written, a colleague's PC reading
    ``project.json`` over the share): the save failed with "Permission denied" although a
    retry a tenth of a second later succeeds. Elsewhere a refusal is final and said at once.
    """
    for pause in WINDOWS_REPLACE_RETRIES if sys.platform == "win32" else ():
        try:
            os.replace(tmp, path)
            return
        except PermissionError:
            time.sleep(pause)
    os.replace(tmp, path)


def atomic_write_text(path: str | Path, text: str, backup: bool = True) -> Path:
    """Write ``text`` as UTF-8 (``\\n`` line ends) atomically; see :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode("utf-8"), backup=backup)


def atomic_write_json(path: str | Path, obj: Any, compact: bool = False, backup: bool = True) -> Path:
    """Serialise ``obj`` to JSON and write it atomically.

    ``compact=True`` writes no whitespace (as MakeSense does); otherwise two-space
    indent. Non-ASCII stays as UTF-8 text. Serialisation happens before the file
    is touched, so an object that cannot be serialised leaves the old file as is.
    """
    return atomic_write_text(path, dumps_json(obj, compact), backup=backup)


def dumps_json(obj: Any, compact: bool = False) -> str:
    """JSON text; NumPy numbers become plain ints/floats, whole floats stay floats."""
    if compact:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return json.dumps(obj, ensure_ascii=False, indent=2, default=_json_default) + "\n"


def _json_default(value: Any) -> Any:
    # NumPy scalars and arrays, without importing NumPy here.
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return value.as_posix()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def whole_number(value: float) -> int | float:
    """``3.0 -> 3``, ``2.5 -> 2.5``: numbers as a JavaScript tool would print them."""
    value = float(value)
    if math.isfinite(value) and value == int(value):
        return int(value)
    return value


def json_number(value: float, digits: int = 4) -> int | float:
    """A coordinate for JSON: rounded to ``digits`` decimals, whole numbers as ints."""
    return whole_number(round(float(value), digits))


def _keep_backup(path: Path) -> None:
    bak = backup_path(path)
    try:
        # A hard link is instant and keeps the old inode as the backup; copy if the
        # file system refuses links.
        bak.unlink(missing_ok=True)
        os.link(path, bak)
    except OSError:
        shutil.copy2(path, bak)


def _copy_mode(source: Path, target: Path) -> None:
    try:
        shutil.copymode(source, target)
    except OSError:
        pass  # permissions are a nicety; the content matters


def fsync_folder(folder: Path) -> None:
    """Make renames and new names in ``folder`` durable (POSIX; a no-op elsewhere)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
