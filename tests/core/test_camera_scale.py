"""One camera, one scale: the consensus of the images whose red cells were measured."""

from __future__ import annotations

import pytest

from bloodview.core.camera_scale import (MAX_SPREAD, MIN_IMAGES, camera_scales, estimate_from_record,
                                         needs_camera_scale)
from bloodview.core.measure import PixelSize
from bloodview.core.scale import ScaleEstimate, scale_from_pixel_size

FIELD, CROP = (480, 640), (120, 120)


def red(um: float, cells: int = 12, confidence: str = "good") -> ScaleEstimate:
    return ScaleEstimate(um, 7.5 / um, cells, "red cells", confidence)


def guess(source: str, um: float = 0.103) -> ScaleEstimate:
    return ScaleEstimate(um, 7.5 / um, 0, source, "weak")


def test_images_of_one_size_agreeing_give_their_median_with_its_source():
    scales = camera_scales([(FIELD, red(0.081)), (FIELD, red(0.083)), (FIELD, red(0.082, cells=20)),
                            (FIELD, None), (FIELD, guess("model default"))])
    camera = scales[FIELD]
    assert camera.um_per_pixel == pytest.approx(0.082)
    assert (camera.source, camera.confidence, camera.cells_measured) == ("same camera", "good", 44)
    assert camera.rbc_diameter_px == pytest.approx(7.5 / 0.082)
    # recorded on an image like any other scale, and it sizes cells (it is measured, not assumed)
    recorded = PixelSize.from_estimate(camera)
    assert recorded.source == "same camera" and recorded.measured
    assert "same camera" in recorded.describe() and PixelSize.from_dict(recorded.to_dict()) == recorded


def test_too_few_weak_given_or_assumed_scales_and_other_sizes_give_none():
    few = [(FIELD, red(0.082))] * (MIN_IMAGES - 1)
    assert camera_scales(few) == {}
    weak = [(FIELD, red(0.082, cells=3, confidence="weak"))] * 5
    assert camera_scales(weak) == {}
    others = [(FIELD, scale_from_pixel_size(0.082))] * 3 + [(FIELD, guess("white cell", 0.082))] * 3
    assert camera_scales(others) == {}
    # each frame size is its own camera
    mixed = [(FIELD, red(0.082))] * MIN_IMAGES + [(CROP, red(0.17))] * (MIN_IMAGES - 1)
    assert set(camera_scales(mixed)) == {FIELD}


def test_images_of_one_size_that_disagree_are_not_taken_for_one_camera():
    values = [0.07, 0.08, 0.10, 0.12]  # (p75 - p25) / median well over MAX_SPREAD
    assert camera_scales([(FIELD, red(v)) for v in values]) == {}
    close = [0.0820, 0.0825, 0.0830, 0.0835]
    assert FIELD in camera_scales([(FIELD, red(v)) for v in close])
    assert MAX_SPREAD < 0.2


def test_only_assumed_scales_are_replaced_by_the_cameras():
    assert needs_camera_scale(guess("model default")) and needs_camera_scale(guess("white cell"))
    assert not needs_camera_scale(red(0.082)) and not needs_camera_scale(scale_from_pixel_size(0.1))
    assert not needs_camera_scale(None)


def test_a_recorded_scale_counts_when_it_rests_on_enough_red_cells():
    size, estimate = estimate_from_record(FIELD, PixelSize(0.082, "red cells", 7))
    assert size == FIELD and (estimate.source, estimate.confidence, estimate.cells_measured) == ("red cells", "good", 7)
    assert estimate.um_per_pixel == pytest.approx(0.082)
    assert estimate_from_record(FIELD, PixelSize(0.082, "red cells", 3))[1] is None
    assert estimate_from_record(FIELD, PixelSize(0.082, "given"))[1] is None
    assert estimate_from_record(FIELD, PixelSize(0.082, "same camera", 40))[1] is None  # never its own evidence
    assert estimate_from_record(FIELD, None)[1] is None
