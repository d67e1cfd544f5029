"""Blending a fine-tuned model with the one it started from (WiSE-FT): the arithmetic, on real weights files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from bloodview.errors import ModelError
from bloodview.model.blend import blend_with_start
from bloodview.model.weights_file import write_average_weights


def _dense(keras, value: float, units: int = 4):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])
    model.layers[0].kernel.assign(np.full((3, units), value, "float32"))
    model.layers[0].bias.assign(np.full((units,), 2 * value, "float32"))
    return model


def _with_optimizer_state(path):
    with h5py.File(path, "a") as handle:
        handle.create_group("optimizer").create_dataset("vars", data=np.ones(7, np.float32))


def test_the_blend_keeps_the_share_of_the_start_asked_for_and_drops_the_tuned_optimizer(tmp_path):
    keras = pytest.importorskip("keras")
    start, tuned = tmp_path / "start.weights.h5", tmp_path / "tuned.weights.h5"
    _dense(keras, 3.0).save_weights(start)
    _dense(keras, 9.0).save_weights(tuned)
    _with_optimizer_state(tuned)
    blend_with_start(tuned, start, keep_start=1 / 3)
    model = _dense(keras, 0.0)
    model.load_weights(tuned)
    np.testing.assert_allclose(model.layers[0].kernel.numpy(), 7.0, rtol=1e-6)  # 2/3 * 9 + 1/3 * 3
    np.testing.assert_allclose(model.layers[0].bias.numpy(), 14.0, rtol=1e-6)
    with h5py.File(tuned, "r") as handle:
        assert "optimizer" not in handle
    assert not list(tmp_path.glob(".*tmp"))


def test_keeping_nothing_leaves_the_file_alone_and_a_share_outside_0_1_is_refused(tmp_path):
    keras = pytest.importorskip("keras")
    start, tuned = tmp_path / "start.weights.h5", tmp_path / "tuned.weights.h5"
    _dense(keras, 3.0).save_weights(start)
    _dense(keras, 9.0).save_weights(tuned)
    before = tuned.read_bytes()
    blend_with_start(tuned, start, keep_start=0.0)
    assert tuned.read_bytes() == before
    for share in (1.0, -0.1):
        with pytest.raises(ValueError, match="share"):
            blend_with_start(tuned, start, keep_start=share)


def test_blending_with_another_network_is_refused_and_the_tuned_weights_survive(tmp_path):
    keras = pytest.importorskip("keras")
    start, tuned = tmp_path / "start.weights.h5", tmp_path / "tuned.weights.h5"
    _dense(keras, 3.0, units=5).save_weights(start)
    _dense(keras, 9.0).save_weights(tuned)
    before = tuned.read_bytes()
    with pytest.raises(ModelError, match="not the same network"):
        blend_with_start(tuned, start, keep_start=0.5)
    assert tuned.read_bytes() == before


def test_shares_must_match_the_files_and_sum_to_one(tmp_path):
    keras = pytest.importorskip("keras")
    for name in ("a", "b"):
        _dense(keras, 1.0).save_weights(tmp_path / f"{name}.weights.h5")
    files = [tmp_path / "a.weights.h5", tmp_path / "b.weights.h5"]
    with pytest.raises(ValueError, match="summing to 1"):
        write_average_weights(files, tmp_path / "m.weights.h5", shares=[0.5, 0.6])
    with pytest.raises(ValueError, match="one non-negative number per file"):
        write_average_weights(files, tmp_path / "m.weights.h5", shares=[1.0])
