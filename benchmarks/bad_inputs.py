"""Damaged annotation files through the real CLI: how many end in a clean message, how many in a traceback.

Usage::

    .venv/bin/python benchmarks/bad_inputs.py [--count 10000] [--seed 0]

Each input is one reader's valid file (written by bloodview, see
``tests/io/bad_inputs.py``: COCO, COCO results, VIA, MakeSense VGG/COCO,
LabelMe, VOC, YOLO labels and class names, mask PNG and labels CSV, project
files) damaged once by Hypothesis: any value at any place replaced by any JSON
value, a key removed or added, the text truncated or spliced with hostile bytes
or tokens, a mask PNG truncated or swapped. It then goes through
``bloodview convert … --to coco`` (``bloodview evaluate`` for a results file),
run in-process through :func:`bloodview.cli.main.main` exactly as the command
runs it (``SystemExit`` caught). Counted: clean refusals (exit code not 0, one
``bloodview: error:`` message naming the damaged file, no traceback), reads
(exit 0, output written), tracebacks (an exception escaping ``main``, or a
traceback on stderr), unclear refusals (non-zero without the file's name) and
inputs changed (any byte of the case's folder differing after the run).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import logging
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from bloodview.cli.main import main  # noqa: E402
from tests.io.bad_inputs import build_cases, mutation, snapshot  # noqa: E402


def run_one(case, damaged: bytes, out: Path, original: bytes) -> tuple[str, str]:
    """``(outcome, detail)`` for one damaged input through the CLI."""
    case.target.write_bytes(damaged)
    before = snapshot(case.home)
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(case.convert_args(out))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:  # noqa: BLE001 - counting bugs is the point
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return "traceback", f"{type(exc).__name__} at {Path(last.filename).name}:{last.lineno}: {str(exc)[:100]}"
    finally:
        changed = snapshot(case.home) != before
        case.target.write_bytes(original)
    text = stderr.getvalue()
    if changed:
        return "changed", text[:160]
    if "Traceback" in text:
        return "traceback", text[-200:]
    if code == 0:
        return "read", ""
    if text.startswith("bloodview: error: ") and (case.target.name in text or case.target.parent.name in text):
        return "refused", ""
    return "unclear", text.strip()[:200]


def main_benchmark(count: int, seed_value: int) -> dict[str, int]:
    logging.disable(logging.WARNING)  # clipped-outline warnings are expected, not counted
    warnings.simplefilter("ignore")
    work = Path(tempfile.mkdtemp(prefix="bad_inputs_"))
    cases = build_cases(work / "cases")
    originals = {name: case.target.read_bytes() for name, case in cases.items()}
    counts: collections.Counter[str] = collections.Counter()
    per_reader: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    details: dict[str, list[str]] = collections.defaultdict(list)
    out_dir = work / "out"

    @seed(seed_value)
    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(data=st.data(), name=st.sampled_from(sorted(cases)))
    def one(data, name: str) -> None:
        case = cases[name]
        damaged = data.draw(mutation(case, originals[name]))
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir()
        outcome, detail = run_one(case, damaged, out_dir / "out.json", originals[name])
        counts["inputs"] += 1
        counts[outcome] += 1
        per_reader[name][outcome] += 1
        if detail and len(details[outcome]) < 8:
            details[outcome].append(f"{name}: {detail}")

    started = time.perf_counter()
    one()
    seconds = time.perf_counter() - started
    print(f"inputs: {counts['inputs']}  clean refusals: {counts['refused']}  reads: {counts['read']}  "
          f"tracebacks: {counts['traceback']}  unclear refusals: {counts['unclear']}  "
          f"inputs changed: {counts['changed']}  ({seconds:.0f} s)")
    for name in sorted(per_reader):
        row = per_reader[name]
        print(f"  {name:<15} {sum(row.values()):>5} inputs: {row['refused']:>5} refused, {row['read']:>5} read, "
              f"{row['traceback']} tracebacks, {row['unclear']} unclear, {row['changed']} changed")
    for outcome, lines in details.items():
        print(f"{outcome}:")
        for line in lines:
            print(f"  {line}")
    shutil.rmtree(work, ignore_errors=True)
    return dict(counts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="damaged inputs to generate (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    result = main_benchmark(options.count, options.seed)
    sys.exit(1 if result.get("traceback") or result.get("changed") else 0)
