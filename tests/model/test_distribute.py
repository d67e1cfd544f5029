"""Multi-replica training (the paper's 2 GPUs x 2 images) on two logical CPU devices.

Logical devices must be configured before TensorFlow starts, so the run is a
fresh subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY = Path(__file__).with_name("tiny_model.json")

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import numpy as np
    from bloodview.model.distribute import split_cpu, select_strategy
    devices = split_cpu(2)
    from PIL import Image
    from bloodview.core.annotation import Dataset, ImageAnnotation
    from bloodview.core.classes import ClassCatalogue
    from bloodview.core.instance import Instance
    from bloodview.io.coco import save_coco
    from bloodview.model.backbones import DEFAULT_FAST_BACKBONE
    from bloodview.model.train import TrainOptions, train

    folder = Path(sys.argv[1])
    t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    images = []
    for k in range(2):
        Image.new("RGB", (64, 48), (230, 210, 220)).save(folder / f"s{k}.png")
        outline = np.stack([30 + 9 * np.cos(t), 20 + 9 * np.sin(t)], axis=1)
        images.append(ImageAnnotation(Path(f"s{k}.png"), 64, 48, [Instance(outline, "platelet")]))
    catalogue = ClassCatalogue([])
    catalogue.add("neutrophil"); catalogue.add("platelet")
    data = save_coco(Dataset(images, catalogue, folder), folder / "d.json")
    result = train(TrainOptions(data=data, out=folder / "model", backbone=DEFAULT_FAST_BACKBONE,
                                config_file=Path(sys.argv[2]), epochs=1, steps_per_epoch=1, val_ratio=0.0,
                                devices=devices))
    print(json.dumps({"devices": devices, "replicas": result.info.training["replicas"],
                      "batch": result.info.training["batch_size"], "gpu_count": result.info.config["gpu_count"],
                      "loss": result.final_losses["loss"]}))
    """
)


def test_mirrored_strategy_on_two_logical_cpus_trains_one_step(tmp_path):
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(TINY)], cwd=REPO, capture_output=True, text=True,
        timeout=600, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(result["devices"]) == 2
    assert result["replicas"] == 2 and result["gpu_count"] == 2
    assert result["batch"] == 4  # images_per_gpu (2) x replicas
    assert result["loss"] == pytest.approx(result["loss"]) and result["loss"] > 0  # finite


def test_strategy_choice_without_devices_is_the_default(monkeypatch):
    import tensorflow as tf

    from bloodview.model.distribute import _workers_in_tf_config, select_strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert select_strategy().num_replicas_in_sync == 1
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}}))
    assert _workers_in_tf_config() == 2
    assert isinstance(select_strategy(["/cpu:0"]), tf.distribute.OneDeviceStrategy)
