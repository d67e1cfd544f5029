"""What an unfinished ``bloodview predict`` has done, kept on disk so that the same command carries on.

``predict`` writes its one COCO file at the end. An overnight run over hundreds of camera fields
stopped before that (Ctrl-C, ``kill``, a reboot, a full disk at the last write) used to leave
nothing, and the next run read every image again. Now each batch of finished images goes, as it
finishes, into the folder ``OUT.partial`` beside ``--out``:

* ``run.json``: the model (folder, size and time of its ``model.json``) and the options that
  change what is found; a run with other ones starts over instead of mixing two kinds of result;
* ``batch-NNNNNN.json``: a COCO file of that batch's images (the reader a user's file goes
  through reads it back, so nothing is kept that the final file would not keep), with each
  image's file (absolute path, size, modification time), first scale estimate and notes. Its
  outlines keep every digit (a user's COCO file rounds them to 4 decimals), so a cell carried
  over is the cell found, to the last bit of its box and area.

Each file is written atomically, so a kill leaves whole batches only. The same command run
again skips the images found there unchanged (same file, size and modification time) and says
how many; the folder is removed once ``--out`` is written. The camera pass
(:mod:`bloodview.model.camera_pass`) needs every image's first scale, so it runs at the end over
all images, carried over or new, as in one run that was never stopped.

While a run writes, it holds a lock on ``OUT.partial/lock`` (``fcntl``, where the system has
it): a second run with the same ``--out`` is refused instead of mixing batches.

``bloodview evaluate --model`` keeps its predictions the same way, for the file it writes at the
end, ``REPORT_DIR/predictions.json`` (:mod:`bloodview.cli.evaluate_predictions`); ``command``
names the command in what the journal says.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import types
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any

from bloodview.cli.run_errors import BusyError, OutputError
from bloodview.errors import BloodviewError

PARTIAL_SUFFIX = ".partial"
RUN_FILE = "run.json"
LOCK_FILE = "lock"
JOURNAL_KEY = "bloodview_predict_journal"
VERSION = 1


def partial_folder(out: Path) -> Path:
    """``cells.json`` -> ``cells.json.partial``: where an unfinished run keeps its finished images."""
    return out.with_name(out.name + PARTIAL_SUFFIX)


def image_key(path: Path) -> tuple[str, int, int]:
    """The image file as a carried-over result is tied to: absolute path, size, modification time."""
    stat = path.stat()
    return os.path.abspath(path), stat.st_size, stat.st_mtime_ns


def model_stamp(model_dir: Path) -> dict[str, Any]:
    """The model a carried-over result is tied to, for ``run.json``: its folder, and the size and time of its
    ``model.json`` (rewritten when the model is retrained in place; None when the folder has none)."""
    from bloodview.model.store import MODEL_JSON

    try:
        stat = (model_dir / MODEL_JSON).stat()
    except OSError:
        stat = None
    return {"model": os.path.abspath(model_dir), "model_json": None if stat is None else [stat.st_size, stat.st_mtime_ns]}


@dataclass
class DoneImage:
    """One finished image: its cells and scale (``annotation``, named as in the run that made it) and
    the first reading the camera pass needs (``detections``: ``instances``, ``scale``, ``glass_gains``)."""

    key: tuple[str, int, int]
    annotation: Any  # ImageAnnotation
    detections: Any
    grey: bool
    balanced: bool


class PredictJournal:
    """The ``OUT.partial`` folder of one run; open with :meth:`open`, then :meth:`add` per batch,
    :meth:`finish` after ``--out`` is written, :meth:`close` in any case."""

    def __init__(self, folder: Path, settings: dict[str, Any], lock_handle, command: str = "predict"):
        self.folder = folder
        self.settings = settings
        self.command = command
        self._lock = lock_handle
        self._batches = len(list(folder.glob("batch-*.json")))

    @classmethod
    def open(cls, out: Path, settings: dict[str, Any], restart: bool = False,
             command: str = "predict") -> tuple[PredictJournal, str | None]:
        """The journal for ``out`` (the file ``command`` writes at the end), locked; and a note when kept
        work was set aside (other settings, ``--restart``). Raises :class:`BloodviewError` when another
        run holds it or it cannot be made."""
        from bloodview.io.atomic import atomic_write_json

        folder = partial_folder(out)
        try:
            folder.mkdir(exist_ok=True)
            handle = _lock(folder / LOCK_FILE, out, command)
        except OSError as exc:
            raise OutputError(folder, f"cannot be written ({exc.strerror or exc}); {command} keeps its finished "
                                      "images there while it runs: free space or give an --out on a writable disk") from exc
        note = None
        kept = _read_run(folder)
        if kept is not None and (restart or kept != settings):
            batches = sorted(folder.glob("batch-*.json"))
            if batches:
                why = "--restart" if restart else "another model or other options"
                note = f"{folder}: {len(batches)} batch(es) of an earlier run set aside ({why}); starting over"
            for batch in batches:
                batch.unlink()
        try:
            atomic_write_json(folder / RUN_FILE, settings, backup=False)
        except BaseException:
            _unlock(handle)
            raise
        return cls(folder, settings, handle, command), note

    def done(self, catalogue) -> dict[tuple[str, int, int], DoneImage]:
        """The images finished by earlier runs, by :func:`image_key`; classes they name are added to
        ``catalogue``. A batch file that cannot be read (cut short by a full disk) is dropped: its
        images are simply read again."""
        found: dict[tuple[str, int, int], DoneImage] = {}
        for batch in sorted(self.folder.glob("batch-*.json")):
            try:
                found.update((one.key, one) for one in _read_batch(batch, catalogue))
            except (BloodviewError, OSError, ValueError, KeyError, TypeError):
                batch.unlink(missing_ok=True)
        return found

    def add(self, images: list[DoneImage], catalogue) -> None:
        """Keep one batch of finished images (atomically: the whole batch or none of it)."""
        from bloodview.core.annotation import Dataset, ImageAnnotation
        from bloodview.io.atomic import atomic_write_json
        from bloodview.io.coco import coco_dict

        if not images:
            return
        stand_ins = [ImageAnnotation(Path(f"{k}{Path(one.key[0]).suffix}"), one.annotation.width,
                                     one.annotation.height, one.annotation.instances,
                                     pixel_size=one.annotation.pixel_size) for k, one in enumerate(images)]
        data = coco_dict(Dataset(stand_ins, catalogue, root=None))
        for entry, one in zip(data["annotations"], [i for image in stand_ins for i in image.instances]):
            entry["score"] = one.score
            if not entry["iscrowd"]:  # exact outlines, not COCO's 4 decimals: a carried-over cell is the cell found
                entry["segmentation"] = [polygon.reshape(-1).tolist() for polygon in one.polygons]
        data[JOURNAL_KEY] = [
            {"file": one.key[0], "size": one.key[1], "mtime_ns": one.key[2], "grey": one.grey,
             "balanced": one.balanced, "scale": _scale_record(one.detections.scale)}
            for one in images
        ]
        self._batches += 1
        target = self.folder / f"batch-{self._batches:06d}.json"
        try:
            atomic_write_json(target, data, compact=True, backup=False)
        except OSError as exc:  # a full disk: say which, not a bare "No space left on device"
            raise OutputError(target, f"cannot be written ({exc.strerror or exc}); {self.command} keeps its finished "
                                      "images there while it runs: free space and run the same command again") from exc

    def carried_over(self, images: list[tuple[Path, Path]], catalogue) -> list[DoneImage | None]:
        """Per ``(file, name)`` of this run, what an earlier run finished (renamed as in this run), else None;
        says how many on stderr."""
        from bloodview.core.annotation import ImageAnnotation

        done = self.done(catalogue)
        results: list[DoneImage | None] = [None] * len(images)
        if not done:
            return results
        for k, (path, name) in enumerate(images):
            try:
                one = done.get(image_key(path))
            except OSError:
                continue  # gone since: reading it reports why
            if one is not None:
                old = one.annotation
                one.annotation = ImageAnnotation(name, old.width, old.height, old.instances, pixel_size=old.pixel_size)
                results[k] = one
        carried = sum(one is not None for one in results)
        if carried:
            print(f"carrying on: {carried} of {len(images)} image(s) done by an earlier run of this command "
                  f"({self.folder})", file=sys.stderr)
        return results

    def close_unfinished(self, total: int) -> None:
        """After a run that did not end (interrupted, SIGTERM, a failed write): say where its finished
        images are and how to carry on, or remove the folder when it holds none."""
        kept = self.kept_images()
        self.close()
        if not kept:
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        print(f"{kept} of {total} image(s) done are kept in {self.folder}: run the same command again to carry on "
              "from there (--restart to read them all again)", file=sys.stderr)

    def kept_images(self) -> int:
        """How many finished images the kept batches hold (0 when none, or they cannot be read)."""
        total = 0
        for batch in self.folder.glob("batch-*.json"):
            try:
                total += len(json.loads(batch.read_text(encoding="utf-8"))[JOURNAL_KEY])
            except (OSError, ValueError, KeyError, TypeError):
                pass
        return total

    def finish(self) -> None:
        """``--out`` is written: the kept batches are no longer needed."""
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def close(self) -> None:
        _unlock(self._lock)
        self._lock = None


def _scale_record(scale) -> dict[str, Any] | None:
    """A :class:`~bloodview.core.scale.ScaleEstimate` as JSON (``None``: the model reads no scale)."""
    if scale is None:
        return None
    if is_dataclass(scale):
        return asdict(scale)
    return {name: getattr(scale, name) for name in ("um_per_pixel", "rbc_diameter_px", "cells_measured", "source",
                                                     "confidence", "spread") if hasattr(scale, name)}


def _read_run(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _read_batch(batch: Path, catalogue) -> list[DoneImage]:
    from bloodview.core.scale import ScaleEstimate
    from bloodview.io.coco import load_coco

    records = json.loads(batch.read_text(encoding="utf-8"))[JOURNAL_KEY]
    dataset = load_coco(batch, classes=None, add_unknown_classes=True, check_images=False)
    for cell_class in dataset.classes:
        if cell_class.name not in catalogue:
            catalogue.add(cell_class.name, display_name=cell_class.display_name, color=cell_class.color,
                          white_cell=cell_class.white_cell)
    done = []
    for record, image in zip(records, dataset.images, strict=True):
        scale = None if record["scale"] is None else ScaleEstimate(**record["scale"])
        detections = types.SimpleNamespace(instances=image.instances, scale=scale, glass_gains=None)
        done.append(DoneImage((record["file"], int(record["size"]), int(record["mtime_ns"])), image, detections,
                              bool(record["grey"]), bool(record["balanced"])))
    return done


def _lock(path: Path, out: Path, command: str = "predict"):
    """An open, exclusively locked ``path``; refused when another run holds it."""
    handle = open(path, "a+")  # noqa: SIM115 - held for the run
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; two runs at once are the user's to avoid
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise BusyError(f"{out}: another bloodview {command} is writing this file now (its finished images are "
                        f"in {partial_folder(out)}); wait for it to end or give another --out") from None
    return handle


def _unlock(handle) -> None:
    if handle is not None:
        handle.close()  # closing releases the lock
