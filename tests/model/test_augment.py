"""Augmentation keeps pixels, masks and boxes of every cell together."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.geometry import mask_iou, polygons_to_mask
from bloodview.core.instance import Instance
from bloodview.model.augment import AugmentSettings, color_jitter, random_geometry, transform_points, warp_image
from bloodview.model.config import MaskRCNNConfig
from bloodview.model.data import build_sample, prepare_records
from bloodview.model.postprocess import paste_mask

COLOURS = [(220, 40, 40), (40, 200, 40), (40, 40, 220)]


def disc(cx: float, cy: float, r: float, n: int = 64) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)


def painted_smear(path: Path) -> ImageAnnotation:
    """A 120 x 90 image with three differently coloured discs, painted exactly inside their outlines."""
    image = np.full((90, 120, 3), 245, dtype=np.uint8)
    centres = [(30, 30, 14), (85, 40, 18), (60, 72, 10)]
    instances = []
    for (cx, cy, r), colour in zip(centres, COLOURS):
        outline = disc(cx, cy, r)
        image[polygons_to_mask([outline], 90, 120)] = colour
        instances.append(Instance(outline, "neutrophil"))
    Image.fromarray(image).save(path)
    return ImageAnnotation(path, 120, 90, instances)


@pytest.mark.parametrize("seed", range(6))
def test_augmented_masks_and_boxes_cover_their_cells(tmp_path, seed):
    config = MaskRCNNConfig.from_dict(dict(
        image_min_dim=128, image_max_dim=128, max_gt_instances=4, class_names=["neutrophil"],
        augment_scale_range=[0.8, 1.25], augment_color_jitter=0.1,
    ))
    record = prepare_records([painted_smear(tmp_path / "smear.png")], lambda i: i.image_path, config)[0]
    sample = build_sample(record, config, rng=np.random.default_rng(seed), augment=AugmentSettings.from_config(config))
    image = sample["images"].astype(np.uint8)
    rows = int((sample["gt_class_ids"] > 0).sum())
    assert rows >= 1
    # Label every pixel by its nearest palette colour (cells, background, padding, edge):
    # colour jitter moves colours a little, never across the palette.
    palette = np.array([*COLOURS, (245, 245, 245), (0, 0, 0), (122, 122, 122)])  # + the blurred image edge
    labels = np.abs(image.astype(int)[:, :, None, :] - palette[None, None]).sum(axis=3).argmin(axis=2)
    for row in range(rows):
        box = sample["gt_boxes"][row]
        pasted = paste_mask(sample["gt_masks"][row], box, 128, 128)
        which = np.bincount(labels[pasted], minlength=len(palette)).argmax()
        assert which < len(COLOURS), (seed, row)
        painted = labels == which
        # The pixels of that cell's colour are the cell (a crop may cut it).
        assert mask_iou(pasted, painted) >= 0.85, (seed, row)
        ys, xs = np.nonzero(painted)
        np.testing.assert_allclose(box, [ys.min(), xs.min(), ys.max() + 1, xs.max() + 1], atol=2.5)
        assert box[2] <= sample["windows"][2] + 1e-3 and box[3] <= sample["windows"][3] + 1e-3


def test_quarter_turns_and_flips_move_pixels_exactly():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (7, 5, 3), dtype=np.uint8)
    settings = AugmentSettings(flips=True, rot90=True)
    seen = set()
    for seed in range(40):
        geometry = random_geometry(np.random.default_rng(seed), 7, 5, 8, settings)
        warped = warp_image(image, geometry.matrix, 8)
        h, w = int(geometry.window[2]), int(geometry.window[3])
        region = warped[:h, :w]
        candidates = [np.rot90(f, k) for f in (image, image[:, ::-1], image[::-1], image[::-1, ::-1]) for k in range(4)]
        assert any(c.shape == region.shape and np.array_equal(c, region) for c in candidates)
        assert not warped[h:].any() and not warped[:, w:].any()
        corner = transform_points(np.array([[0.0, 0.0], [5.0, 7.0]]), geometry.matrix)
        assert set(np.round(corner.ravel()).astype(int)) <= {0, 5, 7}
        seen.add(region.tobytes())
    assert len(seen) > 4


def test_colour_jitter_is_small_and_keeps_black_padding():
    rng = np.random.default_rng(1)
    image = np.full((10, 10, 3), (200, 120, 160), dtype=np.uint8)
    image[:2] = 0
    out = color_jitter(image, rng, 0.1)
    assert out.dtype == np.uint8 and out.shape == image.shape
    diff = np.abs(out.astype(int) - image.astype(int))
    assert diff.max() <= 60 and diff[2:].mean() > 0
    assert color_jitter(image, rng, 0.0) is image
