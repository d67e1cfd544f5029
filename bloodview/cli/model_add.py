"""``bloodview models --add FOLDER``: put a model folder from a share or a USB stick into the model store.

Why: copying by hand works (a model is just its folder), but a copy interrupted halfway
leaves a folder that is listed like any other and fails at Detect, and a copy over a model
of the same name replaces it. Here the folder is checked whole first (every weight read),
copied into a hidden staging folder of the store (``.NAME.adding-PC-PID-partial``: listings
skip dot-folders; one per PC and process, for a store two PCs share), checked again there, and only then renamed into place; a name already in the
store is refused, never overwritten. ``checkpoints/`` and ``logs/`` (training leftovers,
several times the model's size) are not copied.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
from pathlib import Path

from bloodview.errors import ModelError

log = logging.getLogger(__name__)

LEFT_BEHIND = ("checkpoints", "logs")


def add_model(source: Path, store: Path | None = None, name: str | None = None) -> int:
    """Copy the model folder ``source`` into ``store`` (default: the user model store) as ``name``; print it."""
    from bloodview.model.store import is_model_dir, user_store_dir
    from bloodview.model.store_check import check_folder

    source = Path(source).expanduser()
    if not source.is_dir():
        raise ModelError(f"{source}: no such model folder")
    if not is_model_dir(source):
        raise ModelError(f"{source}: has no model.json; name the model's own folder (the one holding model.json)")
    checked = check_folder(source, thorough=True)
    if not checked.usable:
        raise ModelError(f"{checked.problems[0]}; nothing was added")
    store = Path(store).expanduser() if store is not None else user_store_dir()
    name = name or source.name
    if not name or name.startswith(".") or Path(name).name != name:
        raise ModelError(f"{name!r}: not a usable folder name for the model store (a plain name, not starting with '.')")
    target = store / name
    if target.exists():
        raise ModelError(f"{target}: the model store already has a folder of that name; "
                         "choose another with --as NAME (nothing was added)")
    info = checked.info
    same = _same_model(info, store)
    if same is not None:
        raise ModelError(f"{same}: the model store already holds this model ({info.origin}); nothing was added")
    # one staging folder per PC and process: two PCs adding to one shared store never share one
    staging = store / f".{name}.adding-{platform.node() or 'pc'}-{os.getpid()}-partial"
    try:
        store.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, staging, ignore=shutil.ignore_patterns(*LEFT_BEHIND))
        copied = check_folder(staging, thorough=True)
        if not copied.usable:
            raise ModelError(f"{copied.problems[0]}; the copy into {store} failed, nothing was added")
        os.replace(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        reason = exc.strerror or str(exc)
        raise ModelError(f"{store}: cannot copy the model into the model store ({reason}); nothing was added") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"added {info.name} ({info.date or 'no date'}, {len(info.class_names)} classes) as {target}")
    return 0


def _same_model(info, store: Path) -> Path | None:
    """The store's folder already holding the model named ``info.origin`` (name and date), if any."""
    from bloodview.model.store import list_models

    if not store.is_dir() or not info.date:
        return None
    for other in list_models(store):
        if other.origin == info.origin:
            return other.path
    return None
