"""``--device cpu|gpu|auto`` on ``bloodview predict`` and ``bloodview train`` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bloodview.cli.main import main
from bloodview.model.devices import Gpu

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "pbc_neutrophil_BNE_67131.jpg"
TWO_GPUS = [Gpu("/gpu:0", "NVIDIA H200", (9, 0)), Gpu("/gpu:1", "NVIDIA H200", (9, 0))]


@pytest.fixture
def no_gpu():
    pytest.importorskip("tensorflow")
    from bloodview.model.distribute import find_gpus

    if find_gpus(visible_only=False):
        pytest.skip("this machine has a GPU; the no-GPU message cannot be seen here")


def test_predict_device_gpu_without_a_gpu_stops_with_a_clear_message(no_gpu, tmp_path, capsys):
    out = tmp_path / "cells.json"
    assert main(["predict", str(SAMPLE), "--device", "gpu", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "bloodview: error: --device gpu: TensorFlow sees no GPU on this machine" in err
    assert "pip install 'bloodview[gpu]'" in err and "Traceback" not in err
    assert not out.exists()


def test_train_device_gpu_without_a_gpu_stops_before_training(no_gpu, tmp_path, capsys):
    out = tmp_path / "model"
    data = tmp_path / "coco.json"
    data.write_text('{"images": [], "annotations": [], "categories": []}')
    assert main(["train", "--data", str(data), "--out", str(out), "--device", "gpu"]) == 1
    assert "--device gpu: TensorFlow sees no GPU" in capsys.readouterr().err
    assert not out.exists()


def test_train_spreads_over_two_gpus_and_says_which(monkeypatch, tmp_path, capsys):
    pytest.importorskip("tensorflow")
    import bloodview.model.train as train_module
    from bloodview.model import distribute

    seen = []
    monkeypatch.setattr(distribute, "find_gpus", lambda visible_only=True: TWO_GPUS)
    monkeypatch.setattr(train_module, "train", lambda options, **_kw: seen.append(options) or _Result())
    assert main(["train", "--data", str(tmp_path / "coco.json"), "--out", str(tmp_path / "m")]) == 0
    assert seen[0].devices == ["/gpu:0", "/gpu:1"]
    assert "device: 2 GPUs: NVIDIA H200 (compute 9.0)" in capsys.readouterr().err


def test_train_device_cpu_keeps_the_default_strategy_on_a_gpu_machine(monkeypatch, tmp_path, capsys):
    pytest.importorskip("tensorflow")
    import bloodview.model.train as train_module
    from bloodview.model import distribute

    seen, hidden = [], []
    monkeypatch.setattr(distribute, "find_gpus", lambda visible_only=True: TWO_GPUS)
    monkeypatch.setattr("tensorflow.config.set_visible_devices", lambda devices, kind: hidden.append((devices, kind)))
    monkeypatch.setattr(train_module, "train", lambda options, **_kw: seen.append(options) or _Result())
    assert main(["train", "--data", str(tmp_path / "c.json"), "--out", str(tmp_path / "m"), "--device", "cpu"]) == 0
    assert seen[0].devices is None and hidden == [([], "GPU")]
    assert "device: CPU (GPU hidden by --device cpu)" in capsys.readouterr().err


class _Result:
    model_dir = Path("m")
    final_losses = {"loss": 1.0}
