"""The model store: one folder per trained model, described by ``model.json``.

This module is TensorFlow-free, so the GUI and ``bloodview models`` can list and
describe models without loading TensorFlow. Writing and reading the weights
lives in :mod:`bloodview.model.store_io`.

Layout of one model folder::

    <model_dir>/
        model.json          # ModelInfo: name, backbone, classes, config, training summary, ...
        model.weights.h5    # Keras 3 weights (HDF5), loaded by name into a freshly built network
        logs/               # TensorBoard event files (models made by ``bloodview train``)
        checkpoints/        # last epoch's weights + state, for ``bloodview train --resume``

Nothing in a model folder is ever unpickled or executed: the network is rebuilt
from the config in ``model.json`` and only numbers are read from the weights file.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bloodview.errors import ModelError

log = logging.getLogger(__name__)

MODEL_JSON = "model.json"
WEIGHTS_FILE = "model.weights.h5"
FORMAT = "bloodview-maskrcnn"
FORMAT_VERSION = 1
STORE_ENV = "BLOODVIEW_MODEL_STORE"
DEFAULT_MODEL_ENV = "BLOODVIEW_DEFAULT_MODEL"

_REQUIRED = ("name", "backbone", "class_names", "config")


@dataclass
class ModelInfo:
    """What ``model.json`` says about one trained model.

    ``class_names`` are in model index order (index 1..N; 0 is background).
    ``class_colors`` are ``(r, g, b)`` 0..255, one per class. ``image_size`` is the
    square model input side in pixels. ``training`` summarises the training data
    (``images``, ``val_images``, ``instances_per_class``, ``data``, ``epochs``, ...),
    ``final_losses`` the last epoch's losses (``val_*`` included when there was a
    validation split), ``metrics`` anything an evaluation added later (mAP, F1, ...).
    ``date`` is ISO 8601 UTC; ``versions`` holds bloodview/keras/tensorflow versions.
    ``cell_classifier`` describes the optional second network that names each
    detected cell's class (:class:`~bloodview.model.classifier_spec.ClassifierSpec`;
    None: the detector's own classes). ``path`` is the folder it was read from
    (not stored in the file).
    """

    name: str
    backbone: str
    class_names: list[str]
    config: dict[str, Any]
    class_colors: list[tuple[int, int, int]] = field(default_factory=list)
    image_size: int = 0
    training: dict[str, Any] = field(default_factory=dict)
    final_losses: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    date: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    cell_classifier: dict[str, Any] | None = None
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    path: Path | None = None

    @property
    def origin(self) -> str:
        """How predicted instances name this model: ``"<name>@<date>"``."""
        return f"{self.name}@{self.date}" if self.date else self.name

    @property
    def weights_path(self) -> Path:
        if self.path is None:
            raise ModelError("this model description was not read from a model folder")
        return self.path / WEIGHTS_FILE

    @property
    def classifier_spec(self):
        """The model's :class:`ClassifierSpec`, or None when it classifies with the detector alone."""
        if not self.cell_classifier:
            return None
        from bloodview.model.classifier_spec import ClassifierSpec

        return ClassifierSpec.from_dict(self.cell_classifier, where=str(self._json_path() or MODEL_JSON))

    def to_config(self):
        """The :class:`MaskRCNNConfig` the model was built with."""
        from bloodview.model.config import MaskRCNNConfig  # TF-free

        return MaskRCNNConfig.from_dict(self.config, source=self._json_path())

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values.pop("path")
        if values.get("cell_classifier") is None:
            values.pop("cell_classifier")
        values["class_colors"] = [list(c) for c in self.class_colors]
        order = ["format", "format_version"]
        return {k: values[k] for k in order} | {k: v for k, v in values.items() if k not in order}

    @classmethod
    def from_dict(cls, values: dict[str, Any], path: Path | None = None) -> ModelInfo:
        where = path / MODEL_JSON if path is not None else None
        if not isinstance(values, dict):
            raise ModelError(f"{where}: model.json must hold a JSON object")
        missing = [k for k in _REQUIRED if k not in values]
        if missing:
            raise ModelError(f"{where}: model.json lacks {', '.join(missing)}")
        if values.get("format", FORMAT) != FORMAT:
            raise ModelError(f"{where}: not a bloodview model (format {values.get('format')!r})")
        version = _whole_number(values.get("format_version", 1))
        if version is None:
            raise ModelError(f"{where}: model.json 'format_version' must be a whole number, "
                             f"not {values.get('format_version')!r}")
        if version > FORMAT_VERSION:
            made_by = values.get("versions", {}).get("bloodview") if isinstance(values.get("versions"), dict) else None
            by = f"bloodview {made_by}, " if made_by else ""
            raise ModelError(f"{where}: made by a newer bloodview ({by}model format {version}; this bloodview "
                             f"{_own_version()} reads format {FORMAT_VERSION} and older); update bloodview")
        known = {f for f in cls.__dataclass_fields__ if f != "path"}
        clean = {k: v for k, v in values.items() if k in known} | {"format_version": version}
        try:
            info = cls(**clean, path=path)
            info.class_names = [str(n) for n in info.class_names]
            info.class_colors = [tuple(int(v) for v in c) for c in info.class_colors]  # type: ignore[misc]
            info.image_size = int(info.image_size or info.config.get("image_max_dim", 0))
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{where}: model.json has a malformed field ({exc})") from exc
        if not isinstance(info.config, dict):
            raise ModelError(f"{where}: model.json 'config' must be an object")
        info.classifier_spec  # noqa: B018 - a malformed classifier description is reported on reading
        return info

    def _json_path(self) -> Path | None:
        return self.path / MODEL_JSON if self.path is not None else None


def _whole_number(value: Any) -> int | None:
    """``value`` as an int when it is one (``2``, ``2.0``, ``"2"``: what other JSON writers make of it); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _own_version() -> str:
    from bloodview import __version__

    return __version__


def read_model_info(model_dir: str | Path) -> ModelInfo:
    """Read ``<model_dir>/model.json``; a missing or broken file raises :class:`ModelError` naming it."""
    model_dir = Path(model_dir)
    path = model_dir / MODEL_JSON
    if not model_dir.is_dir():
        raise ModelError(f"{model_dir}: model folder does not exist")
    if not path.is_file():
        raise ModelError(f"{path}: missing; {model_dir} is not a bloodview model folder")
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); the file is damaged") from exc
    except UnicodeDecodeError as exc:
        raise ModelError(f"{path}: not a text file; the file is damaged") from exc
    return ModelInfo.from_dict(values, path=model_dir)


def write_model_info(info: ModelInfo, model_dir: str | Path) -> Path:
    """Write ``model.json`` atomically (the previous one is kept as ``model.json.bak``)."""
    from bloodview.io.atomic import atomic_write_json

    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    info.path = model_dir
    return atomic_write_json(model_dir / MODEL_JSON, info.to_dict(), backup=False)


def is_model_dir(path: str | Path) -> bool:
    return (Path(path) / MODEL_JSON).is_file()


def default_model_dir() -> Path:
    """The model used when none is named: ``$BLOODVIEW_DEFAULT_MODEL``, else the shipped one.

    The shipped default model is ``resources/models/default``: inside the installed package
    (a wheel) or next to the package (a source checkout); see :mod:`bloodview.bundled`.
    """
    env = os.environ.get(DEFAULT_MODEL_ENV)
    if env:
        return Path(env).expanduser()
    from bloodview.bundled import bundled_path

    return bundled_path("models/default")


# Where every install keeps the shipped default model: a checkout's resources/models/default, or a
# wheel's bloodview/resources/models/default.
SHIPPED_DEFAULT_TAIL = ("resources", "models", "default")


def is_shipped_default(path: str | Path) -> bool:
    """``path`` is where some install of bloodview keeps its shipped default model, this one or another.

    Why: the GUI remembers the chosen model by its folder, and that outlives the install. After
    the app is installed elsewhere (a new venv or version, a second checkout) the remembered
    folder is another install's copy of the default, gone or not, so "the default" must be
    recognised by where installs put it, not by its full path. Matched on the last three path
    parts, either separator (a setting written on Windows names ``...\\resources\\models\\default``),
    in any letter case: Windows and macOS ignore it, so a path typed or stored there as
    ``...\\Resources\\Models\\Default`` is that same folder.
    """
    parts = [part.casefold() for part in str(path).replace("\\", "/").split("/") if part]
    return tuple(parts[-len(SHIPPED_DEFAULT_TAIL):]) == SHIPPED_DEFAULT_TAIL


def user_store_dir() -> Path:
    """Where trained models go: ``$BLOODVIEW_MODEL_STORE`` or ``~/.local/share/bloodview/models``."""
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME")
    base = Path(data_home).expanduser() if data_home else Path.home() / ".local" / "share"
    return base / "bloodview" / "models"


def list_models(store_root: str | Path | None = None) -> list[ModelInfo]:
    """Models in ``store_root`` (its sub-folders, or itself if it is a model folder).

    Without ``store_root``: the default model (if present) then the user store.
    Folders whose ``model.json`` is broken are skipped with a warning naming the file.
    """
    models: list[ModelInfo] = []
    seen: set[Path] = set()
    for folder in candidate_folders(store_root):
        resolved = folder.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        try:
            models.append(read_model_info(folder))
        except ModelError as exc:
            log.warning("skipping model folder: %s", exc)
    return models


def candidate_folders(store_root: str | Path | None = None) -> list[Path]:
    """The folders holding a ``model.json`` that :func:`list_models` reads, in its order."""
    if store_root is not None:
        return _model_folders(Path(store_root))
    candidates = [default_model_dir()] if is_model_dir(default_model_dir()) else []
    return candidates + _model_folders(user_store_dir())


def _model_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    if is_model_dir(root):
        return [root]
    # a dot-folder is work in progress (classes_only.py stages a model in ".NAME.classes-only-partial"
    # and writes its model.json there before moving it in): a run killed then left no model
    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and is_model_dir(p))
    except OSError as exc:  # a share that dropped (stale handle, host down), a folder this user may not read
        raise ModelError(f"{root}: cannot read the model store ({exc.strerror or exc})") from exc
