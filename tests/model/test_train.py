"""Training runs end to end on a tiny network: outputs, progress lines, resume, stop, fine-tuning."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance
from bloodview.errors import FormatError, ModelError
from bloodview.io.coco import save_coco

REPO = Path(__file__).resolve().parents[2]
TINY = Path(__file__).with_name("tiny_model.json")
LOSSES = {"loss", "rpn_class_loss", "rpn_bbox_loss", "class_loss", "bbox_loss", "mask_loss"}


def disc(cx: float, cy: float, r: float) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)


def write_smears(folder: Path, classes=("neutrophil", "platelet"), extra_class: str | None = None) -> Path:
    """Four small synthetic smears (one without cells) and their COCO file."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    catalogue = ClassCatalogue([])
    for name in (*classes, *([extra_class] if extra_class else [])):
        catalogue.add(name)
    images = []
    layouts = [(80, 60, [(20, 20, 10, 0), (55, 35, 6, 1)]), (64, 64, [(30, 30, 12, 0)]), (50, 70, []),
               (90, 60, [(25, 30, 9, 1), (65, 30, 11, 0)])]
    for k, (w, h, cells) in enumerate(layouts):
        image = np.full((h, w, 3), (235, 215, 225), np.uint8)
        instances = []
        for cx, cy, r, c in cells:
            cv2.circle(image, (cx, cy), r, (120, 60, 160) if c == 0 else (200, 90, 90), -1)
            name = extra_class if (extra_class and k == 0) else classes[c]
            instances.append(Instance(disc(cx + 0.5, cy + 0.5, r + 0.5), name))
        Image.fromarray(image).save(folder / f"smear{k}.png")
        images.append(ImageAnnotation(Path(f"smear{k}.png"), w, h, instances))
    return save_coco(Dataset(images, catalogue, folder), folder / "train.json")


def options(data: Path, out: Path, **changes):
    from bloodview.model.backbones import DEFAULT_FAST_BACKBONE
    from bloodview.model.train import TrainOptions

    values = dict(data=data, out=out, backbone=DEFAULT_FAST_BACKBONE, config_file=TINY, epochs=1,
                  steps_per_epoch=2, val_ratio=0.25)
    values.update(changes)
    return TrainOptions(**values)


def events(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from bloodview.model.callbacks import ProgressWriter
    from bloodview.model.train import train

    root = tmp_path_factory.mktemp("train")
    data = write_smears(root / "data")
    stream = io.StringIO()
    result = train(options(data, root / "model"), progress=ProgressWriter(stream))
    return result, data, stream.getvalue()


def test_one_epoch_writes_model_checkpoint_logs_and_progress(trained):
    result, _, text = trained
    out = result.model_dir
    assert (out / "model.weights.h5").stat().st_size > 0
    info = json.loads((out / "model.json").read_text())
    assert info["class_names"] == ["neutrophil", "platelet"] and info["image_size"] == 64
    assert info["training"]["train"]["images"] == 3 and info["training"]["val"]["images"] == 1
    assert set(info["versions"]) >= {"bloodview", "keras", "tensorflow"}
    assert LOSSES | {"val_loss"} <= set(info["final_losses"])
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == 1 and state["optimizer_step"] == 2 and not state["interrupted"]
    assert (out / "checkpoints" / "last.weights.h5").is_file() and (out / "checkpoints" / "optimizer.npz").is_file()
    assert list((out / "logs").glob("events.out.tfevents.*"))
    lines = events(text)
    assert [e["event"] for e in lines] == ["start", "step", "step", "epoch", "done"]
    start, step, _, epoch, done = lines
    assert start == {"event": "start", "epochs": 1, "steps": 2, "backbone": info["backbone"], "model_dir": str(out)}
    assert set(step) == {"event", "epoch", "epochs", "step", "steps", "losses", "images_per_s", "eta_s"}
    assert step["epoch"] == 1 and step["step"] == 1 and set(step["losses"]) == LOSSES
    assert set(epoch) == {"event", "epoch", "epochs", "losses", "val_losses", "eta_s"}
    assert set(epoch["val_losses"]) == LOSSES and epoch["eta_s"] == 0
    assert done["model_dir"] == str(out) and done["final_losses"]["loss"] == pytest.approx(info["final_losses"]["loss"])


def test_tensorboard_has_the_paper_curves(trained):
    from bloodview.model.callbacks import read_event_scalars

    (path,) = (trained[0].model_dir / "logs").glob("events.out.tfevents.*")
    scalars = read_event_scalars(path)
    assert LOSSES | {"val_loss", "val_mask_loss"} <= set(scalars)
    assert scalars["loss"][0][0] == 1  # one point per epoch, 1-based
    info = json.loads((trained[0].model_dir / "model.json").read_text())
    assert scalars["loss"][-1][1] == pytest.approx(info["final_losses"]["loss"], rel=1e-5)


def test_resume_continues_at_epoch_two(trained, tmp_path):
    from bloodview.model.callbacks import ProgressWriter
    from bloodview.model.train import train

    result, data, _ = trained
    out = tmp_path / "model"
    shutil.copytree(result.model_dir, out)
    stream = io.StringIO()
    train(options(data, out, resume=True, epochs=2), progress=ProgressWriter(stream))
    lines = events(stream.getvalue())
    assert {e["epoch"] for e in lines if e["event"] in ("step", "epoch")} == {2}
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == 2 and state["optimizer_step"] == 4  # the optimizer went on counting


def test_existing_model_is_not_overwritten(trained):
    from bloodview.model.train import train

    result, data, _ = trained
    with pytest.raises(ModelError, match="already holds a model"):
        train(options(data, result.model_dir))


def test_class_unknown_to_the_init_model_is_refused(trained, tmp_path):
    from bloodview.model.data import ClassMismatchError
    from bloodview.model.train import train

    data = write_smears(tmp_path / "data", extra_class="lymphocyte")
    with pytest.raises(ClassMismatchError) as err:
        train(options(data, tmp_path / "tuned", init=trained[0].model_dir, backbone=None, config_file=None))
    message = str(err.value)
    assert "'lymphocyte'" in message and "neutrophil, platelet" in message and "--reinit-heads" in message
    # the app's Retrain shows this message and has no --reinit-heads: say what it does and the app's ways out
    assert "class list is then replaced by the data's" in message
    assert "Train a new model from a backbone" in message and "relabel" in message and "classes only" in message


def test_a_run_stopped_while_its_classifier_adapts_is_unfinished_not_a_model(trained, tmp_path, monkeypatch, capsys):
    """The detector is written before the cell classifier adapts; model.json used to be written with it,
    so a Retrain cancelled then left a model without its classifier that `bloodview models` listed and
    that refused --resume's rerun as "already holds a model". model.json is now written last."""
    from bloodview.cli.main import main
    from bloodview.model import classifier_adapt
    from bloodview.model.train import train

    result, data, _ = trained

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # what the app's Cancel does mid-adaptation, as far as the folder can tell

    monkeypatch.setattr(classifier_adapt, "adapt_cell_classifier", killed)
    store = tmp_path / "store"
    out = store / "tuned"
    common = dict(init=result.model_dir, backbone=None, config_file=None, overrides={"epochs": 1, "steps_per_epoch": 1})
    with pytest.raises(KeyboardInterrupt):
        train(options(data, out, **common))
    assert (out / "checkpoints" / "state.json").is_file() and not (out / "model.json").exists()
    assert main(["models", "--store", str(store)]) == 0
    assert "no models in" in capsys.readouterr().out

    with pytest.raises(ModelError, match="unfinished training run; continue it with --resume or choose another --out"):
        train(options(data, out, **common))
    monkeypatch.undo()
    train(options(data, out, resume=True, **common))
    assert (out / "model.json").is_file()


def test_reinit_heads_keeps_shared_weights_and_renews_class_outputs(trained):
    from bloodview.model.maskrcnn import build_maskrcnn
    from bloodview.model.store import read_model_info
    from bloodview.model.train import _with_classes, class_specific_variables, load_init_weights

    init = read_model_info(trained[0].model_dir)
    config = _with_classes(init.to_config(), ["neutrophil", "platelet", "lymphocyte"])
    model = build_maskrcnn(config)
    load_init_weights(model, init, config, reinit_heads=True)
    source = trained[0].model  # the network whose weights were saved
    renewed = class_specific_variables(model)
    assert renewed and len(renewed) < len(model.weights)
    for new, old in zip(model.weights, source.weights):
        if id(new) not in renewed:
            assert np.array_equal(np.asarray(new), np.asarray(old)), new.path
        else:
            assert new.shape != old.shape or not np.array_equal(np.asarray(new), np.asarray(old))


def test_sigterm_stops_with_a_checkpoint(tmp_path):
    from bloodview.model.backbones import DEFAULT_FAST_BACKBONE

    data = write_smears(tmp_path / "data")
    out = tmp_path / "model"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "bloodview", "train", "--data", str(data), "--backbone", DEFAULT_FAST_BACKBONE,
               "--config", str(TINY), "--epochs", "3", "--steps-per-epoch", "1000", "--out", str(out),
               "--progress", "jsonl", "--val-ratio", "0"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    lines = []
    deadline = time.monotonic() + 240
    try:
        for line in process.stdout:
            lines.append(json.loads(line))
            if lines[-1]["event"] == "step" and lines[-1]["step"] == 2:
                process.send_signal(signal.SIGTERM)
                break
            assert time.monotonic() < deadline, "no training step within 4 minutes"
        rest = process.stdout.read()
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    lines += events(rest)
    assert code == 130
    assert lines[-1]["event"] == "error" and "--resume" in lines[-1]["message"]
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    assert state["interrupted"] and state["epoch"] == 0 and state["optimizer_step"] >= 2
    assert (out / "checkpoints" / "last.weights.h5").stat().st_size > 0
    assert not (out / "model.json").exists()


def test_progress_lines_are_strict_json_and_eta_counts_down():
    from bloodview.model.callbacks import ProgressWriter, StepClock, clean_losses

    stream = io.StringIO()
    ProgressWriter(stream).emit("step", losses=clean_losses({"loss": float("nan"), "mask_loss": np.float32(0.5),
                                                              "val_loss": 1.0}))
    line = json.loads(stream.getvalue())  # strict: NaN would not parse in other languages
    assert line == {"event": "step", "losses": {"loss": None, "mask_loss": 0.5}}
    clock = StepClock(epochs=2, steps=10, batch_size=2)
    clock.durations.extend([0.5, 0.5, 0.5])
    assert clock.images_per_s() == pytest.approx(4.0)
    assert clock.eta(1, 10) == pytest.approx(5.0) and clock.eta(2, 10) == 0
    clock.val_seconds = 3.0
    assert clock.eta(1, 5) == pytest.approx(15 * 0.5 + 2 * 3.0)


def test_fine_tuning_without_a_schedule_takes_the_adapt_recipe(trained, tmp_path):
    """train --init M (no --epochs/--steps-per-epoch/--config) adapts; --set still wins over the recipe."""
    from bloodview.model.recipes import LEARNING_RATE
    from bloodview.model.train import train

    _, data, _ = trained
    result = train(options(data, tmp_path / "adapted", init=trained[0].model_dir, backbone=None, config_file=None,
                           epochs=None, steps_per_epoch=None, overrides={"epochs": 1, "steps_per_epoch": 1}))
    info = json.loads((result.model_dir / "model.json").read_text())
    assert info["training"]["recipe"] == "adapt"
    assert info["config"]["learning_rate"] == LEARNING_RATE  # from the recipe
    assert info["training"]["epochs"] == 1 and info["training"]["steps_per_epoch"] == 1  # from --set


def test_keep_start_blends_a_third_of_the_start_back_in(trained, tmp_path, monkeypatch):
    """--keep-start 1/3: (2/3) fine-tuned + (1/3) starting weights, on disk and in the returned network."""
    import bloodview.model.blend as blend
    from bloodview.model.blend import KEEP_START
    from bloodview.model.train import train

    unblended = {}
    real = blend.blend_with_start

    def spy(tuned, start, keep_start):
        unblended[Path(tuned).name] = _arrays(Path(tuned))
        return real(tuned, start, keep_start)

    monkeypatch.setattr(blend, "blend_with_start", spy)
    _, data, _ = trained
    result = train(options(data, tmp_path / "adapted", init=trained[0].model_dir, backbone=None, config_file=None,
                           epochs=None, steps_per_epoch=None, keep_start=KEEP_START,
                           overrides={"epochs": 1, "steps_per_epoch": 2}))
    info = json.loads((result.model_dir / "model.json").read_text())
    assert info["training"]["keep_start"] == {"share": round(KEEP_START, 4), "networks": ["detector"]}
    start, tuned = _arrays(trained[0].model_dir / "model.weights.h5"), unblended["model.weights.h5"]
    written = _arrays(result.model_dir / "model.weights.h5")
    assert written.keys() == start.keys() and any(not np.allclose(tuned[k], start[k]) for k in start)
    for key in start:
        np.testing.assert_allclose(written[key], (1 - KEEP_START) * tuned[key] + KEEP_START * start[key],
                                   rtol=1e-5, atol=1e-6)
    in_memory = [np.asarray(v) for v in result.model.weights]
    reloaded = _network_weights(result.model_dir)
    assert all(np.allclose(a, b) for a, b in zip(in_memory, reloaded))


def test_checked_red_cells_do_not_stop_a_retrain_of_a_model_without_a_red_cell_class(trained, tmp_path, caplog):
    """The app finds red cells classically; a lab that checks them and retrains the default model (no red-cell
    class) gets its retrain, with the red cells as background, as they always were."""
    from bloodview.model.train import train

    data = write_smears(tmp_path / "data", extra_class="RBC")
    with caplog.at_level("INFO", logger="bloodview.model.train"):
        result = train(options(data, tmp_path / "tuned", init=trained[0].model_dir, backbone=None, config_file=None,
                               epochs=None, steps_per_epoch=None, overrides={"epochs": 1, "steps_per_epoch": 1}))
    assert list(result.info.class_names) == ["neutrophil", "platelet"]
    assert "left out 2 cell(s) of class(es) rbc" in caplog.text.lower()


def test_a_few_images_adapt_without_a_blend_by_default(trained, tmp_path):
    """Below BLEND_FROM_IMAGES training images the adapt recipe writes the fine-tune as it ended."""
    from bloodview.model.blend import BLEND_FROM_IMAGES, KEEP_START, default_keep_start
    from bloodview.model.train import train

    assert default_keep_start(BLEND_FROM_IMAGES - 1) == 0.0 and default_keep_start(BLEND_FROM_IMAGES) == KEEP_START
    _, data, _ = trained
    result = train(options(data, tmp_path / "plain", init=trained[0].model_dir, backbone=None, config_file=None,
                           epochs=None, steps_per_epoch=None, overrides={"epochs": 1, "steps_per_epoch": 1}))
    training = json.loads((result.model_dir / "model.json").read_text())["training"]
    assert training["recipe"] == "adapt" and "keep_start" not in training


def _arrays(path: Path) -> dict[str, np.ndarray]:
    """The float arrays of a weights file by their place in it, optimizer state left out."""
    import h5py

    found = {}
    with h5py.File(path, "r") as handle:
        def visit(name, item):
            if isinstance(item, h5py.Dataset) and not name.startswith("optimizer") and item.dtype.kind == "f":
                found[name] = item[()].astype(np.float64)
        handle.visititems(visit)
    return found


def _network_weights(model_dir: Path) -> list[np.ndarray]:
    from bloodview.model.store_io import load_model

    model, _ = load_model(model_dir)
    return [np.asarray(v) for v in model.weights]


def test_a_schedule_of_ones_own_is_kept(trained, tmp_path):
    from bloodview.model.train import train

    _, data, _ = trained
    result = train(options(data, tmp_path / "tuned", init=trained[0].model_dir, backbone=None, config_file=None,
                           epochs=1, steps_per_epoch=1))
    info = json.loads((result.model_dir / "model.json").read_text())
    assert info["training"]["recipe"] is None and info["config"]["learning_rate"] == trained[0].info.config["learning_rate"]


def test_a_frozen_backbone_keeps_its_weights_while_the_heads_learn(trained, tmp_path):
    """--set train_backbone_weights=false: the loaded backbone is not trained; the rest is."""
    from bloodview.model.train import train

    _, data, _ = trained
    start = trained[0].model
    result = train(options(data, tmp_path / "heads", init=trained[0].model_dir, backbone=None, config_file=None,
                           epochs=1, steps_per_epoch=2, overrides={"train_backbone_weights": False}))
    tuned = result.model
    backbone, heads = {id(v) for v in tuned.backbone.weights}, {id(v) for v in tuned.box_head.weights}
    pairs = list(zip(tuned.weights, start.weights))
    assert all(new.shape == old.shape for new, old in pairs)
    kept = [np.array_equal(np.asarray(new), np.asarray(old)) for new, old in pairs if id(new) in backbone]
    assert kept and all(kept)
    assert any(not np.array_equal(np.asarray(new), np.asarray(old)) for new, old in pairs if id(new) in heads)


def test_ignored_classes_are_left_out_and_an_unknown_one_is_named(tmp_path):
    from bloodview.model.train import load_training_data

    data = write_smears(tmp_path / "data", extra_class="rbc")
    dataset, names = load_training_data(options(data, tmp_path / "m", ignore_classes=["RBC"]))
    assert names == ["neutrophil", "platelet"]
    assert all(inst.class_name != "rbc" for image in dataset.images for inst in image.instances)
    assert sum(len(image.instances) for image in dataset.images) == 3  # smear0's two cells were the rbc ones
    with pytest.raises(FormatError, match="--ignore-class basket cell: no such class"):
        load_training_data(options(data, tmp_path / "m", ignore_classes=["basket cell"]))


def test_wbc_boxes_train_as_some_white_class_of_a_new_model(tmp_path):
    """A new model learns the data's white classes; their 'WBC' cells teach only 'a white cell'."""
    from bloodview.model.train import train

    data = write_smears(tmp_path / "data", classes=("neutrophil", "lymphocyte"), extra_class="WBC")
    config = json.loads(TINY.read_text())
    del config["class_names"]
    (tmp_path / "tiny.json").write_text(json.dumps(config))
    result = train(options(data, tmp_path / "model", config_file=tmp_path / "tiny.json"))
    info = json.loads((result.model_dir / "model.json").read_text())
    assert info["class_names"] == ["neutrophil", "lymphocyte"]
    assert all(np.isfinite(v) for v in result.final_losses.values() if v is not None)


def test_a_fine_tune_keeps_its_trained_detector_when_no_cell_has_a_scale(monkeypatch, caplog):
    """The detector has trained for minutes by the time the classifier finds every image unscaled: the run
    ends with the detector and a warning naming the cause and --pixel-size, not with an error."""
    from types import SimpleNamespace

    from bloodview.model import classifier_adapt
    from bloodview.model.train import _with_adapted_classifier

    def unscaled(*args, **kwargs):
        raise classifier_adapt.NoScaledCells(3, 3)

    monkeypatch.setattr(classifier_adapt, "adapt_cell_classifier", unscaled)
    info = SimpleNamespace(cell_classifier=None)
    options = SimpleNamespace(pixel_size_um=None, seed=0, classifier_adapt="auto")
    assert _with_adapted_classifier(info, None, Path("out"), [], [], None, options) is info
    assert info.cell_classifier is None
    assert "cell classifier is left out: 3 of 3 training images were skipped" in caplog.text
    assert "--pixel-size" in caplog.text
