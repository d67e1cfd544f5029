"""Is a model folder complete and usable by this bloodview? Checked without TensorFlow.

Why: model folders travel (a share, a USB stick, a colleague's PC). A half-copied weights
file, a folder without its weights, or a model written by a newer bloodview looked like any
other model in ``bloodview models``, in ``bloodview doctor`` and in the window's selector,
and failed only at the first Detect. These checks let the listing and the doctor say, in one
sentence per problem, what is wrong with which file before anybody counts with it.

Two depths: :func:`folder_problems` with ``thorough=False`` opens each HDF5 weights file
(well under a millisecond: HDF5 records the file's length, so a file cut short by an
interrupted copy is refused at once); ``thorough=True`` also reads every stored array
(~0.2 s for the default model), which finds a file copied to its full length whose tail is
zeros or garbage. Only numbers are read; nothing is executed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from bloodview.errors import BloodviewError, ModelError
from bloodview.model.store import MODEL_JSON, WEIGHTS_FILE, ModelInfo, read_model_info

log = logging.getLogger(__name__)


@dataclass
class StoreEntry:
    """One model folder found in a store: its description (None when unreadable) and what is wrong with it."""

    folder: Path
    info: ModelInfo | None
    problems: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.info is not None and not self.problems


def check_folder(folder: str | Path, thorough: bool = False) -> StoreEntry:
    """Read ``folder``'s ``model.json`` and check the files it names; never raises for a bad folder."""
    folder = Path(folder)
    try:
        info = read_model_info(folder)
    except BloodviewError as exc:
        return StoreEntry(folder, None, [str(exc)])
    return StoreEntry(folder, info, folder_problems(info, thorough))


def folder_problems(info: ModelInfo, thorough: bool = False) -> list[str]:
    """Sentences naming what keeps the model in ``info.path`` from loading (empty: nothing found).

    Looks at the detector's weights file, the cell classifier's (when the model has one) and
    the config's field names (a newer bloodview's config fields this one cannot build).
    """
    folder = Path(info.path) if info.path is not None else None
    if folder is None:
        raise ModelError("this model description was not read from a model folder")
    found: list[str] = []
    problem = weights_problem(folder / WEIGHTS_FILE, "weights file", thorough)
    if problem:
        found.append(problem)
    try:
        spec = info.classifier_spec
    except BloodviewError as exc:
        found.append(str(exc))
        spec = None
    if spec is not None:
        problem = weights_problem(folder / spec.weights_file, "cell classifier weights file", thorough)
        if problem:
            found.append(problem)
        replay = folder / spec.replay_file if spec.replay_file else None
        if replay is not None and (not replay.is_file() or replay.stat().st_size == 0):
            found.append(f"{replay}: the cell classifier's replay file is missing or empty "
                         "(the model folder was not copied whole)")
    unknown = unknown_config_fields(info)
    if unknown:
        made_by = (info.versions or {}).get("bloodview")
        by = f" (made by bloodview {made_by})" if made_by else ""
        found.append(f"{folder / MODEL_JSON}: config fields this bloodview does not know: {', '.join(unknown)}{by}; "
                     "update bloodview")
    return found


def weights_problem(path: Path, what: str, thorough: bool = False) -> str | None:
    """One sentence when the HDF5 weights file ``path`` is missing, empty, cut short or unreadable; else None."""
    if not path.is_file():
        return f"{path}: {what} missing (the model folder was not copied whole)"
    size = path.stat().st_size
    if size == 0:
        return f"{path}: {what} is empty (0 bytes; copy it again)"
    import h5py  # a Keras dependency, no TensorFlow

    try:
        with h5py.File(path, "r") as handle:
            if thorough:
                handle.visititems(_read_dataset)
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        cut = "truncated file" in reason
        how = "only partly copied" if cut else "damaged or not a weights file"
        return f"{path}: {what} is {how} ({size:,} bytes; {reason[:160]}); copy the model folder again"
    return None


def _read_dataset(_name: str, item) -> None:
    import h5py

    if isinstance(item, h5py.Dataset):
        item[()]


def unknown_config_fields(info: ModelInfo) -> list[str]:
    """Config keys in ``model.json`` that this bloodview's :class:`MaskRCNNConfig` has no field for."""
    from dataclasses import fields

    from bloodview.model.config import MaskRCNNConfig  # TF-free

    known = {f.name for f in fields(MaskRCNNConfig)}
    return sorted(str(k) for k in info.config if str(k).lower() not in known)


def scan_store(store_root: str | Path | None = None, thorough: bool = False) -> list[StoreEntry]:
    """Every model folder :func:`~bloodview.model.store.list_models` would look at, usable or not.

    Unlike ``list_models`` (which skips a folder whose ``model.json`` is broken or from a newer
    bloodview, with a log warning), each folder is returned with its problems, so a listing can
    show IT why a model copied in does not appear in the window.
    """
    from bloodview.model.store import candidate_folders

    entries = []
    seen: set[Path] = set()
    for folder in candidate_folders(store_root):
        resolved = folder.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        entries.append(check_folder(folder, thorough))
    return entries


def folder_size(folder: Path) -> int:
    """Bytes in the files of ``folder`` (sub-folders included: logs, checkpoints)."""
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    return total

