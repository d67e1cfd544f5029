"""The model folder a retrain writes, removed when the run ends without a model (Qt-free).

Why: ``bloodview train`` writes checkpoints (tens of MB each) into its ``--out`` folder from its first
epoch and ``model.json`` last, so a run cancelled or crashed leaves a folder the model store does not
list (no ``model.json``) but that fills the disk, one per try. The app offers no way to resume such a
run (that is ``bloodview train --resume`` on the command line), so to a lab user the folder is only
waste: it is removed once the trainer has exited, and the message says so.

Only what this run created goes: a folder that existed before the run started is never touched, nor
one holding ``model.json`` (a finished model), nor a path outside the folder given at the start.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MODEL_JSON = "model.json"  # bloodview.model.store.MODEL_JSON, written last by every run that ends with a model


def staging_folder(out: Path) -> Path:
    """Where ``train --classes-only`` stages a model before moving it into ``out`` (a hidden sibling)."""
    return out.parent / f".{out.name}.classes-only-partial"


def folder_size(folder: Path) -> int:
    """Bytes in the files under ``folder`` (0 when it is not there)."""
    if not folder.is_dir():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def describe_size(size: int) -> str:
    return f"{size / 1e6:.0f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


@dataclass
class RunFolder:
    """The ``--out`` folder of one run, and whether the run found it (and its staging folder) already there.

    Build it with :meth:`claim` just before the trainer starts; call :meth:`discard_unfinished` only
    after the trainer has exited."""

    out: Path
    existed: bool
    staging_existed: bool

    @classmethod
    def claim(cls, out: Path) -> RunFolder:
        out = Path(out)
        return cls(out, out.exists(), staging_folder(out).exists())

    def finished(self) -> bool:
        """The run wrote its model (``model.json`` is written last)."""
        return (self.out / MODEL_JSON).is_file()

    def discard_unfinished(self) -> str:
        """Remove what this run left without a model; returns a sentence for the user ("" when nothing went).

        Never removes a folder that holds ``model.json`` or that was there before the run."""
        removed = 0
        for folder, existed in ((self.out, self.existed), (staging_folder(self.out), self.staging_existed)):
            if existed or not folder.is_dir() or (folder / MODEL_JSON).is_file():
                continue
            size = folder_size(folder)
            try:
                shutil.rmtree(folder)
            except OSError as exc:
                log.warning("could not remove the unfinished run %s: %s", folder, exc)
                return (f"Its unfinished files ({describe_size(size)}) could not all be removed: delete {folder} "
                        f"by hand ({exc.strerror or exc}).")
            log.info("removed the unfinished run %s (%s)", folder, describe_size(size))
            removed += size
        return f"Its unfinished files ({describe_size(removed)}) were removed." if removed else ""
