"""Plain-callback change notifications, so the GUI can listen without Qt in core."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Listener = Callable[[str, Any], None]


class Observable:
    """Mixin: ``subscribe(fn)``; mutators call ``_notify(kind, payload)``.

    Listeners receive ``(kind, payload)``, e.g. ``("instance_added", instance)``.
    Listeners are not copied or pickled with the object.
    """

    def _listeners_list(self) -> list[Listener]:
        listeners = self.__dict__.get("_listeners")
        if listeners is None:
            listeners = []
            object.__setattr__(self, "_listeners", listeners)
        return listeners

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Register ``listener``; return a function that unsubscribes it."""
        listeners = self._listeners_list()
        listeners.append(listener)

        def unsubscribe() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return unsubscribe

    def _notify(self, kind: str, payload: Any = None) -> None:
        for listener in list(self._listeners_list()):
            listener(kind, payload)
