"""Scale-aware, tiled prediction on synthetic discs: each disc found once, outlines in original pixels.

The network is replaced by a classical stand-in (dark connected components ->
boxes and 28x28 masks), so these tests check the stages around the network —
rescaling, tiling, ownership, duplicate suppression, pasting back — exactly,
including discs cut by tile borders (seen partly by one tile, whole by another).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pytest

from bloodview.core.geometry import polygons_to_mask
from bloodview.model.config import MaskRCNNConfig
from bloodview.model.predict import TILE_AREA, Predictor
from bloodview.model.store import ModelInfo

DIAMETER = 60


@dataclass
class _Settings:
    image_size: int
    image_height: int = 0


class DiscFinder:
    """Stands in for the Mask R-CNN: every dark blob in a tile is a 'neutrophil' at 0.9.

    ``shapes_seen`` records the input shape of every tile; networks built for other shapes
    (:meth:`reshaped`) count their tiles in the same ``tiles_seen`` list as the first one."""

    def __init__(self, size: int, height: int = 0, seen: list | None = None):
        self.settings = _Settings(size, height)
        self.seen = [] if seen is None else seen

    @property
    def tiles_seen(self) -> int:
        return len(self.seen)

    def reshaped(self, model, config, height: int, width: int) -> DiscFinder:
        return type(self)(width, height, self.seen)

    def detect(self, images, windows, min_confidence=None):
        batch, height, width = images.shape[:3]
        assert (height, width) == (self.settings.image_height or self.settings.image_size, self.settings.image_size)
        out = {"boxes": np.zeros((batch, 50, 4), np.float32), "class_ids": np.zeros((batch, 50), np.int32),
               "scores": np.zeros((batch, 50), np.float32), "masks": np.zeros((batch, 50, 28, 28), np.float32),
               "counts": np.zeros((batch,), np.int32)}
        for b in range(batch):
            self.seen.append((height, width))
            y1, x1, y2, x2 = (int(v) for v in windows[b])
            dark = np.zeros((height, width), np.uint8)
            dark[y1:y2, x1:x2] = images[b, y1:y2, x1:x2, 0] < 100
            count, labels, stats, _ = cv2.connectedComponentsWithStats(dark)
            for row, label in enumerate(range(1, count)):
                x, y, w, h = stats[label, :4]
                crop = (labels[y:y + h, x:x + w] == label).astype(np.float32)
                out["boxes"][b, row] = (y, x, y + h, x + w)
                out["class_ids"][b, row] = 7
                out["scores"][b, row] = 0.9
                out["masks"][b, row] = cv2.resize(crop, (28, 28), interpolation=cv2.INTER_LINEAR)
            out["counts"][b] = count - 1
        return out


def disc_field(height: int, width: int, centres, diameter: float) -> np.ndarray:
    image = np.full((height, width, 3), 230, np.uint8)
    for cx, cy in centres:
        cv2.circle(image, (round(cx), round(cy)), round(diameter / 2), (60, 40, 120), -1, lineType=cv2.LINE_8)
    return image


def predictor(tile: int, pixel_size: float, overlap_um: float) -> tuple[Predictor, DiscFinder]:
    config = MaskRCNNConfig(image_min_dim=tile, image_max_dim=tile, pixel_size_um=pixel_size,
                            fallback_pixel_size_um=pixel_size, tile_overlap_um=overlap_um,
                            detection_min_confidence=0.5)
    info = ModelInfo(name="discs", backbone="none", class_names=list(config.class_names), config=config.to_dict())
    network = DiscFinder(tile)
    return Predictor(network, info, config, shaped=network.reshaped), network


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_discs_across_tile_borders_are_found_once_and_whole():
    rng = np.random.default_rng(3)
    centres = [(x + rng.uniform(-8, 8), y + rng.uniform(-8, 8)) for y in range(60, 700, 95) for x in range(60, 1000, 95)]
    image = disc_field(760, 1040, centres, DIAMETER)
    engine, network = predictor(tile=256, pixel_size=0.1, overlap_um=8.0)  # 80-px overlap >= 60-px discs
    (found,) = engine.detect([image], pixel_size=0.1)
    assert found.tiles > 6 and network.tiles_seen == found.tiles
    (shape,) = set(network.seen)  # one network shape for the field, within the memory bound
    assert shape[0] * shape[1] <= TILE_AREA * 256**2 and shape[0] % 64 == 0 and shape[1] % 64 == 0
    assert len(found.instances) == len(centres), "every disc once, none twice, none lost at a border"
    for cx, cy in centres:
        (mine,) = [i for i in found.instances if i.bbox[0] < cx < i.bbox[2] and i.bbox[1] < cy < i.bbox[3]]
        truth = disc_field(760, 1040, [(cx, cy)], DIAMETER)[..., 0] < 100
        assert iou(truth, polygons_to_mask(mine.polygons, 760, 1040)) > 0.9, f"the disc at ({cx:.0f}, {cy:.0f}) comes back whole"


def test_outlines_come_back_in_original_pixels_when_the_image_is_rescaled():
    centres = [(70, 70), (200, 120), (330, 60)]
    image = disc_field(180, 400, centres, DIAMETER / 2)  # the same discs at half the magnification
    engine, _ = predictor(tile=256, pixel_size=0.1, overlap_um=8.0)
    (found,) = engine.detect([image], pixel_size=0.2)
    assert found.resize_factor == pytest.approx(2.0) and found.scale.source == "given"
    assert len(found.instances) == 3
    for cx, cy in centres:
        truth = disc_field(180, 400, [(cx, cy)], DIAMETER / 2)[..., 0] < 100
        assert max(iou(truth, polygons_to_mask(i.polygons, 180, 400)) for i in found.instances) > 0.85


def test_red_cells_are_added_round_the_models_cells_when_asked():
    """``red_cells=True`` (predict, the app): the classical finder's red cells join the network's cells, at the
    image's pixel size, never on a cell the network found; off by default (evaluate, the benchmarks' old runs)."""
    from tests.core.test_red_cell_finder import SPREAD, smear

    image = smear(0.1, SPREAD)
    cv2.circle(image, (300, 300), 45, (60, 40, 120), -1)  # the network's "white cell", over the 30-µm field's centre
    engine, _ = predictor(tile=256, pixel_size=0.1, overlap_um=8.0)
    (plain,) = engine.detect([image], pixel_size=0.1)
    assert [c.class_name for c in plain.instances] == ["neutrophil"]
    engine.red_cells = True
    (found,) = engine.detect([image], pixel_size=0.1)
    red = [c for c in found.instances if c.class_name == "rbc"]
    assert found.instances[0].class_name == "neutrophil" and len(red) == len(SPREAD)
    white = polygons_to_mask(found.instances[0].polygons, *image.shape[:2])
    assert all((polygons_to_mask(c.polygons, *image.shape[:2]) & white).sum() == 0 for c in red)


def test_one_pixel_size_per_image_must_match_the_images():
    engine, _ = predictor(tile=256, pixel_size=0.1, overlap_um=8.0)
    with pytest.raises(ValueError, match="one pixel size per image"):
        engine.detect([disc_field(100, 100, [], 10)] * 2, pixel_size=[0.1])


def test_without_red_cells_the_model_fallback_scale_is_used_and_said():
    engine, _ = predictor(tile=256, pixel_size=0.1, overlap_um=8.0)
    (found,) = engine.detect([disc_field(200, 200, [(100, 100)], 40)])  # too small in its frame to size it by
    assert found.scale.source == "model default" and found.resize_factor == pytest.approx(1.0)
    assert len(found.instances) == 1


def test_a_tight_crop_of_one_cell_is_read_at_the_scale_its_white_cell_gives():
    """Another lab's crop framed tighter than the training crops: its white cell, not its framing, sets the scale."""
    config = MaskRCNNConfig(image_min_dim=384, image_max_dim=384, pixel_size_um=0.1,
                            fallback_pixel_size_um=0.1, fallback_crop_field_um=36.0)
    info = ModelInfo(name="discs", backbone="none", class_names=list(config.class_names), config=config.to_dict())
    network = DiscFinder(384)
    engine = Predictor(network, info, config, shaped=network.reshaped)
    tight = disc_field(120, 120, [(60, 60)], 80)  # framing says 0.3 µm/px, the 80-px cell 12.5 / 80
    (found,) = engine.detect([tight])
    assert found.scale.source == "white cell"
    assert found.scale.um_per_pixel == pytest.approx(12.5 / 80, rel=0.05)
    assert len(found.instances) == 1


def test_full_outlines_keep_the_traced_pixel_edges_and_the_default_is_made_for_hands(tmp_path, monkeypatch):
    """The CLI's --full-outlines reaches the predictor; simplified outlines have far fewer points, same cell."""
    import json

    from PIL import Image

    from bloodview.cli.main import main

    image = disc_field(300, 300, [(150, 150)], 120)
    Image.fromarray(image).save(tmp_path / "disc.png")
    engine, _ = predictor(tile=384, pixel_size=0.1, overlap_um=8.0)
    monkeypatch.setattr(Predictor, "load", classmethod(lambda cls, *a, **k: engine))
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.json").write_text("{}")
    points = {}
    for flag in ([], ["--full-outlines"]):
        out = tmp_path / f"cells{len(flag)}.json"
        assert main(["predict", str(tmp_path / "disc.png"), "--model", str(model), "--out", str(out),
                     "--pixel-size", "0.1", *flag]) == 0
        (cell,) = json.loads(out.read_text())["annotations"]
        points[bool(flag)] = len(cell["segmentation"][0]) // 2
    assert points[True] > 100 and 8 <= points[False] <= 48


def test_a_crop_without_red_cells_is_read_as_framed_like_the_training_crops():
    """Another lab's 120-px crop of one cell: enlarged as a 360-px training crop of one cell would be."""
    config = MaskRCNNConfig(image_min_dim=384, image_max_dim=384, pixel_size_um=0.1,
                            fallback_pixel_size_um=0.1, fallback_crop_field_um=36.0)
    info = ModelInfo(name="discs", backbone="none", class_names=list(config.class_names), config=config.to_dict())
    network = DiscFinder(384)
    engine = Predictor(network, info, config, shaped=network.reshaped)
    crop, field = disc_field(120, 100, [(60, 60)], 40), disc_field(900, 1200, [(60, 60)], 40)
    small, large = engine.detect([crop, field])
    assert small.scale.source == "model default" and small.scale.um_per_pixel == pytest.approx(0.3)
    assert small.resize_factor == pytest.approx(3.0) and len(small.instances) == 1
    assert large.scale.um_per_pixel == pytest.approx(0.1), "a field keeps the training images' pixel size"


class ShiftingDiscFinder(DiscFinder):
    """Like DiscFinder, but each tile draws its boxes a few pixels off, in turn right and left, as networks do."""

    def detect(self, images, windows, min_confidence=None):
        first = self.tiles_seen
        out = super().detect(images, windows, min_confidence)
        for b in range(len(images)):
            out["boxes"][b, :, [1, 3]] += 3.0 if (first + b) % 2 == 0 else -3.0
        return out


def test_a_cell_centred_on_the_cut_between_two_tiles_is_kept_once():
    plain, _ = predictor(tile=256, pixel_size=0.1, overlap_um=8.0)  # 700 px wide: 2 tiles of 448 at x 0 and 252
    network = ShiftingDiscFinder(256)
    engine = Predictor(network, plain.info, plain.config, shaped=network.reshaped)
    image = disc_field(256, 700, [(350, 128)], DIAMETER)  # centred on the cut at x = 350
    (found,) = engine.detect([image], pixel_size=0.1)
    assert found.tiles == 2
    assert len(found.instances) == 1, "the left tile sees its centre at 353, the right one at 347: neither core alone"


def test_an_image_a_little_larger_than_the_input_is_shrunk_to_fit_not_tiled():
    """Within training's own zoom range (0.9-1.1 by default) a 270-px image runs as one 256-px tile."""
    engine, network = predictor(tile=256, pixel_size=0.1, overlap_um=8.0)
    centre = [(135, 135)]
    (found,) = engine.detect([disc_field(270, 270, centre, DIAMETER)], pixel_size=0.1)
    assert found.tiles == 1 and found.resize_factor == pytest.approx(256 / 270)
    (cell,) = found.instances
    truth = disc_field(270, 270, centre, DIAMETER)[..., 0] < 100
    assert iou(truth, polygons_to_mask(cell.polygons, 270, 270)) > 0.9, "outline back in the image's own pixels"
    (tiled,) = engine.detect([disc_field(300, 300, [(150, 150)], DIAMETER)], pixel_size=0.1)
    # beyond that range: the true scale, on a network shaped for the image (not a 512-px square)
    assert tiled.resize_factor == 1.0 and network.seen[-1] == (320, 320)


class CallCounter(DiscFinder):
    """The disc finder, also recording how many tiles each network call held."""

    calls: list

    def detect(self, images, windows, min_confidence=None):
        type(self).calls.append(len(images))
        return super().detect(images, windows, min_confidence)


def test_a_cpu_call_holds_at_most_its_pixel_budget_of_tiles_and_finds_the_same_cells():
    """batch_size asks for 8 images at a time; on a CPU the network takes them 2 by 2 under a budget of
    two tiles' pixels (CPU_CALL_PIXELS: a CPU gains no speed from larger calls, only memory)."""
    images = [disc_field(256, 256, [(60 + 15 * k, 128)], DIAMETER) for k in range(8)]
    found = {}
    for budget in (None, 2 * 256 * 256):
        engine, _ = predictor(tile=256, pixel_size=0.1, overlap_um=8.0)
        CallCounter.calls = []
        engine.model = engine._networks[engine._base] = CallCounter(256)
        engine.max_call_pixels = budget
        found[budget] = engine.detect(images, batch_size=8, pixel_size=0.1)
        assert CallCounter.calls == ([8] if budget is None else [2, 2, 2, 2])
    for capped, whole in zip(found[2 * 256 * 256], found[None]):
        assert [c.bbox for c in capped.instances] == [c.bbox for c in whole.instances] and len(whole.instances) == 1


def test_warm_up_builds_the_networks_an_image_needs_on_blank_inputs_and_finds_nothing_in_it():
    """``Predictor.warm_up(images)``: the input-size network and the one the image's tiles need are
    built and called once each (on blanks: TensorFlow traces on a first call), so the image's own
    detection builds nothing; the image itself is not detected."""
    image = disc_field(760, 1040, [(100, 100), (600, 400)], DIAMETER)
    engine, network = predictor(tile=256, pixel_size=0.1, overlap_um=8.0)
    engine.warm_up([image])
    warmed = set(network.seen)
    assert (256, 256) in warmed and len(warmed) == 2 and len(network.seen) == 2, "one blank call per network"
    built = dict(engine._networks)
    (found,) = engine.detect([image], pixel_size=0.1)
    assert set(network.seen[2:]) <= warmed and engine._networks.keys() == built.keys()
    assert all(engine._networks[key] is built[key] for key in built), "the detection reuses the warmed networks"
    assert len(found.instances) == 2
