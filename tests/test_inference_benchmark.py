"""benchmarks/inference.py's own pieces: equal work for random-weight models, rows combined over rounds.

The speed figures themselves are printed by the benchmark, never asserted here (timings belong in
benchmarks/). What is pinned: a random-weight model made to outline exactly as many cells as asked
(so every row's mask head does the same work as torchvision's), and a row's rounds reduced to medians
with their spread, the largest memory and the fewest cells.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.append(str(Path(__file__).resolve().parents[1] / "benchmarks"))  # after the packages: no shadowing

import inference  # noqa: E402


def test_rounds_combine_to_medians_with_their_spread_the_largest_memory_and_the_fewest_cells():
    runs = [
        {"backbone": "x", "s_per_image_batch1": 0.50, "s_per_image_batch8": 0.40, "cpu_s_per_image_batch1": 0.9,
         "cpu_s_per_image_batch8": 0.8, "peak_rss_mib": 1400, "detections_per_image": 20.0},
        {"backbone": "x", "s_per_image_batch1": 0.60, "s_per_image_batch8": 0.44, "cpu_s_per_image_batch1": 1.1,
         "cpu_s_per_image_batch8": 0.9, "peak_rss_mib": 1500, "detections_per_image": 19.5},
    ]
    row = inference.combine(runs)
    assert row["s_per_image_batch1"] == 0.55 and row["cpu_s_per_image_batch1"] == 1.0
    assert row["spread"] == (0.60 - 0.50) / 0.55
    assert row["peak_rss_mib"] == 1500 and row["detections_per_image"] == 19.5
    assert [r["s_per_image_batch1"] for r in row["rounds"]] == [0.50, 0.60]
    assert inference.combine(runs[:1])["spread"] == 0.0


def test_a_random_model_made_to_do_equal_work_outlines_as_many_cells_as_asked():
    import keras

    from bloodview.model.config import MaskRCNNConfig
    from bloodview.model.maskrcnn import build_maskrcnn
    from bloodview.model.predict import Predictor
    from bloodview.model.store import ModelInfo

    config = MaskRCNNConfig(image_min_dim=128, image_max_dim=128, backbone="mobilenetv3large",
                            detection_max_instances=7, detection_duplicate_iou=1.0, post_nms_rois_inference=100)
    keras.utils.set_random_seed(0)
    model = build_maskrcnn(config)
    info = ModelInfo(name="bench", backbone="mobilenetv3large", class_names=config.class_names,
                     config=config.to_dict(), image_size=128)
    image = np.random.default_rng(0).integers(0, 255, (128, 128, 3), dtype=np.uint8)
    # random weights as unlucky as one run's ResNet50: every proposal background, or every mask empty
    for weight in model.weights:
        if weight.path.endswith("box_head/class_logits/bias"):
            weight.assign(np.r_[50.0, np.zeros(len(config.class_names))].astype(np.float32))
    assert Predictor(model, info, config).predict([image], min_confidence=0.0)[0] == []
    inference.equal_work(model)
    for weight in model.weights:
        if weight.path.endswith("mask_logits/kernel"):
            assert not np.any(weight.numpy())
    cells = Predictor(model, info, config).predict([image], min_confidence=0.0)[0]
    assert len(cells) == 7  # every proposal a cell class, every mask non-empty
    assert all(cell.class_name in config.class_names for cell in cells)
