"""Half-precision weight files: smaller, and load into the float32 network unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from bloodview.errors import ModelError
from bloodview.model.weights_file import write_average_weights, write_float16_weights


def test_float16_copy_is_half_the_size_and_loads_into_float32_layers(tmp_path):
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)

    def build():
        return keras.Sequential([keras.Input((64,)), keras.layers.Dense(1024), keras.layers.BatchNormalization(),
                                 keras.layers.Dense(8)])

    model = build()
    for weight in model.weights:
        values = rng.normal(size=weight.shape).astype("float32")
        if "variance" in weight.path:
            values = np.abs(values) + 0.5
        weight.assign(values)
    full = tmp_path / "full.weights.h5"
    half = tmp_path / "half.weights.h5"
    model.save_weights(full)
    write_float16_weights(full, half)
    assert half.stat().st_size < 0.6 * full.stat().st_size

    again = build()
    again.load_weights(half)
    assert all(w.dtype == "float32" for w in again.weights)
    x = rng.normal(size=(4, 64)).astype("float32")
    expected = model.predict(x, verbose=0)
    got = again.predict(x, verbose=0)
    assert np.allclose(got, expected, rtol=2e-2, atol=2e-2 * np.abs(expected).max())
    assert not np.array_equal(got, expected), "float16 rounding should be visible, else the copy kept float32"


def test_a_trained_networks_optimizer_state_can_be_left_out_and_it_still_loads(tmp_path):
    keras = pytest.importorskip("keras")
    import h5py

    def build():
        model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32), keras.layers.Dense(4)])
        model.compile(keras.optimizers.Adam(1e-3), "mse")
        return model

    model = build()
    x = np.random.default_rng(1).normal(size=(8, 16)).astype("float32")
    model.train_on_batch(x, np.zeros((8, 4), "float32"))  # Adam's moments now exist and are saved
    full, kept, lean = (tmp_path / f"{n}.weights.h5" for n in ("full", "kept", "lean"))
    model.save_weights(full)
    write_float16_weights(full, kept)
    write_float16_weights(full, lean, drop_optimizer=True)
    with h5py.File(kept, "r") as a, h5py.File(lean, "r") as b:
        assert "optimizer" in a and "optimizer" not in b and "layers" in b
    assert lean.stat().st_size < kept.stat().st_size
    plain = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32), keras.layers.Dense(4)])
    plain.load_weights(lean)  # prediction's network: not compiled
    assert np.allclose(plain.predict(x, verbose=0), model.predict(x, verbose=0), atol=2e-2)


def test_missing_source_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        write_float16_weights(tmp_path / "nope.weights.h5", tmp_path / "x.weights.h5")


def _dense(keras, units, seed):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])
    model.layers[0].kernel.assign(np.full((3, units), float(seed), "float32"))
    model.layers[0].bias.assign(np.arange(units, dtype="float32") * seed)
    return model


def test_average_of_epoch_weights_is_their_mean_and_loads(tmp_path):
    keras = pytest.importorskip("keras")
    files = []
    for seed in (1, 2, 6):
        path = tmp_path / f"e{seed}.weights.h5"
        _dense(keras, 4, seed).save_weights(path)
        files.append(path)
    write_average_weights(files, tmp_path / "mean.weights.h5")
    model = _dense(keras, 4, 0)
    model.load_weights(tmp_path / "mean.weights.h5")
    np.testing.assert_allclose(model.layers[0].kernel.numpy(), np.full((3, 4), 3.0))
    np.testing.assert_allclose(model.layers[0].bias.numpy(), np.arange(4) * 3.0)


def test_averaging_different_networks_is_refused_and_writes_nothing(tmp_path):
    keras = pytest.importorskip("keras")
    _dense(keras, 4, 1).save_weights(tmp_path / "a.weights.h5")
    _dense(keras, 5, 1).save_weights(tmp_path / "b.weights.h5")
    with pytest.raises(ModelError, match="not the same network"):
        write_average_weights([tmp_path / "a.weights.h5", tmp_path / "b.weights.h5"], tmp_path / "m.weights.h5")
    assert not list(tmp_path.glob("*m.weights.h5*"))
    with pytest.raises(ModelError, match="at least two"):
        write_average_weights([tmp_path / "a.weights.h5"], tmp_path / "m.weights.h5")
