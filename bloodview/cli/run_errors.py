"""Why a command failed, as a word a script can branch on (``predict --json``'s ``kind``).

Every failure a person can fix exits with 1 (scripts and tests rely on it), and its sentence names
the file and the reason; a script that must tell a missing model from a full disk from a folder of
bad images reads ``kind`` instead of matching sentences. The kinds are stable:

* ``input``: no images found, none readable, an input missing;
* ``model``: the model folder missing or damaged;
* ``device``: ``--device gpu`` on a machine without one;
* ``output``: ``--out`` cannot be written (missing folder, read-only or full disk, an image's name);
* ``busy``: another run is writing the same ``--out`` now;
* ``interrupted`` / ``terminated``: stopped by Ctrl-C / SIGTERM;
* ``error``: anything else a person can fix (a bad option value).
"""

from __future__ import annotations

from bloodview.errors import BloodviewError, DeviceError, FormatError, ImageError, ModelError


class OutputError(FormatError):
    """An output file that cannot be written (its folder, its disk, its name)."""


class BusyError(BloodviewError):
    """Another run is writing the same output now."""


def error_kind(error: BaseException) -> str:
    """The stable word for ``error`` (see the module's list)."""
    from bloodview.cli.main import Terminated

    for kind, classes in (("terminated", Terminated), ("interrupted", KeyboardInterrupt), ("output", OutputError),
                          ("busy", BusyError), ("input", ImageError), ("model", ModelError),
                          ("device", DeviceError)):
        if isinstance(error, classes):
            return kind
    return "error"
