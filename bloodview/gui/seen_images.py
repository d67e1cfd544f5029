"""Which held-out images a model already learnt from, read from its ``model.json`` (Qt-free).

Why: the Retrain dialog judges the current and the new model on held-out images. The loop
(retrain, correct more, retrain) changes which images are held out: with fewer than 5
reviewed images every one trains, and images marked ``val`` later, or chosen by name once
there are 5, may be ones an earlier retrain learnt from. The current model (adapted in that
earlier retrain) is then scored on its own training images: its figures flatter it, and a
new model can be called "worse", and offered with No as the default, for no reason.

A model trained by ``bloodview train`` records the COCO file it learnt from and its image
folder (``training.data``, ``training.images_root``) and the model it was adapted from
(``training.init``); the images of that file not marked ``val`` were learnt from. A training
file that is gone (a temporary folder cleaned) tells nothing, and nothing is claimed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

MAX_ANCESTORS = 10  # models adapted from models adapted from …: followed this far (and never in a circle)


def learnt_from(model_dir: Path | None, images: Iterable[Path]) -> list[Path]:
    """Those of ``images`` (absolute paths) that ``model_dir``, or a model it was adapted from, trained on."""
    wanted = {_key(path): Path(path) for path in images}
    seen: set[str] = set()
    trained: set[str] = set()
    model = model_dir
    while model is not None and len(seen) < MAX_ANCESTORS and _key(model) not in seen:
        seen.add(_key(model))
        training = _training(Path(model))
        trained |= _training_images(training)
        model = Path(training["init"]) if isinstance(training.get("init"), str) else None
    return [path for key, path in wanted.items() if key in trained]


def coco_images(coco: Path, images_root: Path) -> list[Path]:
    """The absolute image paths of a COCO file the Retrain dialog wrote (``heldout.json``)."""
    return [images_root / entry["file_name"] for entry in _coco(coco).get("images", [])
            if isinstance(entry, dict) and isinstance(entry.get("file_name"), str)]


def _training(model_dir: Path) -> dict:
    from bloodview.errors import BloodviewError
    from bloodview.model.store import read_model_info  # TF-free

    try:
        return dict(read_model_info(model_dir).training or {})
    except BloodviewError as exc:
        log.info("%s: training summary unreadable (%s)", model_dir, exc)
        return {}


def _training_images(training: dict) -> set[str]:
    data, root = training.get("data"), training.get("images_root")
    if not isinstance(data, str):
        return set()
    coco = _coco(Path(data))
    base = Path(root) if isinstance(root, str) else Path(data).parent
    return {_key(base / entry["file_name"]) for entry in coco.get("images", [])
            if isinstance(entry, dict) and isinstance(entry.get("file_name"), str) and entry.get("split") != "val"}


def _coco(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.info("%s: not readable (%s); nothing said about what was learnt from it", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def _key(path: Path | str) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(path)


def flattery_text(seen: int, held_out: int) -> str:
    """The caution shown under the comparison (and in the offer to switch)."""
    return (f"Caution: the current model learnt from {seen} of the {held_out} held-out images in an earlier "
            "retrain, so its figures flatter it; judge the new model on your own images too.")
