"""Import TensorFlow without its start-up chatter on a lab user's terminal.

TensorFlow 2.21 writes, on import and on its first graph run, lines such as
``E0000 … cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error`` and
``oneDNN supports DT_INT64 only on platforms with AVX-512`` — on every CPU-only PC,
where nothing is wrong. A technician running ``bloodview predict`` read seven such lines
(two of them "errors") before the one that said how many cells were found. Some are written
by the C++ runtime before its logging is set up, so ``TF_CPP_MIN_LOG_LEVEL`` cannot hold
them back (``WARNING: All log messages before absl::InitializeLog() is called are written
to STDERR``): they are caught at the file-descriptor level while the import runs, the known
start-up lines dropped and anything else passed on, so a real failure still shows.

``bloodview --debug`` keeps every line (the CLI does not call this then). Only for the
command line: the app imports TensorFlow on a worker thread, where redirecting the
process's stderr would swallow the other threads' output.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

START_UP_NOISE = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called"),
    re.compile(r"^[IW]\d{4} [\d:. ]+\d+ \S+:\d+\] "),  # absl INFO / WARNING lines
    re.compile(r"^E\d{4} [\d:. ]+\d+ cuda_\w+\.cc:\d+\] failed call to cuInit"),
    re.compile(r"^To enable the following instructions: .*rebuild TensorFlow"),
)
"""Lines TensorFlow writes on import on a machine that is as it should be (no GPU, a CPU
its wheel was not built for specially). Anything else written during the import is kept."""


def import_tensorflow_quietly() -> None:
    """Import TensorFlow (once) with its routine start-up lines kept off stderr.

    Sets ``TF_CPP_MIN_LOG_LEVEL`` to 3 unless the user set it (the C++ runtime then logs only
    fatal errors after start-up), and TensorFlow's Python logger to errors only (its
    "triggered tf.function retracing" warning names bloodview's internals, not the user's).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        with _stderr_filtered():
            import tensorflow  # noqa: F401 - the import is the point
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


@contextmanager
def _stderr_filtered() -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the block, then write back what is not
    :data:`START_UP_NOISE`. If the block raises, everything caught is written back."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to redirect (a detached process): nothing to hide
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", errors="replace")
            kept = text if failed else "".join(kept_lines(text))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def kept_lines(text: str) -> list[str]:
    """The lines of ``text`` (with their line ends) that are not :data:`START_UP_NOISE`."""
    return [line for line in text.splitlines(keepends=True)
            if not any(pattern.search(line) for pattern in START_UP_NOISE)]
