"""What the Retrain dialog offers and how each choice becomes ``bloodview train`` arguments (no widgets).

Kept apart from :mod:`bloodview.gui.dialogs.retrain_dialog` (which lays the choices out and runs the
process) so the texts, the backbone list, what the current model's ``model.json`` allows and the
argument rules can be read, and tested, on their own.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

FALLBACK_BACKBONES = ["resnet50", "resnet101", "resnet152", "resnext50", "vgg19",
                      "densenet121", "densenet169", "mobilenetv3large"]


def backbone_names() -> tuple[list[str], str]:
    """(names, default) from the TF-free backbone registry."""
    try:
        from bloodview.model.backbones.registry import DEFAULT_FAST_BACKBONE, available_backbones
    except ImportError:
        return FALLBACK_BACKBONES, FALLBACK_BACKBONES[-1]
    return available_backbones(), DEFAULT_FAST_BACKBONE


CLASSES_ONLY_PLOT = "No loss curve: adapting the classes refits one layer in seconds, with no epochs to plot"
ADAPT_NOTE = "Epochs and steps: chosen for the number of images (fits a coffee break)"
CLASSES_ONLY_NOTE = ("Only the cell classifier's last layer learns your corrected classes (under a minute); "
                     "the detector, and so the outlines and what is found, stay the current model's")
KEEP_START_AUTO = "Auto (a third from 50 images)"
KEEP_START_TIP = (
    "Share of the current model's detector weights blended into the new one (bloodview train --keep-start). "
    "More keeps more of what the detector knew of images unlike yours; 0 % keeps nothing. Auto: a third from 50 "
    "training images on, none below. The cell classifier keeps the classes your images lack by itself: it "
    "learns your cells beside stored features of its own training cells (docs/adaptation.md).")


CLASSIFIER_CHOICES = (
    ("Learns your cells beside its own (last layer; seconds)", "auto"),
    ("Fine-tuned whole (minutes; forgets classes your images lack)", "whole"),
    ("Left out: the new model names cells with its detector", "none"),
)
"""The cell classifier's part in adapting (bloodview train --classifier-adapt / --no-cell-classifier)."""
CLASSIFIER_TIP = (
    "How the current model's cell classifier, which names each white cell, learns your corrections. "
    "The first keeps its network and refits its last layer on your cells beside stored features of its own "
    "training cells: on another lab's crops it named 0.87-0.89 of held-out cells right after 25-100 "
    "corrections and kept PBC's classes (docs/adaptation.md). The second fine-tunes the whole network on "
    "your cells alone. The third writes a model without it.")


def keep_start_args(mode: str, percent: int) -> list[str]:
    """``--keep-start SHARE`` when the user chose a share (``percent`` >= 0); Auto (-1) leaves it to the
    trainer (a third from 50 training images in the adapt recipe, else none). A new model has nothing
    to keep."""
    if mode not in ("adapt", "finetune") or percent < 0:
        return []
    return ["--keep-start", f"{percent / 100:g}"]


def classifier_args(mode: str, method: str | None) -> list[str]:
    """``--classifier-adapt whole`` or ``--no-cell-classifier`` when chosen; the default (auto), or no
    choice (``None``: the model has no classifier), adds nothing. Adapting the classes only is
    ``--classes-only`` whatever the choice (its last layer is what learns)."""
    if mode == "classes":
        return ["--classes-only"]
    if mode not in ("adapt", "finetune") or method in (None, "auto"):
        return []
    return ["--no-cell-classifier"] if method == "none" else ["--classifier-adapt", method]


def start_choices(current_model: Path | None) -> list[tuple[str, str]]:
    """(text, mode) of the "Start from" list: adapting, its classes-only form where the model's classifier
    can learn alone, fine-tuning and a new model; only a new model when there is no current one."""
    choices = []
    if current_model is not None:
        name = current_model.name
        choices.append((f"Adapt the current model ({name})", "adapt"))
        if model_adapts_classes_alone(current_model):
            choices.append((f"Adapt {name}'s cell classes only (under a minute)", "classes"))
        choices.append((f"Fine-tune {name} with my own schedule", "finetune"))
    return choices + [("Train a new model from a backbone", "new")]


def fresh_model_name(store_dir: Path, now: _dt.datetime | None = None) -> str:
    """``bloodview-YYYYMMDD-HHMM`` not yet taken in ``store_dir`` (``-2``, ``-3`` … added when it is).

    Why: a second retrain within the same minute, or one after a cancelled run (its folder keeps the
    trainer's checkpoints), was refused with "a folder of that name exists" though the person never chose
    the name."""
    base = f"bloodview-{(now or _dt.datetime.now()):%Y%m%d-%H%M}"
    name, count = base, 1
    while (Path(store_dir) / name).exists():
        count += 1
        name = f"{base}-{count}"
    return name


def unknown_classes_note(mode: str, model: Path | None, images) -> str:
    """What adapting or fine-tuning ``model`` will do with cells of classes it lacks ("" when none).

    Why: ``train --init`` keeps the model's classes and stops, after loading TensorFlow, on a cell of
    another class ("… fine-tune with --reinit-heads", a flag the dialog does not offer). Red cells (left
    out as background) and general white-cell labels (``WBC``: "some white class") are not counted:
    the trainer takes those."""
    from bloodview.core.classes import is_red_cell_name, is_white_cell_name

    info = _model_info(model) if mode in ("adapt", "finetune") else None
    if info is None:
        return ""
    known = set(info.class_names)
    counts: dict[str, int] = {}
    for image in images:
        for cell in image.instances:
            name = cell.class_name
            if name not in known and not is_red_cell_name(name) and not is_white_cell_name(name):
                counts[name] = counts.get(name, 0) + 1
    if not counts:
        return ""
    names = ", ".join(f"{name} ({count})" for name, count in sorted(counts.items()))
    alone = model_adapts_classes_alone(model)
    adapt_classes = " or adapt its cell classes only, which leaves them out," if alone else ""
    return (f" Cells of classes {info.name} does not know: {names}. Adapting stops on them: give them a class it "
            f"knows,{adapt_classes} or train a new model from a backbone.")


def _model_info(model: Path | None):
    from bloodview.errors import ModelError
    from bloodview.model.store import read_model_info  # TF-free

    if model is None:
        return None
    try:
        return read_model_info(model)
    except ModelError:
        return None


def model_has_classifier(model: Path | None) -> bool:
    """Whether the model carries a cell classifier to adapt (read from its model.json)."""
    info = _model_info(model)
    return bool(info and info.cell_classifier)


def classifier_class_names(model: Path | None) -> list[str] | None:
    """The classes the model's cell classifier names (``None``: no classifier, or it cannot be read)."""
    from bloodview.errors import ModelError

    info = _model_info(model)
    try:
        spec = info.classifier_spec if info is not None else None
    except ModelError:
        return None
    return list(spec.class_names) if spec is not None else None


def model_adapts_classes_alone(model: Path | None) -> bool:
    """Whether ``bloodview train --classes-only`` can adapt the model: a cell classifier that carries the
    stored features of its own training cells (its replay file) to learn beside."""
    from bloodview.errors import ModelError

    info = _model_info(model)
    try:
        spec = info.classifier_spec if info is not None else None
    except ModelError:
        return False
    return bool(spec is not None and spec.replay_file)


def model_knows_red_cells(model: Path | None) -> bool:
    """Whether the model has a red-cell class (else checked red cells train as background)."""
    from bloodview.core.classes import is_red_cell_name

    info = _model_info(model)
    return bool(info and any(is_red_cell_name(n) for n in info.class_names))
