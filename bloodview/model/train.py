"""Training a Mask R-CNN from a COCO instances file (``bloodview train``).

Flow: read the data -> settle the config (defaults < ``--init`` model < ``--config``
file < ``--backbone``/``--epochs``/``--steps-per-epoch`` < ``--set``; class names
from the data's categories unless ``--init``/``--config`` fix them) -> split
train/val -> a fine-tune with no schedule of its own takes the *adapt* recipe sized to
its training images (bloodview.model.recipes; ``--set`` still wins) -> choose the distribution strategy (several GPUs: MirroredStrategy)
-> build the network (from ``--init`` weights, or the ``--resume`` checkpoint)
-> ``model.fit`` with progress, TensorBoard, checkpoint and stop callbacks ->
write the model folder (weights + ``model.json``) -> with ``--init`` from a model
with a cell classifier, fine-tune that classifier on the same training cells and
store it beside the detector (bloodview.model.classifier_adapt; ``cell_classifier=False``
writes the detector alone).

Output folder ``--out``::

    model.weights.h5, model.json     the finished model (see bloodview.model.store)
    logs/                            TensorBoard: loss, val_loss, rpn_class_loss, ...
    checkpoints/                     last epoch: weights, optimizer, state.json, config.json

Fine-tuning (``--init``) keeps the init model's backbone and classes. When the
data has classes the init model lacks, training stops with a message naming both
lists, unless ``reinit_heads`` (``--reinit-heads``) is given: then the classes
come from the data and the class-specific output layers (class logits, box
deltas, mask logits) start afresh while everything else is loaded.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bloodview.core.annotation import Dataset
from bloodview.errors import FormatError, ModelError
from bloodview.io.atomic import atomic_write_json
from bloodview.model import callbacks as cb
from bloodview.model.config import MaskRCNNConfig
from bloodview.model.data import data_summary, make_dataset, prepare_records, split_images
from bloodview.model.glass_balance import training_glass_range
from bloodview.model.recipes import adaptation_recipe, wants_adaptation
from bloodview.model.blend import default_keep_start
from bloodview.model.store import MODEL_JSON, WEIGHTS_FILE, ModelInfo, read_model_info

log = logging.getLogger(__name__)


@dataclass
class TrainOptions:
    """Everything ``bloodview train`` takes; paths as given by the user."""

    data: Path
    out: Path
    images: Path | None = None
    backbone: str | None = None
    epochs: int | None = None
    steps_per_epoch: int | None = None
    init: Path | None = None
    config_file: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    resume: bool = False
    val_ratio: float | None = None
    reinit_heads: bool = False
    name: str | None = None
    seed: int = 0
    backbone_weights: str | None = None
    pixel_size_um: float | None = None  # µm per pixel of images whose annotation does not say
    devices: list[str] | None = None  # explicit replicas (tests); None = this machine's GPUs
    recipe: str | None = None  # "adapt" / "inherit"; None: adapt when fine-tuning without a schedule (recipes.py)
    ignore_classes: list[str] = field(default_factory=list)  # cells of these classes are left out (background)
    cell_classifier: bool = True  # with init: adapt init's cell classifier to the same cells (classifier_adapt.py)
    keep_start: float | None = None  # share of init's weights blended back in (blend.py); None: the adapt recipe's
    classifier_adapt: str = "auto"  # how init's cell classifier adapts (classifier_adapt.METHODS)
    classes_only: bool = False  # with init: adapt its cell classifier only, keep its detector (classes_only.py)


@dataclass
class TrainResult:
    """The written model folder, its metadata, the last epoch's losses and the trained network itself."""

    model_dir: Path
    info: ModelInfo
    final_losses: dict[str, float | None]
    epochs_done: int
    model: Any = None


# Said both ways: the app's Retrain runs this command and shows the message, and has no --reinit-heads.
NEW_CLASSES_HINT = (
    "To learn them, add --reinit-heads on the command line (the model's class list is then replaced by the "
    "data's) or, in the app, choose “Train a new model from a backbone”; otherwise relabel those cells "
    "to classes the model knows, or adapt its cell classes only (--classes-only; in the app “Adapt … cell "
    "classes only”), which leaves the unknown classes out"
)


# --- data and config ----------------------------------------------------------------------
def load_training_data(options: TrainOptions) -> tuple[Dataset, list[str]]:
    """The dataset and its category names (resolved to our class names, file order)."""
    from bloodview.io.coco import load_coco_with_ids

    dataset, _, categories = load_coco_with_ids(
        options.data, images_root=options.images, add_unknown_classes=True, check_images=False
    )
    names: list[str] = []
    for raw in categories.values():
        name = dataset.classes.resolve(raw)
        if name not in names:
            names.append(name)
    if not dataset.images:
        raise FormatError(options.data, "holds no images to train on")
    if options.ignore_classes:
        names = _drop_classes(dataset, names, options.ignore_classes)
    return dataset, names


def _drop_classes(dataset: Dataset, names: list[str], ignored: list[str]) -> list[str]:
    """Leave the cells of ``ignored`` classes out of training (e.g. BCCD's red-cell boxes for a
    model without a red-cell class): they become background like every unmarked cell."""
    wanted = {" ".join(n.lower().split()) for n in ignored}
    dropped = {n for n in names if n.lower() in wanted or dataset.classes[n].display_name.lower() in wanted}
    unknown = wanted - {n.lower() for n in dropped} - {dataset.classes[n].display_name.lower() for n in dropped}
    if unknown:
        raise FormatError(None, f"--ignore-class {', '.join(sorted(unknown))}: no such class in the data "
                                f"(its classes: {', '.join(names)})")
    removed = 0
    for image in dataset.images:
        for instance in [inst for inst in image.instances if inst.class_name in dropped]:
            image.remove(instance.id)
            removed += 1
    log.info("left out %d cell(s) of class(es) %s", removed, ", ".join(sorted(dropped)))
    return [n for n in names if n not in dropped]


def _leave_out_unlearnt_red_cells(dataset: Dataset, names: list[str], config: MaskRCNNConfig) -> list[str]:
    """Red cells a person checked, for a model without a red-cell class (a fine-tune keeps its
    classes): the classical red-cell finder counts them, the network need not learn them, so they
    train as background, as every unmarked red cell always has, instead of stopping the retrain."""
    from bloodview.core.classes import is_red_cell_name

    unlearnt = [n for n in names if is_red_cell_name(n) and n not in config.class_names]
    if not unlearnt:
        return names
    return _drop_classes(dataset, names, unlearnt)


def _model_classes(data_classes: list[str]) -> list[str]:
    """A new model's classes: the data's, except a general white-cell label (``WBC``) when the data
    also name two or more white classes; such cells then train as "some white class" (label_groups)."""
    from bloodview.core.classes import is_white_cell_name
    from bloodview.model.label_groups import white_class_ids

    specific = [n for n in data_classes if not is_white_cell_name(n)]
    return specific if len(specific) < len(data_classes) and len(white_class_ids(specific)) >= 2 else data_classes


def _with_classes(config: MaskRCNNConfig, names: list[str]) -> MaskRCNNConfig:
    return config.with_overrides({"class_names": list(names), "num_classes": len(names) + 1})


def resolve_config(options: TrainOptions, data_classes: list[str], init: ModelInfo | None) -> MaskRCNNConfig:
    """Defaults < init model < config file < command-line options < ``--set`` (see module doc)."""
    config = init.to_config() if init is not None else MaskRCNNConfig()
    classes_fixed = init is not None and not options.reinit_heads
    if options.config_file is not None:
        raw = _read_config_file(options.config_file)
        if "class_names" in {k.lower() for k in raw}:
            classes_fixed = True
            raw.setdefault("num_classes", len(raw.get("class_names", raw.get("CLASS_NAMES", []))) + 1)
        try:
            config = config.with_overrides(raw)
        except FormatError as exc:
            raise FormatError(options.config_file, exc.reason) from exc
    if not classes_fixed:
        if not data_classes:
            raise FormatError(options.data, "has no categories, so the model's classes are unknown")
        config = _with_classes(config, _model_classes(data_classes))
    changes: dict[str, Any] = {}
    if options.backbone:
        if init is not None and options.backbone != init.backbone:
            raise ModelError(
                f"--init model {init.path} uses backbone {init.backbone!r}; fine-tuning keeps it "
                f"(leave out --backbone or start without --init to train {options.backbone!r})"
            )
        changes["backbone"] = options.backbone
    elif init is None and options.config_file is None:
        raise ModelError("name a backbone with --backbone (see `bloodview models --backbones`)")
    if options.epochs is not None:
        changes["epochs"] = int(options.epochs)
    if options.steps_per_epoch is not None:
        changes["steps_per_epoch"] = int(options.steps_per_epoch)
    changes.update(options.overrides)
    if "class_names" in changes and "num_classes" not in changes:
        changes["num_classes"] = len(changes["class_names"]) + 1
    return config.with_overrides(changes) if changes else config


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FormatError(path, "config file not found") from exc
    except json.JSONDecodeError as exc:
        raise FormatError(path, f"not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(values, dict):
        raise FormatError(path, "a config file must hold a JSON object")
    return values


def check_output_folder(out: Path, resume: bool) -> None:
    """Never train over a finished model or an unfinished run by accident."""
    state = out / cb.CHECKPOINT_DIR / cb.STATE_FILE
    if resume:
        if not state.is_file():
            raise ModelError(f"{state}: no checkpoint to resume from (run without --resume first)")
        return
    if (out / MODEL_JSON).is_file():
        raise ModelError(f"{out}: already holds a model; choose another --out, or --resume to train it further")
    if state.is_file():
        raise ModelError(f"{out}: holds an unfinished training run; continue it with --resume or choose another --out")


# --- weights --------------------------------------------------------------------------------
def class_specific_variables(model) -> set[int]:
    """ids of the output layers' variables whose size depends on the number of classes."""
    n = int(model.settings.num_classes)
    heads = [getattr(model, "box_head", None), getattr(model, "mask_head", None)]
    return {id(v) for head in heads if head is not None for v in head.weights if int(v.shape[-1]) in (n, 4 * n)}


def load_init_weights(model, init: ModelInfo, config: MaskRCNNConfig, reinit_heads: bool) -> None:
    """Start from ``init``'s weights; with ``reinit_heads`` copy all but the class-specific outputs."""
    from bloodview.model.store_io import build_from_info, load_weights_checked

    if list(init.class_names) == list(config.class_names) and not reinit_heads:
        load_weights_checked(model, init.weights_path)
        return
    source = build_from_info(init)
    load_weights_checked(source, init.weights_path)
    skip = class_specific_variables(model)
    if len(source.weights) != len(model.weights):
        raise ModelError(f"{init.path}: its network does not match the one being trained")
    copied = 0
    for target, weights in zip(model.weights, source.weights):
        if id(target) in skip or tuple(target.shape) != tuple(weights.shape):
            continue
        target.assign(weights)
        copied += 1
    log.info("fine-tuning from %s: %d of %d weight tensors loaded, class-specific outputs start afresh",
             init.name, copied, len(model.weights))


# --- signals --------------------------------------------------------------------------------
@contextlib.contextmanager
def stop_on_signals(stop: threading.Event):
    """SIGINT/SIGTERM set ``stop`` (training saves a checkpoint and ends); a second SIGINT aborts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        log.warning("%s received: stopping after the current step and saving a checkpoint",
                    signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _with_adapted_classifier(info, init, out: Path, train_images, val_images, dataset, options: TrainOptions):
    """``info`` with ``init``'s cell classifier adapted to the same images (classifier_adapt.py), when it has one."""
    from bloodview.model import classifier_adapt

    try:
        entry = classifier_adapt.adapt_cell_classifier(init, out, train_images, val_images, dataset,
                                                       options.pixel_size_um, options.seed,
                                                       method=options.classifier_adapt)
    except classifier_adapt.NoScaledCells as exc:  # the detector is trained: keep it, say what was left out
        log.warning("the cell classifier is left out: %s", exc)
        entry = None
    if entry is None:
        return info
    info.cell_classifier = entry
    return info


def _blended_with_init(model, info, init, out: Path, keep: float, reinit_heads: bool):
    """The written model with ``keep`` of ``init``'s weights blended back in (bloodview.model.blend)."""
    from bloodview.model.blend import blend_with_start
    from bloodview.model.store_io import load_weights_checked

    if reinit_heads or list(init.class_names) != list(info.class_names):
        log.info("not blended with %s: its classes differ (--reinit-heads)", init.name)
        return info
    blend_with_start(out / WEIGHTS_FILE, init.weights_path, keep)
    load_weights_checked(model, out / WEIGHTS_FILE)
    new_spec, old_spec = info.classifier_spec, init.classifier_spec
    blended = ["detector"]
    if (new_spec is not None and old_spec is not None and new_spec.class_names == old_spec.class_names
            and new_spec.backbone == old_spec.backbone
            and (info.cell_classifier or {}).get("training", {}).get("from") == str(init.path)
            and (info.cell_classifier or {}).get("training", {}).get("recipe") != "adapt-last-layer"):
        # (a last layer refitted beside replayed cells keeps the old classes itself: not blended)
        blend_with_start(out / new_spec.weights_file, init.path / old_spec.weights_file, keep)
        blended.append("cell classifier")
    info.training["keep_start"] = {"share": round(keep, 4), "networks": blended}
    return info


# --- the run --------------------------------------------------------------------------------
def train(options: TrainOptions, progress: cb.ProgressWriter | None = None,
          stop: threading.Event | None = None, show_bar: bool = False) -> TrainResult:
    """Train as :class:`TrainOptions` says; raises ``cb.TrainingInterrupted`` after a stop's checkpoint."""
    if options.classes_only:
        from bloodview.model.classes_only import adapt_classes_only

        return adapt_classes_only(options, progress)
    out = Path(options.out)
    check_output_folder(out, options.resume)
    checkpoints = out / cb.CHECKPOINT_DIR
    dataset, data_classes = load_training_data(options)

    init = read_model_info(options.init) if options.init is not None else None
    if options.resume:
        config = MaskRCNNConfig.load(checkpoints / cb.CONFIG_FILE)
        resumed = {k: v for k, v in (("epochs", options.epochs), ("steps_per_epoch", options.steps_per_epoch)) if v}
        config = config.with_overrides(resumed) if resumed else config
        state = cb.read_checkpoint_state(checkpoints)
    else:
        config = resolve_config(options, data_classes, init)
        state = None

    data_classes = _leave_out_unlearnt_red_cells(dataset, data_classes, config)
    train_images, val_images = split_images(dataset.images, options.val_ratio, options.seed)
    if not train_images:
        raise FormatError(options.data, "has no training images left after the validation split")
    hint = NEW_CLASSES_HINT if init is not None else ""
    size = options.pixel_size_um
    recipe = None
    schedule_given = any(v is not None for v in (options.epochs, options.steps_per_epoch, options.config_file))
    if wants_adaptation(options.recipe, init is not None, schedule_given, options.resume):
        recipe = adaptation_recipe(len(train_images), config.batch_size)
        config = config.with_overrides({**recipe.config_changes(), **options.overrides})  # --set still wins
        log.info("%s", recipe.describe(len(train_images), config.batch_size))
    train_records = prepare_records(train_images, dataset.resolve_image, config, data_classes, hint=hint, pixel_size_um=size)
    val_records = prepare_records(val_images, dataset.resolve_image, config, data_classes, hint=hint, pixel_size_um=size)
    if state is None:
        config = training_glass_range(config, train_records, init, options.overrides)

    from bloodview.model.distribute import configure_precision, select_strategy
    from bloodview.model.maskrcnn import build_maskrcnn

    strategy = select_strategy(options.devices)
    replicas = int(strategy.num_replicas_in_sync)
    if replicas != config.gpu_count:
        config = config.with_overrides({"gpu_count": replicas})
    configure_precision(config.mixed_precision)
    with strategy.scope():
        model = build_maskrcnn(config, backbone_weights=options.backbone_weights if not (init or state) else None)
        if not config.train_backbone_weights:
            model.backbone.trainable = False  # before a checkpoint's optimizer is rebuilt for the same variables
        if state is not None:
            state = cb.restore_checkpoint(model, checkpoints)
        elif init is not None:
            load_init_weights(model, init, config, options.reinit_heads)
    initial_epoch = int(state["epoch"]) if state else 0

    out.mkdir(parents=True, exist_ok=True)
    checkpoints.mkdir(parents=True, exist_ok=True)
    if state is None:
        atomic_write_json(checkpoints / cb.CONFIG_FILE, config.to_dict(), backup=False)

    epochs, steps = int(config.epochs), int(config.steps_per_epoch)
    batch = config.batch_size
    log.info("training %s (%s) on %d images (%d val), %d replica(s), batch %d, epochs %d..%d of %d steps",
             config.backbone, ", ".join(config.class_names), len(train_records), len(val_records), replicas, batch,
             initial_epoch + 1, epochs, steps)
    train_data = make_dataset(None, None, config, training=True, seed=options.seed + initial_epoch,
                              batch_size=batch, records=train_records)
    val_data, val_steps = None, None
    if val_records:
        val_data = make_dataset(None, None, config, training=False, repeat=True, batch_size=batch,
                                records=val_records)
        val_steps = max(1, min(int(config.validation_steps), -(-len(val_records) // batch)))

    stop = stop or threading.Event()
    clock = cb.StepClock(epochs, steps, batch, initial_epoch)
    callbacks: list = [cb.LossGuard(), cb.TensorBoardLosses(out / "logs")]
    if progress is not None:
        callbacks.append(cb.ProgressLines(progress, clock, config.backbone, out))
    if show_bar:
        callbacks.append(cb.TqdmProgress(epochs, steps))
    callbacks.append(cb.Checkpointer(checkpoints, epochs, stop, clock))

    final: dict[str, float | None] = {}
    if initial_epoch < epochs:
        with stop_on_signals(stop):
            history = model.fit(
                train_data, epochs=epochs, initial_epoch=initial_epoch, steps_per_epoch=steps,
                validation_data=val_data, validation_steps=val_steps, callbacks=callbacks, verbose=0,
                shuffle=False,  # the tf.data pipeline shuffles
            )
        final = {k: (v[-1] if v else None) for k, v in history.history.items()}
        final = {**cb.clean_losses(final), **{f"val_{k}": v for k, v in cb.clean_losses(final, "val_").items()}}
    elif state is not None:
        log.info("the checkpoint already has all %d epochs; writing the model", epochs)
        final = {**(state.get("losses") or {}), **{f"val_{k}": v for k, v in (state.get("val_losses") or {}).items()}}

    from bloodview.model.store import write_model_info
    from bloodview.model.store_io import save_model

    summary = {
        "data": str(options.data),
        "images_root": str(options.images) if options.images else None,
        "train": data_summary(train_images),
        "val": data_summary(val_images),
        "epochs": epochs,
        "steps_per_epoch": steps,
        "batch_size": batch,
        "replicas": replicas,
        "init": str(options.init) if options.init else None,
        "recipe": recipe.name if recipe is not None else None,
    }
    info = save_model(model, config, out, name=options.name or out.name, training=summary,
                      final_losses={k: v for k, v in final.items() if v is not None}, write_info=False)
    # model.json is written last: a run stopped while its classifier adapts is an unfinished run
    # (`bloodview models` does not list it; --resume finishes it), not a model without its classifier
    if init is not None and options.cell_classifier and not options.reinit_heads:
        info = _with_adapted_classifier(info, init, out, train_images, val_images, dataset, options)
    keep = options.keep_start
    if keep is None:
        keep = default_keep_start(len(train_images)) if recipe is not None else 0.0
    if init is not None and keep > 0:
        info = _blended_with_init(model, info, init, out, keep, options.reinit_heads)
    write_model_info(info, out)
    if progress is not None:
        progress.emit("done", model_dir=str(out), final_losses=final)
    return TrainResult(out, info, final, epochs, model)
