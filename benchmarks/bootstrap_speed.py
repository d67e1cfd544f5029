"""Throughput of the bootstrap segmenter on PBC images (images/s), as the CLI runs it.

Usage: ``.venv/bin/python benchmarks/bootstrap_speed.py [PBC_DIR] [--workers 2] [--images 400]``.
Runs the same worker pool as ``bloodview bootstrap`` (decode + segment +
outline + quality cues per image) over the first N images spread over classes,
and prints images/s together with the machine's load average, since other
jobs sharing the CPU change the figure, and the CPU time per image (which
they do not change much).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bloodview.bootstrap.inputs import scan_class_folders  # noqa: E402
from bloodview.bootstrap.runner import run_items  # noqa: E402
from bloodview.cli.cmd_bootstrap import _limit  # noqa: E402
from bloodview.core.classes import ClassCatalogue  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=REPO.parent / "shared" / "data" / "pbc")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--images", type=int, default=400)
    args = parser.parse_args()
    items = _limit(scan_class_folders(args.folder, ClassCatalogue.pbc()).items, args.images)
    load_before = os.getloadavg()
    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    results = list(run_items(items, workers=args.workers))
    elapsed = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_before
    found = sum(len(r.cells) for r in results)
    print(f"{len(items)} images, {found} masks, workers={args.workers}: "
          f"{len(items) / elapsed:.1f} images/s ({elapsed:.1f} s, pool start-up included)")
    print(f"CPU time {1000 * cpu / len(items):.1f} ms per image (all processes): "
          f"{args.workers * len(items) / cpu:.0f} images/s if {args.workers} cores were free")
    print(f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    return 0


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children (the pool)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    raise SystemExit(main())
