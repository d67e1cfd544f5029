"""The cell classifier: stored in model.json, trained by the CLI on real PBC images, used by prediction."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bloodview.core.instance import Instance, Source
from bloodview.errors import ModelError
from bloodview.model.classifier_spec import ClassifierSpec
from bloodview.model.store import MODEL_JSON, read_model_info

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "default"
CLASSES = ["basophil", "eosinophil", "erythroblast", "ig", "lymphocyte", "monocyte", "neutrophil", "platelet"]


def spec_dict(**changes) -> dict:
    return {"backbone": "mobilenetv3large", "class_names": ["a", "b"], "input_size": 64, "pixel_size_um": 0.2} | changes


def test_spec_round_trips_and_rejects_malformed_fields():
    spec = ClassifierSpec.from_dict(spec_dict(temperature=1.5))
    assert ClassifierSpec.from_dict(spec.to_dict()) == spec
    assert spec.field_um == pytest.approx(12.8)
    assert spec.colour == "raw" and spec.views == 1  # classifiers written before these fields
    assert ClassifierSpec.from_dict(spec_dict(colour="stretch")).colour == "stretch"
    for bad, message in [
        (spec_dict(colour="sepia"), "colour"),
        (spec_dict(views=3), "views"),
        ([], "must be an object"),
        ({"backbone": "x"}, "lacks"),
        (spec_dict(input_size="big"), "malformed"),
        (spec_dict(temperature=0), "positive"),
        (spec_dict(weights_file="../../etc/passwd"), "plain file name"),
    ]:
        with pytest.raises(ModelError, match=message):
            ClassifierSpec.from_dict(bad)


def detector_only(folder: Path) -> Path:
    """A copy of the shipped model without its cell classifier (as every model before it)."""
    shutil.copytree(DEFAULT_MODEL, folder, ignore=shutil.ignore_patterns("cell_classifier*"))
    values = json.loads((folder / MODEL_JSON).read_text())
    values.pop("cell_classifier", None)
    (folder / MODEL_JSON).write_text(json.dumps(values))
    return folder


def test_model_json_without_a_classifier_reads_as_before_and_a_broken_one_names_the_file(tmp_path):
    folder = detector_only(tmp_path / "m")
    values = json.loads((folder / MODEL_JSON).read_text())
    info = read_model_info(folder)
    assert info.classifier_spec is None and "cell_classifier" not in info.to_dict()
    values["cell_classifier"] = {"backbone": "mobilenetv3large"}
    (folder / MODEL_JSON).write_text(json.dumps(values))
    with pytest.raises(ModelError, match=r"model\.json.*lacks"):
        read_model_info(folder)


def test_temperature_fitted_on_overconfident_logits_softens_them():
    from bloodview.model.cell_classifier import fit_temperature, softmax

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 400)
    logits = rng.normal(0, 1, (400, 4))
    logits[np.arange(400), labels] += 2.0
    logits *= 5.0  # right 3 times in 4 but ~1.0 confident
    t = fit_temperature(logits, labels)
    assert t > 2.0

    def nll(temp):
        return -np.log(softmax(logits, temp)[np.arange(400), labels]).mean()

    assert nll(t) < nll(1.0)
    assert fit_temperature(logits / 5.0 * 0.2, labels) < 1.0  # under-confident: sharpened


@pytest.fixture(scope="module")
def tiny_classifier_model(tmp_path_factory, pbc_dir):
    """The shipped detector plus a classifier trained 1 epoch on 48 real PBC images (64-px crops)."""
    from bloodview.cli.main import main

    root = tmp_path_factory.mktemp("cls")
    data = root / "pbc"
    rows = ["file,class,split"]
    for name in CLASSES:
        (data / name).mkdir(parents=True)
        for k, file in enumerate(sorted((pbc_dir / name).iterdir())[:6]):
            shutil.copy(file, data / name / file.name)
            rows.append(f"{file.name},{name},{'val' if k == 0 else 'train'}")
    (data / "manifest.csv").write_text("\n".join(rows) + "\n")
    out = root / "model"
    code = main(["train-classifier", "--model", str(DEFAULT_MODEL), "--data", str(data), "--out", str(out),
                 "--epochs", "1", "--input-size", "64", "--crop-pixel-size", "0.5", "--pixel-size", "0.1029"])
    assert code == 0
    return out, data


def test_train_classifier_writes_weights_and_a_described_classifier(tiny_classifier_model):
    out, _ = tiny_classifier_model
    info = read_model_info(out)
    spec = info.classifier_spec
    assert (out / spec.weights_file).is_file() and (out / "model.weights.h5").is_file()
    assert spec.class_names == CLASSES and spec.input_size == 64 and spec.pixel_size_um == 0.5
    assert spec.training["train_cells"] == 40 and spec.training["val_cells"] == 8
    assert spec.metrics["val"]["cells"] == 8 and spec.temperature > 0
    assert spec.training["history"][0]["epoch"] == 1
    assert (out / "checkpoints" / "cell_classifier_state.json").is_file()
    # the features of its training cells, replayed when it adapts to a lab (classifier_replay.py)
    from bloodview.model.classifier_replay import read_replay_bank

    features, labels = read_replay_bank(out / spec.replay_file, CLASSES)
    assert features.shape[0] == 40 and sorted(set(labels.tolist())) == list(range(8))  # 5 train cells per class
    # the source model is untouched
    assert read_model_info(DEFAULT_MODEL).cell_classifier != info.cell_classifier


def test_resume_goes_on_from_the_checkpoint(tiny_classifier_model, tmp_path):
    from bloodview.cli.main import main

    out, data = tiny_classifier_model
    copy = tmp_path / "model"
    shutil.copytree(out, copy)
    code = main(["train-classifier", "--model", str(copy), "--data", str(data), "--out", str(copy), "--resume",
                 "--epochs", "2", "--input-size", "64", "--crop-pixel-size", "0.5", "--pixel-size", "0.1029"])
    assert code == 0
    history = read_model_info(copy).classifier_spec.training["history"]
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[0] == read_model_info(out).classifier_spec.training["history"][0]


def test_fine_tuning_may_take_another_crop_size_and_starts_from_the_classifier(tiny_classifier_model, tmp_path):
    """The weights do not depend on the input size: a classifier can be fine-tuned at finer crops."""
    import keras

    from bloodview.cli.main import main
    from bloodview.model.cell_classifier import CellClassifier

    out, data = tiny_classifier_model
    finer = tmp_path / "finer"
    assert main(["train-classifier", "--model", str(out), "--data", str(data), "--out", str(finer),
                 "--start", "classifier", "--epochs", "1", "--learning-rate", "1e-9", "--input-size", "96",
                 "--crop-pixel-size", "0.33", "--pixel-size", "0.1029"]) == 0
    old, new = read_model_info(out).classifier_spec, read_model_info(finer).classifier_spec
    assert (new.input_size, new.pixel_size_um, old.input_size) == (96, 0.33, 64)
    assert new.training["start"] == "classifier"
    # at a learning rate of 1e-9 the weights are the start's: it was loaded, not trained from scratch
    # (BatchNorm's moving statistics do move in one epoch of training, so compare the other weights)
    before = CellClassifier.load(out, old).network
    after = CellClassifier.load(finer, new).network
    for a, b in zip(before.weights, after.weights):
        if "moving" not in a.path:
            np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=1e-5)
    assert after.input_shape[1:3] == (96, 96)


def test_a_finished_run_resumed_with_views_refits_its_temperature_without_training(tiny_classifier_model, tmp_path):
    from bloodview.cli.main import main

    out, data = tiny_classifier_model
    copy = tmp_path / "model"
    shutil.copytree(out, copy)
    assert main(["train-classifier", "--model", str(copy), "--data", str(data), "--out", str(copy), "--resume",
                 "--epochs", "1", "--views", "4", "--input-size", "64", "--crop-pixel-size", "0.5",
                 "--pixel-size", "0.1029"]) == 0
    before, after = read_model_info(out).classifier_spec, read_model_info(copy).classifier_spec
    assert after.views == 4 and before.views == 1
    assert after.training["history"] == before.training["history"]  # no epoch trained again
    assert after.training["settings"]["views"] == 4 and after.metrics["val"]["cells"] == 8
    from bloodview.model.cell_classifier import CellClassifier

    assert CellClassifier.load(copy, after).spec.views == 4


def test_prediction_takes_the_class_from_the_classifier_and_keeps_the_detectors_call(tiny_classifier_model, pbc_dir):
    from bloodview.model.predict import Predictor

    out, _ = tiny_classifier_model
    image = sorted((pbc_dir / "neutrophil").iterdir())[-1]
    plain = Predictor.load(out, cell_classifier=False).predict([image], pixel_size=0.1029)[0]
    predictor = Predictor.load(out)
    # Make the classifier certain of "monocyte" for every crop: its call must be what comes out.
    bias = predictor.classifier.network.get_layer("cell_logits").bias
    forced = np.zeros(len(CLASSES), np.float32)
    forced[CLASSES.index("monocyte")] = 1000.0
    bias.assign(forced)
    second = predictor.predict([image], pixel_size=0.1029)[0]
    assert plain and len(second) == len(plain)
    assert all("detector_class" not in one.extra for one in plain)
    assert any(one.class_name != "platelet" for one in plain)
    for before, after in zip(plain, second):
        if before.class_name == "platelet":  # the kind is the detector's: platelets stay as they were
            assert after.class_name == "platelet" and "detector_class" not in after.extra
            continue
        assert after.class_name == "monocyte" and after.extra["classifier_score"] == pytest.approx(1.0)
        assert after.score == pytest.approx(before.score)  # certain of the type: as sure as the detector of a cell
        assert after.extra["detector_class"] == before.class_name
        assert after.extra["detector_score"] == pytest.approx(before.score)
        assert np.array_equal(after.polygons[0], before.polygons[0])  # outlines are the detector's


def test_cells_of_classes_the_classifier_does_not_know_keep_the_detectors_call(tiny_classifier_model):
    from bloodview.model.cell_classifier import CellClassifier

    out, _ = tiny_classifier_model
    classifier = CellClassifier.load(out, read_model_info(out).classifier_spec)
    square = np.array([[10, 10], [60, 10], [60, 60], [10, 60]], float)
    red = Instance([square], "red cell", score=0.9, source=Source.MODEL)
    white = Instance([square + 100], "neutrophil", score=0.9, source=Source.MODEL)
    image = np.full((300, 300, 3), 200, np.uint8)
    result = classifier.reclassify(image, [red, white], image_um_per_px=0.2)
    assert result[0] is red
    assert result[1].id == white.id and result[1].extra["detector_class"] == "neutrophil"
    assert result[1].class_name in CLASSES


def test_the_classifier_names_the_white_cell_but_never_turns_a_white_cell_into_a_platelet(tiny_classifier_model):
    """The kind (platelet or nucleated cell) is the detector's: it sees size and neighbours, the crop does not."""
    from bloodview.model.cell_classifier import CellClassifier

    out, _ = tiny_classifier_model
    classifier = CellClassifier.load(out, read_model_info(out).classifier_spec)
    platelet_index = classifier.spec.class_names.index("platelet")
    # a classifier that always says "platelet" first and "monocyte" second
    preference = np.zeros(len(CLASSES), np.float32)
    preference[platelet_index], preference[CLASSES.index("monocyte")] = 5.0, 3.0
    classifier.logits = lambda crops: np.tile(preference, (len(crops), 1))
    square = np.array([[10, 10], [60, 10], [60, 60], [10, 60]], float)
    white = Instance([square], "neutrophil", score=0.9, source=Source.MODEL)
    platelet = Instance([square / 4 + 150], "platelet", score=0.8, source=Source.MODEL)
    image = np.full((300, 300, 3), 200, np.uint8)
    renamed_white, kept_platelet = classifier.reclassify(image, [white, platelet], image_um_per_px=0.2)
    assert renamed_white.class_name == "monocyte" and renamed_white.extra["detector_class"] == "neutrophil"
    from bloodview.model.cell_classifier import softmax

    whites = softmax(np.delete(preference, platelet_index), classifier.spec.temperature)
    # renormalised over the white classes, times the detector's belief that it is a white cell at all
    assert renamed_white.extra["classifier_score"] == pytest.approx(whites.max())
    assert renamed_white.score == pytest.approx(whites.max() * 0.9)
    assert kept_platelet is platelet  # nothing to choose among: the detector's call and score stand


def test_missing_classifier_weights_are_reported_naming_the_file(tiny_classifier_model, tmp_path):
    from bloodview.model.predict import Predictor

    out, _ = tiny_classifier_model
    copy = tmp_path / "model"
    shutil.copytree(out, copy)
    (copy / "cell_classifier.weights.h5").unlink()
    with pytest.raises(ModelError, match="cell_classifier.weights.h5"):
        Predictor.load(copy)


def test_predict_command_records_both_calls_and_can_leave_the_classifier_out(tiny_classifier_model, pbc_dir, tmp_path):
    from bloodview.cli.main import main

    out, _ = tiny_classifier_model
    image = sorted((pbc_dir / "lymphocyte").iterdir())[-1]
    runs = {}
    for name, flags in (("both", []), ("detector", ["--no-cell-classifier"])):
        target = tmp_path / f"{name}.json"
        assert main(["predict", str(image), "--model", str(out), "--out", str(target), "--pixel-size", "0.1029",
                     *flags]) == 0
        # the network's cells (the red-cell finder's red cells, source "bootstrap", are no call of either)
        runs[name] = [a for a in json.loads(target.read_text())["annotations"] if a["bloodview"]["source"] == "model"]
    assert runs["both"] and len(runs["both"]) == len(runs["detector"])
    assert all("detector_class" in json.dumps(a) for a in runs["both"])
    assert not any("detector_class" in json.dumps(a) for a in runs["detector"])


def test_fine_tuning_starts_from_the_models_own_classifier(tiny_classifier_model, tmp_path, capsys):
    from bloodview.cli.main import main

    out, data = tiny_classifier_model
    # a lab's few cells: only two of the classifier's eight classes
    lab = tmp_path / "lab"
    for name in ("neutrophil", "lymphocyte"):
        shutil.copytree(data / name, lab / name)
    target = tmp_path / "adapted"
    assert main(["train-classifier", "--model", str(out), "--data", str(lab), "--out", str(target),
                 "--start", "classifier", "--epochs", "1", "--pixel-size", "0.1029", "--jitter", "stains"]) == 0
    spec = read_model_info(target).classifier_spec
    assert spec.class_names == CLASSES and spec.input_size == 64 and spec.pixel_size_um == 0.5
    assert spec.training["start"] == "classifier" and spec.training["settings"]["learning_rate"] == 2e-4
    assert spec.training["train_cells"] == 12
    assert len(spec.training["history"]) == 1
    assert spec.colour == "raw" and spec.training["settings"]["colour"] == "raw"  # kept from the classifier
    assert main(["train-classifier", "--model", str(out), "--data", str(lab), "--out", str(tmp_path / "y"),
                 "--start", "classifier", "--pixel-size", "0.1029", "--colour", "stretch"]) == 1
    assert "trained on raw colours" in capsys.readouterr().err
    assert main(["train-classifier", "--model", str(detector_only(tmp_path / "plain")), "--data", str(lab), "--out",
                 str(tmp_path / "x"), "--start", "classifier", "--pixel-size", "0.1029"]) == 1
    assert "has no cell classifier to start from" in capsys.readouterr().err


def test_fine_tuning_a_model_adapts_its_cell_classifier_to_the_same_cells(tiny_classifier_model, tmp_path):
    """train --init of a model with a classifier writes a model whose classifier learnt the same cells;
    --no-cell-classifier (cell_classifier=False) writes the detector alone, as before."""
    from bloodview.model.classifier_adapt import MIN_STEPS, adaptation_steps
    from bloodview.model.predict import Predictor
    from bloodview.model.train import TrainOptions, train
    from tests.model.test_train import write_smears

    out, _ = tiny_classifier_model
    data = write_smears(tmp_path / "lab")
    common = dict(data=data, init=out, overrides={"epochs": 1, "steps_per_epoch": 1}, val_ratio=0.25,
                  pixel_size_um=0.1029)
    result = train(TrainOptions(out=tmp_path / "adapted", keep_start=1 / 3, classifier_adapt="whole", **common))
    info = read_model_info(result.model_dir)
    spec = info.classifier_spec
    assert spec is not None and spec.class_names == CLASSES and spec.input_size == 64
    assert spec.training["start"] == "classifier" and spec.training["recipe"] == "adapt"
    train_cells = spec.training["train_cells"]
    assert 0 < train_cells <= 5  # the neutrophils and platelets of the 3 training smears (one is held out)
    assert len(spec.training["history"]) == adaptation_steps(train_cells, 32) == MIN_STEPS  # 1 step per epoch
    assert spec.temperature == read_model_info(out).classifier_spec.temperature  # too few val cells to refit
    weights = result.model_dir / spec.weights_file
    assert weights.is_file() and weights.read_bytes() != (out / spec.weights_file).read_bytes()
    assert info.training["keep_start"]["networks"] == ["detector", "cell classifier"]  # both blended with the start
    predictor = Predictor.load(result.model_dir)
    found = predictor.predict([np.full((96, 96, 3), 230, np.uint8)], pixel_size=0.1029)
    assert isinstance(found[0], list)  # the adapted model loads and runs with its classifier

    plain = train(TrainOptions(out=tmp_path / "plain", cell_classifier=False, **common))
    assert read_model_info(plain.model_dir).classifier_spec is None
    assert not (plain.model_dir / spec.weights_file).exists()


def test_by_default_a_classifier_with_a_replay_file_adapts_its_last_layer_only(tiny_classifier_model, tmp_path):
    """classifier_replay.py: the backbone is kept (so the stored features stay valid for the next
    adaptation), the last layer learns the lab's cells beside the replayed ones, nothing is blended back."""
    import h5py

    from bloodview.model.train import TrainOptions, train
    from tests.model.test_train import write_smears

    out, _ = tiny_classifier_model
    data = write_smears(tmp_path / "lab")
    result = train(TrainOptions(data=data, init=out, overrides={"epochs": 1, "steps_per_epoch": 1}, val_ratio=0.25,
                                pixel_size_um=0.1029, keep_start=1 / 3, out=tmp_path / "adapted"))
    info = read_model_info(result.model_dir)
    spec = info.classifier_spec
    assert spec.training["recipe"] == "adapt-last-layer" and spec.training["from"] == str(out)
    assert 0 < spec.training["train_cells"] <= 5 and spec.training["replay_cells"] == 40
    assert spec.temperature == read_model_info(out).classifier_spec.temperature  # too few val cells to refit
    assert (result.model_dir / spec.replay_file).read_bytes() == (out / spec.replay_file).read_bytes()
    assert info.training["keep_start"]["networks"] == ["detector"]

    def arrays(path: Path) -> dict[str, np.ndarray]:
        found = {}
        with h5py.File(path, "r") as handle:
            handle.visititems(lambda name, item: found.__setitem__(name, np.array(item))
                              if isinstance(item, h5py.Dataset) else None)
        return found

    before, after = arrays(out / spec.weights_file), arrays(result.model_dir / spec.weights_file)
    before = {name: value for name, value in before.items() if "optimizer" not in name}  # training's state
    assert before.keys() <= after.keys()
    changed = [name for name in before if not np.array_equal(before[name], after[name])]
    # only the last layer moved: one kernel (features x 8 classes) and one bias (8 classes)
    shapes = sorted((after[name].shape for name in changed), key=len)
    assert len(changed) == 2 and shapes[0] == (8,) and len(shapes[1]) == 2 and shapes[1][1] == 8, changed


def test_classes_only_keeps_the_detector_and_teaches_the_classifier_the_cells(tiny_classifier_model, tmp_path, capsys):
    """train --init M --classes-only: the detector's weights are M's byte for byte, the classifier's last
    layer learnt the cells, model.json says so; a model without a classifier is refused, nothing written."""
    from bloodview.cli.main import main
    from bloodview.model.predict import Predictor
    from tests.model.test_train import write_smears

    out, _ = tiny_classifier_model
    data = write_smears(tmp_path / "lab")
    target = tmp_path / "models" / "classes"
    args = ["train", "--data", str(data), "--init", str(out), "--classes-only", "--val-ratio", "0.25",
            "--pixel-size", "0.1029", "--out"]
    assert main([*args, str(target)]) == 0
    info, start = read_model_info(target), read_model_info(out)
    assert info.training["recipe"] == "classes-only" and info.training["epochs"] == 0
    assert info.training["train"]["images"] == 3 and info.training["val"]["images"] == 1
    assert (target / "model.weights.h5").read_bytes() == (out / "model.weights.h5").read_bytes()
    assert info.config == start.config and info.class_names == start.class_names
    spec = info.classifier_spec
    assert spec.training["recipe"] == "adapt-last-layer" and 0 < spec.training["train_cells"] <= 5
    assert (target / spec.weights_file).read_bytes() != (out / spec.weights_file).read_bytes()
    assert (target / spec.replay_file).is_file()
    assert sorted(p.name for p in target.parent.iterdir()) == ["classes"]  # no staging folder left behind
    found = Predictor.load(target).predict([np.full((96, 96, 3), 230, np.uint8)], pixel_size=0.1029)
    assert isinstance(found[0], list)

    assert main([*args, str(target)]) == 1
    assert "already holds a model" in capsys.readouterr().err
    plain = detector_only(tmp_path / "plain")
    refused = tmp_path / "models" / "refused"
    assert main([*args, str(refused), "--init", str(plain)]) == 1
    assert "no cell classifier" in capsys.readouterr().err
    assert not refused.exists() and sorted(p.name for p in target.parent.iterdir()) == ["classes"]


@pytest.mark.parametrize("recipe", [None, "adapt-last-layer", "adapt"])
def test_a_platelet_too_big_to_be_one_is_named_by_a_classifier_that_learnt_a_lab(tiny_classifier_model, recipe):
    """A detector "platelet" 5 µm or more across (another lab's small lymphocyte) is named among all
    classes by an adapted classifier; a platelet-sized one, and any under the model's own classifier,
    keep the detector's call."""
    import dataclasses

    from bloodview.model.cell_classifier import PLATELET_MAX_UM, CellClassifier

    out, _ = tiny_classifier_model
    spec = read_model_info(out).classifier_spec
    spec = dataclasses.replace(spec, training={**spec.training, "recipe": recipe} if recipe else {})
    classifier = CellClassifier.load(out, spec)
    preference = np.zeros(len(CLASSES), np.float32)
    preference[CLASSES.index("lymphocyte")], preference[CLASSES.index("platelet")] = 5.0, 3.0
    classifier.logits = lambda crops: np.tile(preference, (len(crops), 1))
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    um = 0.2
    big = Instance([square * 8.0 / um + 20], "platelet", score=0.8, source=Source.MODEL)  # 9 µm across
    small = Instance([square * 3.0 / um + 150], "platelet", score=0.8, source=Source.MODEL)  # 3.4 µm
    assert 2 * np.sqrt(small.area / np.pi) * um < PLATELET_MAX_UM < 2 * np.sqrt(big.area / np.pi) * um
    image = np.full((300, 300, 3), 200, np.uint8)
    renamed, kept = classifier.reclassify(image, [big, small], image_um_per_px=um)
    assert kept is small
    if recipe is None:
        assert renamed is big
    else:
        assert renamed.class_name == "lymphocyte" and renamed.extra["detector_class"] == "platelet"
