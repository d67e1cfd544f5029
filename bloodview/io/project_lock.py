"""Who has a project open: a lock file in the project folder, so two bloodviews never both write it.

``<project>/bloodview.lock`` holds the holder's process id, host, user, start
time and a random token (JSON). It is created atomically (written aside, then
hard-linked into place, which fails when a lock is already there) and removed
when the holder closes the project.

A lock whose holder is gone (same host, process no longer running: bloodview
was killed or crashed) is *stale*: the next one to open the project takes it
over and logs a warning. A lock from another computer cannot be checked and
counts as held. Deleting ``bloodview.lock`` by hand frees a project whose
holder is known to be gone.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import logging
import os
import socket
import sys
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from bloodview.errors import ProjectError

log = logging.getLogger(__name__)

LOCK_FILE = "bloodview.lock"


class ProjectLockedError(ProjectError):
    """The project is open in another bloodview (``holder`` says who)."""

    def __init__(self, folder: Path, holder: LockHolder):
        self.folder = folder
        self.holder = holder
        super().__init__(f"{folder}: is open in another bloodview ({holder.describe()}); "
                         "close it there first, or save your work in another folder")


@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    user: str
    since: str  # ISO 8601, UTC
    token: str

    @classmethod
    def me(cls) -> LockHolder:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown user"
        return cls(os.getpid(), socket.gethostname(), user,
                   _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), uuid.uuid4().hex)

    def describe(self) -> str:
        """``ana on lab-pc-3 (process 4242), since 2026-12-01 09:00 UTC``."""
        since = self.since.replace("T", " ")[:16]
        return f"{self.user} on {self.host} (process {self.pid}), since {since} UTC"

    def is_alive(self) -> bool:
        """False only when the holder surely is gone: same host, no such process."""
        if self.host != socket.gethostname():
            return True
        return process_running(self.pid)


def process_running(pid: int) -> bool:
    """Whether a process ``pid`` runs on this computer (True when that cannot be told).

    Why not ``os.kill(pid, 0)`` everywhere: on Windows signal 0 is ``CTRL_C_EVENT``, so it sends
    a Ctrl+C to a console process group instead of asking (a bloodview started from a console
    interrupted itself when saving its own project), and never says "no such process": after a
    crash on a PC the project's stale lock was never taken over, and the project reopened
    read-only until ``bloodview.lock`` was deleted by hand. Windows is asked with ``OpenProcess``.
    """
    if sys.platform == "win32":
        return _windows_process_running(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


_QUERY_LIMITED_INFORMATION = 0x1000  # PROCESS_QUERY_LIMITED_INFORMATION
_ERROR_INVALID_PARAMETER = 87  # OpenProcess's answer for a process id no process has
_STILL_ACTIVE = 259  # GetExitCodeProcess's code for a process that has not ended


def _windows_process_running(pid: int) -> bool:
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32.OpenProcess.restype = ctypes.c_void_p
    handle = kernel32.OpenProcess(_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        return ctypes.get_last_error() != _ERROR_INVALID_PARAMETER  # type: ignore[attr-defined]
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(ctypes.c_void_p(handle), ctypes.byref(code)):
            return True
        return code.value == _STILL_ACTIVE
    finally:
        kernel32.CloseHandle(ctypes.c_void_p(handle))


def lock_path(folder: str | Path) -> Path:
    return Path(folder) / LOCK_FILE


def read_lock(folder: str | Path) -> LockHolder | None:
    """The holder named by the folder's lock file; ``None`` when there is none.

    A lock file that cannot be read (empty, damaged) names no holder: it is
    treated as stale.
    """
    path = lock_path(folder)
    if not path.exists():
        return None
    holder = _read_holder(path)
    if holder is None and path.exists():
        log.warning("%s: damaged lock file, treated as stale", path)
        return LockHolder(0, "", "unknown", "", "")
    return holder


class ProjectLock:
    """A held lock on one project folder; :meth:`release` when the project is closed."""

    def __init__(self, folder: Path, holder: LockHolder):
        self.folder = folder
        self.holder = holder
        self._held = True

    @classmethod
    def acquire(cls, folder: str | Path) -> ProjectLock:
        """Take the folder's lock (a stale one is taken over, with a warning).

        Raises :class:`ProjectLockedError` when a live holder has it, and
        :class:`ProjectError` when the folder cannot hold a lock file.
        """
        folder = Path(folder)
        holder = LockHolder.me()
        for _attempt in range(3):
            if _create(folder, holder):
                return cls(folder, holder)
            current = read_lock(folder)
            if current is None:
                continue  # released in between: try again
            if current.is_alive() and current.token:
                raise ProjectLockedError(folder, current)
            _break_stale(folder, current)
        current = read_lock(folder)
        raise ProjectLockedError(folder, current or holder)

    @property
    def held(self) -> bool:
        return self._held

    def release(self) -> None:
        """Remove the lock file if it is still ours (never someone else's)."""
        if not self._held:
            return
        self._held = False
        current = read_lock(self.folder)
        if current is not None and current.token == self.holder.token:
            lock_path(self.folder).unlink(missing_ok=True)


def check_not_locked(folder: str | Path) -> None:
    """Raise :class:`ProjectLockedError` when another live *process* holds ``folder``'s lock.

    A lock held by this process (the window saving its own project) passes.
    """
    current = read_lock(folder)
    if current is None or not current.token:
        return
    if current.pid == os.getpid() and current.host == socket.gethostname():
        return  # ours: never probed (see process_running)
    if current.is_alive():
        raise ProjectLockedError(Path(folder), current)


def _create(folder: Path, holder: LockHolder) -> bool:
    """Create the lock file with its whole content at once; False when one exists."""
    target = lock_path(folder)
    aside = folder / f".{LOCK_FILE}.{holder.token}.tmp"
    try:
        aside.write_text(json.dumps(asdict(holder)) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ProjectError(f"{folder}: cannot write the lock file ({exc.strerror or exc})") from exc
    try:
        os.link(aside, target)
        return True
    except FileExistsError:
        return False
    except OSError:  # no hard links here (some network shares): exclusive create instead
        try:
            with open(target, "x", encoding="utf-8") as handle:
                handle.write(aside.read_text(encoding="utf-8"))
            return True
        except FileExistsError:
            return False
    finally:
        aside.unlink(missing_ok=True)


def _break_stale(folder: Path, stale: LockHolder) -> None:
    """Move a dead holder's lock aside; put it back if it turns out to be a fresh one."""
    target = lock_path(folder)
    aside = folder / f".{LOCK_FILE}.stale-{uuid.uuid4().hex}"
    try:
        os.replace(target, aside)
    except FileNotFoundError:
        return
    moved = _read_holder(aside)
    if moved is not None and moved.token and moved.token != stale.token:
        try:
            os.link(aside, target)  # someone took it meanwhile: give it back
        except OSError:
            pass
    else:
        log.warning("%s: recovered a stale lock left by %s (that process is no longer running)",
                    folder, stale.describe())
    aside.unlink(missing_ok=True)


def _read_holder(path: Path) -> LockHolder | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LockHolder(int(data["pid"]), str(data["host"]), str(data["user"]), str(data["since"]),
                          str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
