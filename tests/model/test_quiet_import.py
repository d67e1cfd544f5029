"""TensorFlow's start-up lines stay off the terminal; anything else written then still shows."""

from __future__ import annotations

import os
import subprocess
import sys

from bloodview.model.quiet_import import kept_lines

# written by TensorFlow 2.21 on import and first run, on this CPU-only machine (copied from a
# `bloodview predict` run of 2026-12-07)
TENSORFLOW_START_UP = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796650421.111480   16366 port.cc:153] oneDNN custom operations are on. You may see slightly different numerical results.
I0000 00:00:1796650421.111738   16366 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
E0000 00:00:1796650423.178549   16366 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)
To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.
"""


def _run(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user's shell has it
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


def test_routine_start_up_lines_are_dropped_and_others_kept():
    other = "F0000 00:00:1.0  1 real.cc:1] a library failed to load\nTraceback: something else\n"
    assert kept_lines(TENSORFLOW_START_UP) == []
    assert "".join(kept_lines(TENSORFLOW_START_UP + other)) == other


def test_importing_tensorflow_writes_nothing_to_stderr():
    shown = _run("from bloodview.model.quiet_import import import_tensorflow_quietly\n"
                 "import_tensorflow_quietly()\n"
                 "import tensorflow as tf\n"
                 "tf.config.list_physical_devices('GPU')\n"
                 "print((tf.constant([1, 2], dtype=tf.int64) + 1).numpy().tolist())\n")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "[2, 3]"
    assert shown.stderr == ""
    plain = _run("import tensorflow as tf\ntf.config.list_physical_devices('GPU')\n")
    assert "absl::InitializeLog" in plain.stderr  # what the quiet import holds back is really written


def test_a_line_that_is_not_start_up_noise_still_shows():
    shown = _run("import os\n"
                 "from bloodview.model.quiet_import import _stderr_filtered\n"
                 "with _stderr_filtered():\n"
                 "    os.write(2, b'I0000 00:00:1.5  7 port.cc:1] routine\\n')\n"
                 "    os.write(2, b'libcudnn.so.9: cannot open shared object file\\n')\n"
                 "print('after')\n")
    assert shown.stdout.strip() == "after"
    assert shown.stderr == "libcudnn.so.9: cannot open shared object file\n"


def test_everything_caught_shows_when_the_import_fails():
    shown = _run("import os\n"
                 "from bloodview.model.quiet_import import _stderr_filtered\n"
                 "try:\n"
                 "    with _stderr_filtered():\n"
                 "        os.write(2, b'I0000 00:00:1.5  7 loader.cc:1] why it failed\\n')\n"
                 "        raise ImportError('no tensorflow')\n"
                 "except ImportError:\n"
                 "    print('caught')\n")
    assert shown.stdout.strip() == "caught"
    assert "why it failed" in shown.stderr
