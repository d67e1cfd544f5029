"""Progress as whole lines, for a log file: what a cron job's ``2>> predict.log`` shows while it runs.

tqdm draws its bar only on a terminal (``disable=None``); with stderr sent to a file, an overnight
``bloodview predict`` wrote ``device: CPU`` and then nothing for hours, and whoever looked at the log
could not tell a run at image 500 of 900 from a hung one. Off a terminal, a line now says how far the
run is, how long an image takes and about how long is left, at most once every :data:`EVERY_S`
seconds (and never on a terminal, where the bar says it).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

EVERY_S = 60.0
"""Seconds between two lines: a log of a ten-hour run stays a few hundred lines."""


class LogProgress:
    """Call :meth:`update` with the images done so far; it prints when a line is due."""

    def __init__(self, what: str, total: int, already: int = 0, stream: TextIO | None = None,
                 every_s: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.stream = sys.stderr if stream is None else stream
        self.what, self.total, self.already = what, total, already
        self.every_s = EVERY_S if every_s is None else every_s
        self.clock = clock
        self.start = self.last = clock()
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = not (isatty is not None and isatty())

    def update(self, done: int) -> None:
        now = self.clock()
        if not self.enabled or now - self.last < self.every_s or done <= self.already:
            return
        self.last = now
        per_image = (now - self.start) / (done - self.already)
        left = per_image * (self.total - done)
        print(f"{self.what}: {done} of {self.total} images, {per_image:.2f} s per image, about {_duration(left)} left",
              file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    """``42 s``, ``7 min``, ``3 h 05 min``."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
