"""The shipped default model on real PBC cells framed wider: a 2 x 2 mosaic of four val images.

Before scale-aware detection a mosaic was shrunk into the model's input, so each cell was
half as many pixels across as in training: 2 x 2 mosaics had 17 % of their cells right.
Here the framing must not change the answer: each cell found in its quarter, classed as
when the crop is shown alone.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from bloodview.io.images import load_image
from bloodview.model.store import default_model_dir, is_model_dir

CLASSES = ("eosinophil", "lymphocyte", "neutrophil", "platelet")
SIDE = 360


@pytest.fixture(scope="module")
def predictor():
    if not is_model_dir(default_model_dir()):
        pytest.skip("no default model in resources/models/default")
    from bloodview.model.predict import Predictor

    return Predictor.load(default_model_dir())


def first_val_images(pbc_dir):
    rows = list(csv.DictReader(open(pbc_dir / "manifest.csv", encoding="utf-8")))
    picked = []
    for name in CLASSES:
        row = next(r for r in rows if r["split"] == "val" and r["class"] == name)
        picked.append(load_image(pbc_dir / row["class"] / row["file"])[:SIDE, :SIDE])
    return picked


def centred(instances, cx: float, cy: float):
    def distance(i):
        x1, y1, x2, y2 = i.bbox
        return np.hypot((x1 + x2) / 2 - cx, (y1 + y2) / 2 - cy)

    near = [i for i in instances if distance(i) < 70]  # PBC centres the cell only roughly
    return min(near, key=distance) if near else None


def test_a_mosaic_gives_the_answers_of_its_crops(predictor, pbc_dir):
    crops = first_val_images(pbc_dir)
    mosaic = np.vstack([np.hstack(crops[:2]), np.hstack(crops[2:])])
    alone = [centred(found, SIDE / 2, SIDE / 2) for found in predictor.predict(crops)]
    (together,) = predictor.detect([mosaic])
    assert together.scale is not None and together.scale.source == "red cells"
    assert 0.85 < together.resize_factor < 1.25, "PBC cells are read near the model's own scale"
    same = 0
    for k, cell in enumerate(alone):
        assert cell is not None, f"the {CLASSES[k]} crop alone gives its cell"
        in_mosaic = centred(together.instances, (k % 2) * SIDE + SIDE / 2, (k // 2) * SIDE + SIDE / 2)
        assert in_mosaic is not None, f"the {CLASSES[k]} is found in the mosaic"
        same += in_mosaic.class_name == cell.class_name
    assert same >= 3, "the framing does not change the classes (one may flip on a near-tie)"


def test_warm_up_on_the_mosaic_builds_the_network_its_detection_then_uses(pbc_dir):
    """The app warms the model up on the image on screen: the tile shape it builds must be the one
    detection picks for that image, or the first Detect still pays a build (~2 s)."""
    if not is_model_dir(default_model_dir()):
        pytest.skip("no default model in resources/models/default")
    from bloodview.model.predict import Predictor

    crops = first_val_images(pbc_dir)
    mosaic = np.vstack([np.hstack(crops[:2]), np.hstack(crops[2:])])
    fresh = Predictor.load(default_model_dir(), red_cells=True)
    fresh.warm_up([mosaic])
    networks = dict(fresh._networks)
    assert len(networks) == 2, "the input-size network and the mosaic's own"
    (found,) = fresh.detect([mosaic])
    assert fresh._networks.keys() == networks.keys() and found.instances
    assert all(fresh._networks[key] is networks[key] for key in networks)
