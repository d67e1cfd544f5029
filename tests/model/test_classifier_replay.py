"""Adapting a cell classifier's last layer beside replayed features (bloodview/model/classifier_replay.py)."""

from __future__ import annotations

import numpy as np
import pytest

from bloodview.errors import ModelError
from bloodview.model.classifier_replay import choose_replay_cells, fit_last_layer, read_replay_bank, write_replay_bank


def blobs(rng, centres: np.ndarray, labels: list[int], spread: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    y = np.array(labels)
    return centres[y] + rng.normal(0, spread, (len(y), centres.shape[1])), y


def accuracy(layer, x, y) -> float:
    kernel, bias = layer
    return float(np.mean(np.argmax(x @ kernel + bias, axis=1) == y))


def test_the_new_layer_learns_the_lab_and_replay_keeps_the_classes_the_lab_lacks():
    """Three classes the start tells apart; the new lab shows class 0 where the start reads class 2
    (another stain) and has no cells of class 2. Refitted on the lab alone the layer calls every
    class-2 cell 0; beside the replayed features it learns the lab and keeps class 2."""
    rng = np.random.default_rng(0)
    dims = 6
    centres = np.eye(3, dims) * 3.0
    start = (centres.T.copy(), np.zeros(3))  # logits = distance-like scores to the three centres
    old_x, old_y = blobs(rng, centres, [0, 1, 2] * 40)
    assert accuracy(start, old_x, old_y) > 0.97
    lab_centres = centres.copy()
    lab_centres[0] = centres[2] + np.r_[0, 0, 0, 1.5, 0, 0]  # the lab's class 0 near the old class 2
    lab_x, lab_y = blobs(rng, lab_centres, [0, 1] * 30)
    assert accuracy(start, lab_x, lab_y) < 0.6  # the start fails the lab

    alone = fit_last_layer(start, (lab_x, lab_y), None)
    replayed = fit_last_layer(start, (lab_x, lab_y), (old_x, old_y))
    assert accuracy(alone, lab_x, lab_y) > 0.95 and accuracy(replayed, lab_x, lab_y) > 0.95
    class_2 = old_y == 2
    assert accuracy(alone, old_x[class_2], old_y[class_2]) < 0.5  # forgotten
    assert accuracy(replayed, old_x[class_2], old_y[class_2]) > 0.9  # kept
    assert accuracy(replayed, old_x, old_y) > 0.9


def test_replay_cells_are_a_seeded_choice_capped_per_class_and_keep_every_class():
    labels = [0] * 200 + [1] * 30 + [2] * 5
    chosen = choose_replay_cells(labels, per_class=20, seed=3)
    counts = np.bincount(np.array(labels)[chosen])
    assert counts.tolist() == [20, 20, 5]
    assert chosen == choose_replay_cells(labels, per_class=20, seed=3)
    assert chosen != choose_replay_cells(labels, per_class=20, seed=4)


def test_replay_file_round_trips_as_float16_and_refuses_what_it_cannot_trust(tmp_path):
    features = np.random.default_rng(1).normal(size=(12, 5)).astype(np.float32)
    labels = [0, 1, 2] * 4
    path = write_replay_bank(tmp_path / "bank.npz", features, labels, ["a", "b", "c"])
    read, read_labels = read_replay_bank(path, ["a", "b", "c"])
    assert read.dtype == np.float32 and np.allclose(read, features, atol=1e-2) and read_labels.tolist() == labels
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically, nothing left behind
    with pytest.raises(ModelError, match="not the classifier's"):
        read_replay_bank(path, ["a", "b", "d"])
    with pytest.raises(ModelError, match="missing"):
        read_replay_bank(tmp_path / "none.npz", ["a"])
    (tmp_path / "broken.npz").write_bytes(path.read_bytes()[:40])
    with pytest.raises(ModelError, match="cannot read"):
        read_replay_bank(tmp_path / "broken.npz", ["a", "b", "c"])
    with pytest.raises(ValueError):
        write_replay_bank(tmp_path / "empty.npz", np.zeros((0, 5)), [], ["a"])


def test_spec_names_its_replay_file_as_a_plain_file_name_or_none():
    from bloodview.model.classifier_spec import ClassifierSpec

    base = {"backbone": "mobilenetv3large", "class_names": ["a", "b"], "input_size": 64, "pixel_size_um": 0.2}
    assert ClassifierSpec.from_dict(base).replay_file is None  # classifiers written before the field
    spec = ClassifierSpec.from_dict(base | {"replay_file": "cell_classifier_replay.npz"})
    assert ClassifierSpec.from_dict(spec.to_dict()) == spec
    for bad in ("../x.npz", ".hidden.npz", "", 3):
        with pytest.raises(ModelError, match="replay_file"):
            ClassifierSpec.from_dict(base | {"replay_file": bad})
