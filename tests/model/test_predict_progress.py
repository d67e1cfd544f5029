"""Progress within one big field: ``step_progress`` counts its tiles as the network runs them, then the
finishing stages, while ``progress`` keeps counting whole images (a field of 24 tiles took 28 s at 0/1).

The network is the classical disc finder of test_predict_tiles, so each test runs in well under a second.
"""

from __future__ import annotations

from tests.model.test_predict_tiles import DIAMETER, disc_field, predictor

CENTRES = [(x, y) for y in range(60, 700, 120) for x in range(60, 1000, 120)]


def big_field():
    return disc_field(760, 1040, CENTRES, DIAMETER)


def test_each_tile_is_counted_as_soon_as_the_network_has_run_it():
    engine, network = predictor(tile=256, pixel_size=0.1, overlap_um=8.0)
    steps, images = [], []
    (found,) = engine.detect([big_field()], pixel_size=0.1, progress=lambda *a: images.append(a),
                             step_progress=lambda done, total: steps.append((done, total, network.tiles_seen)))
    tiles = found.tiles
    assert tiles > 6 and len(found.instances) == len(CENTRES)
    assert steps[0] == (0, tiles, 0), "the steps planned are said before the first tile runs"
    assert steps[1:] == [(k, tiles, k) for k in range(1, tiles + 1)], "one report per tile, right after it ran"
    assert images == [(1, 1)], "whole-image progress is as before"


def test_the_classifier_and_the_red_cells_are_steps_after_the_tiles():
    from bloodview.model.predict import FINISHING_SHARE

    engine, network = predictor(tile=256, pixel_size=0.1, overlap_um=8.0)
    steps = []

    class Classifier:
        def reclassify(self, original, instances, um_per_pixel):
            self.seen_at = steps[-1]
            return instances

    engine.classifier, engine.red_cells = Classifier(), True
    (found,) = engine.detect([big_field()], pixel_size=0.1, step_progress=lambda *a: steps.append(a))
    tiles = found.tiles
    weight = max(1, round(FINISHING_SHARE * tiles))
    total = tiles + 2 * weight
    assert steps[0] == (0, total) and steps[-1] == (total, total)
    assert engine.classifier.seen_at == (tiles, total), "the classifier runs once every tile is counted"
    assert steps[-2:] == [(tiles + weight, total), (total, total)]
    assert all(a[0] < b[0] for a, b in zip(steps, steps[1:]))


def test_steps_start_again_with_each_batch_of_images():
    engine, _ = predictor(tile=256, pixel_size=0.1, overlap_um=8.0)
    small = disc_field(200, 240, [(100, 100)], DIAMETER)
    steps, images = [], []
    engine.detect([big_field(), small], batch_size=1, pixel_size=0.1, progress=lambda *a: images.append(a),
                  step_progress=lambda *a: steps.append(a))
    assert images == [(1, 2), (2, 2)]
    assert steps[-2:] == [(0, 1), (1, 1)], "the small image: one tile, reported from 0"
    assert steps[0][0] == 0 and steps[-3][0] == steps[-3][1] > 1
