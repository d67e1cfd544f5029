"""Crash safety of project saves: SIGKILL a process that saves a large project, many times.

    .venv/bin/python benchmarks/crash_safety.py [--kills 200] [--images 300] [--seed 0]

A child process (this file with ``--saver``) saves a synthetic project again and
again (:func:`bloodview.io.project.save_project`); each save changes a third of
the images (cells moved, added, dropped), the image list and a setting, so saves
differ everywhere. The child reports each completed save in a progress file.
The parent kills it (SIGKILL) at a random moment, loads the project and checks,
by image count, cell count and a checksum of every image's content, that it is
exactly one save: the newest one started (``last save``: the kill came after its
``project.json`` was replaced) or the one before (``previous save``). Anything
else — a load error, a mix of two saves — is ``damaged``. The next child goes
on from the save found. Prints the figures and a JSON line.

SIGKILL leaves what was written in the page cache, so this checks the order of
writes and renames (a kill between any two steps), not a power cut.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLASSES = ("neutrophil", "lymphocyte", "monocyte", "eosinophil", "basophil", "platelet", "erythroblast", "ig")
CHANGED_FRACTION = 3  # save s changes the images with index % 3 == s % 3


# --- the synthetic project (the same in child and parent) -----------------------------------
def image_count(images: int, save: int) -> int:
    """The image list changes too: odd saves drop the last image."""
    return images - (save % 2)


def _last_change(index: int, save: int) -> int:
    """The newest save <= ``save`` that changed image ``index`` (0: the first one)."""
    back = (save - index) % CHANGED_FRACTION
    return max(save - back, 0)


def build_image(index: int, version: int):
    """Image ``index`` as saved by save ``version``: 5..24 cells, coordinates on a 1/8 px grid."""
    from bloodview.core.annotation import ImageAnnotation
    from bloodview.core.instance import Instance, Source

    rng = np.random.default_rng(index * 100_003 + version)
    cells = []
    for k in range(int(rng.integers(5, 25))):
        cx, cy, r = rng.integers(40, 600), rng.integers(40, 440), rng.integers(8, 30)
        angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        points = np.round(np.stack([cx + r * np.cos(angles), cy + r * np.sin(angles)], 1) * 8) / 8
        cells.append(Instance([points], CLASSES[int(rng.integers(len(CLASSES)))],
                              score=round(float(rng.random()), 4), source=Source.MODEL,
                              reviewed=bool(rng.random() < 0.3), id=f"c{index}-{version}-{k}"))
    return ImageAnnotation(f"smears/field_{index:05d}.jpg", 640, 480, cells, split="train")


def build_dataset(images: int, save: int, root: Path):
    from bloodview.core.annotation import Dataset
    from bloodview.core.classes import ClassCatalogue

    return Dataset([build_image(i, _last_change(i, save)) for i in range(image_count(images, save))],
                   ClassCatalogue.pbc(), root)


def image_digest(image) -> str:
    """The content of one image as saved (paths as written, coordinates as stored)."""
    from bloodview.io.project import image_record

    return hashlib.sha1(json.dumps(image_record(image, Path(image.image_path.name)), sort_keys=True).encode()).hexdigest()


@lru_cache(maxsize=None)
def _expected_image_digest(index: int, version: int) -> str:
    return image_digest(build_image(index, version))


@lru_cache(maxsize=None)
def expected(images: int, save: int) -> tuple[int, int, str]:
    """``(images, cells, checksum)`` of save ``save``."""
    count = image_count(images, save)
    cells = sum(len(build_image(i, _last_change(i, save)).instances) for i in range(count))
    digest = hashlib.sha1()
    for i in range(count):
        digest.update(_expected_image_digest(i, _last_change(i, save)).encode())
    digest.update(json.dumps({"save": save}).encode())
    return count, cells, digest.hexdigest()


def found(folder: Path) -> tuple[int, int, str]:
    """``(images, cells, checksum)`` of the project on disk; raises when it does not load."""
    from bloodview.io.project import load_project

    project = load_project(folder)
    digest = hashlib.sha1()
    for image in project.dataset.images:
        digest.update(image_digest(image).encode())
    digest.update(json.dumps({"save": project.settings.get("save")}).encode())
    return len(project.dataset.images), project.dataset.instance_count, digest.hexdigest()


# --- the child ---------------------------------------------------------------------------------
def saver(folder: Path, images: int, start: int, progress: Path) -> None:
    """Save saves ``start``, ``start + 1``, … until the parent is gone, reporting each completed one."""
    from bloodview.io.project import save_project

    root = folder.parent
    parent = os.getppid()
    with open(progress, "a", encoding="utf-8") as report:
        report.write("ready\n")
        report.flush()
        save = start
        while os.getppid() == parent:  # stop when the parent is gone
            save_project(build_dataset(images, save, root), folder, settings={"save": save})
            report.write(f"saved {save}\n")
            report.flush()
            save += 1


# --- the parent ----------------------------------------------------------------------------------
@dataclass
class Outcome:
    kills: int = 0
    last_save: int = 0
    previous_save: int = 0
    damaged: list[str] = field(default_factory=list)
    saves_completed: int = 0
    save_seconds: list[float] = field(default_factory=list)

    @property
    def loads_ok(self) -> int:
        return self.last_save + self.previous_save

    def figures(self) -> dict:
        return {"kills": self.kills, "loads_ok": self.loads_ok, "last_save": self.last_save,
                "previous_save": self.previous_save, "damaged": len(self.damaged),
                "saves_completed": self.saves_completed,
                "median_save_s": round(float(np.median(self.save_seconds)), 3) if self.save_seconds else None}


def _start_saver(folder: Path, images: int, start: int, progress: Path) -> subprocess.Popen:
    import bloodview

    env = dict(os.environ, PYTHONPATH=str(Path(bloodview.__file__).resolve().parents[1]))  # the parent's bloodview
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--saver", str(folder),
                             "--images", str(images), "--start", str(start), "--progress", str(progress)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _read_progress(progress: Path) -> list[str]:
    return progress.read_text(encoding="utf-8").split() if progress.exists() else []


def run_kills(workdir: Path, kills: int, images: int, seed: int = 0, log=print) -> Outcome:
    """Kill the saver ``kills`` times at random moments; check the project after each kill."""
    rng = random.Random(seed)
    from bloodview.io.project import save_project

    folder = workdir / "project"
    save_project(build_dataset(images, 0, workdir), folder, settings={"save": 0})
    outcome = Outcome()
    loaded = 0  # the save on disk
    save_time = 1.0
    for kill in range(kills):
        progress = workdir / f"progress-{kill}.txt"
        started = loaded + 1
        child = _start_saver(folder, images, started, progress)
        deadline = time.monotonic() + 120
        while "ready" not in _read_progress(progress):
            if child.poll() is not None:
                raise RuntimeError(f"the saver stopped: {child.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                child.kill()
                raise RuntimeError("the saver did not start")
            time.sleep(0.01)
        began = time.monotonic()
        time.sleep(rng.uniform(0, 2.5 * save_time))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stderr.close()
        outcome.kills += 1
        reported = [int(w) for w in _read_progress(progress)[1:] if w.isdigit()]
        if reported:
            outcome.saves_completed += len(reported)
            save_time = max(0.05, (time.monotonic() - began) / (len(reported) + 0.5))
            outcome.save_seconds.append(save_time)
        else:
            save_time = min(save_time * 1.5, 60.0)  # no save finished: kill later next time
        last_done = reported[-1] if reported else loaded
        newest = last_done + 1  # the save being written when the kill came
        try:
            state = found(folder)
        except Exception as exc:  # noqa: BLE001 - a failed load is what we count
            outcome.damaged.append(f"kill {kill}: does not load ({exc})")
            break
        if state == expected(images, newest):
            outcome.last_save += 1
            loaded = newest
        elif state == expected(images, last_done):
            outcome.previous_save += 1
            loaded = last_done
        else:
            outcome.damaged.append(f"kill {kill}: {state[0]} images, {state[1]} cells match neither save "
                                   f"{newest} {expected(images, newest)[:2]} nor save {last_done}")
            break
        if (kill + 1) % 10 == 0:
            log(f"{kill + 1} kills: {outcome.figures()}")
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--saver", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--progress", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.saver is not None:
        saver(args.saver, args.images, args.start, args.progress)
        return 0
    import tempfile

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        began = time.monotonic()
        outcome = run_kills(Path(tmp), args.kills, args.images, args.seed)
        figures = outcome.figures()
        figures["images"] = args.images
        figures["wall_s"] = round(time.monotonic() - began, 1)
    print(f"project of {args.images} images (about {expected(args.images, 0)[1]} cells), SIGKILL during saves")
    print(f"  kills {figures['kills']}, loads OK {figures['loads_ok']} (last save {figures['last_save']}, "
          f"previous save {figures['previous_save']}), damaged {figures['damaged']}")
    print(f"  saves completed {figures['saves_completed']}, median save {figures['median_save_s']} s")
    for line in outcome.damaged:
        print(f"  {line}")
    print(json.dumps(figures))
    return 1 if outcome.damaged else 0


if __name__ == "__main__":
    sys.exit(main())
