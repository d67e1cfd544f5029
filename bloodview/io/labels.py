"""Matching class names found in other tools' files to the class catalogue.

Names are matched with :meth:`ClassCatalogue.resolve` (exact, lower-case, known
aliases such as ``Platelets`` -> ``platelet``, display names). A name that is
still unknown either raises :class:`UnknownClassError` listing the known
classes, or, when the caller asked for it, is added to the catalogue as a
project class under its lower-cased name (``RBC`` -> ``rbc``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from bloodview.core.classes import ClassCatalogue, shown_name
from bloodview.errors import FormatError, UnknownClassError

log = logging.getLogger(__name__)


class ClassResolver:
    """Callable ``name -> class name`` bound to one catalogue and one source file."""

    def __init__(self, classes: ClassCatalogue, add_unknown: bool, source: str | Path | None = None):
        self.classes = classes
        self.add_unknown = add_unknown
        self.source = source
        self.added: list[str] = []

    def __call__(self, name: object) -> str:
        if not isinstance(name, str) or not name.strip():
            raise FormatError(self.source, f"a region has an empty or missing class label ({name!r})")
        try:
            return self.classes.resolve(name)
        except UnknownClassError as exc:
            if not self.add_unknown:
                raise UnknownClassError(name, self.classes.names, self.source) from exc
        new_name = name.strip().lower()
        if new_name not in self.classes:
            self.classes.add(new_name, display_name=shown_name(name.strip()))
            self.added.append(new_name)
            log.info("%s: added project class %r", self.source, new_name)
        return new_name
