"""Errors meant for people: each names the file and the reason in one sentence.

The CLI and the GUI catch :class:`BloodviewError` and show ``str(error)``; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class BloodviewError(Exception):
    """Base class for every error a user can cause and fix."""


class FormatError(BloodviewError):
    """A file exists but its content is not what the format promises."""

    def __init__(self, path: str | Path | None, reason: str):
        self.path = Path(path) if path is not None else None
        self.reason = reason
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{reason}")


class ImageError(FormatError):
    """An image file is missing, unreadable, corrupt or too large."""


class UnknownClassError(BloodviewError):
    """A class name that the catalogue does not know."""

    def __init__(self, name: str, known: list[str], path: str | Path | None = None):
        self.name = name
        self.known = list(known)
        where = f"{path}: " if path is not None else ""
        super().__init__(
            f"{where}unknown cell class {name!r}; known classes: {', '.join(self.known)}"
        )


class GeometryError(BloodviewError):
    """A polygon that cannot be turned into a valid cell outline."""


class ProjectError(BloodviewError):
    """A project folder that cannot be opened or saved."""


class ModelError(BloodviewError):
    """A model folder that cannot be loaded, or a model that cannot be built."""


class DeviceError(BloodviewError):
    """A compute device (``--device gpu``) that this machine does not have or cannot use."""
