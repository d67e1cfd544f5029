"""Where a command is about to load TensorFlow: its start-up chatter kept off the terminal.

A lab user of ``bloodview predict`` read, before the one line that mattered, seven lines of
TensorFlow's start-up log on a CPU-only PC, two of them ``E0000 … CUDA error``; ``bloodview
evaluate --model`` added a screenful of ``op_level_cost_estimator`` warnings. ``--debug``
keeps them all (bloodview.model.quiet_import says how they are told apart).
"""

from __future__ import annotations

import argparse


def start_tensorflow(args: argparse.Namespace | None = None) -> None:
    """Import TensorFlow quietly unless ``--debug`` was given; call before the command's first
    TensorFlow import (later calls do nothing)."""
    if args is not None and getattr(args, "debug", False):
        return
    from bloodview.model.quiet_import import import_tensorflow_quietly

    import_tensorflow_quietly()
