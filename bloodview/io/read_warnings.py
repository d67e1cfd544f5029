"""Warnings of a read, summarised: one line per kind with the count and the first few places.

Readers log a warning per clipped or skipped outline (``"%s: %s: outline crosses
the image border; ..."``); a 500-image YOLO set can give hundreds. While
:func:`summarised_warnings` is active, warnings from ``bloodview.io`` loggers in
this thread are held back, grouped by message template, and at the end each
group is logged once: as is when it has at most ``examples`` members, otherwise
as ``"<what> (<n> times, e.g. a.txt line 3; b.txt line 7; ...)"``. Other records
(and other threads' warnings) pass through unchanged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

IO_LOGGER = "bloodview.io"
PLACE_PREFIX = "%s: %s: "  # readers' "<file>: <where>: <what>" template


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.thread = threading.get_ident()
        self.groups: dict[tuple[str, str], list[logging.LogRecord]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING and record.thread == self.thread:
            self.groups.setdefault((record.name, str(record.msg)), []).append(record)
        else:
            logging.getLogger("bloodview").handle(record)


def summary_message(records: list[logging.LogRecord], examples: int = 3) -> str:
    """One line for a group of warnings with the same template (see module doc)."""
    first = records[0]
    template, args = str(first.msg), first.args if isinstance(first.args, tuple) else ()
    if template.startswith(PLACE_PREFIX) and len(args) >= 2:
        what = template[len(PLACE_PREFIX):] % args[2:]
        places = [f"{Path(str(r.args[0])).name} {r.args[1]}" for r in records[:examples]]  # type: ignore[index]
    else:
        what, places = first.getMessage(), []
    more = ", ..." if len(records) > examples else ""
    where = f", e.g. {'; '.join(places)}{more}" if places else ""
    return f"{what} ({len(records)} times{where})"


@contextmanager
def summarised_warnings(examples: int = 3) -> Iterator[None]:
    """Hold back this thread's ``bloodview.io`` warnings and log them summarised on exit."""
    logger = logging.getLogger(IO_LOGGER)
    collector = _Collector()
    propagate = logger.propagate
    logger.addHandler(collector)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(collector)
        logger.propagate = propagate
        for (name, _), records in collector.groups.items():
            target = logging.getLogger(name)
            if len(records) <= examples:
                for record in records:
                    target.handle(record)
            else:
                target.warning("%s", summary_message(records, examples))
