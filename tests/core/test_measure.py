"""Pixel size records and cell sizes in µm."""

from __future__ import annotations

import math

import pytest

from bloodview.core import ImageAnnotation, Instance
from bloodview.core.geometry import rectangle
from bloodview.core.measure import PixelSize, cell_size, parse_pixel_size
from bloodview.core.scale import ScaleEstimate


def test_a_square_of_100_px_at_0_1_um_is_one_square_micrometre():
    size = cell_size(100.0, 0.1)
    assert size.area_um2 == pytest.approx(1.0)
    assert size.diameter_um == pytest.approx(2 / math.sqrt(math.pi))


def test_image_gives_cell_size_only_with_a_measured_or_given_scale():
    cell = Instance(rectangle(0, 0, 60, 60), "neutrophil")  # 3600 px²
    image = ImageAnnotation("a.jpg", 100, 100, [cell])
    assert image.cell_size(cell) is None and image.pixel_size_um is None
    events = []
    image.subscribe(lambda kind, payload: events.append(kind))
    image.set_pixel_size(PixelSize(0.2, "red cells", 12))
    assert events == ["pixel_size"]
    assert image.pixel_size_um == 0.2
    assert image.cell_size(cell).area_um2 == pytest.approx(144.0)
    image.set_pixel_size(PixelSize(0.2, "model default"))  # a guess: no sizes, not a training scale
    assert image.cell_size(cell) is None and image.pixel_size_um is None


def test_describe_says_where_the_scale_came_from():
    assert PixelSize(0.1093, "red cells", 41).describe() == "0.109 µm/px (red cells, 41 measured)"
    assert PixelSize(0.25, "given").describe() == "0.25 µm/px (given)"
    assert "no red cells found" in PixelSize(0.109, "model default").describe()


def test_from_estimate_and_record_round_trip():
    estimate = ScaleEstimate(0.108, 69.4, 23, "red cells", "good")
    size = PixelSize.from_estimate(estimate)
    assert size == PixelSize(0.108, "red cells", 23)
    assert PixelSize.from_dict(size.to_dict()) == size


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "x"])
def test_a_pixel_size_must_be_positive(bad):
    with pytest.raises((ValueError, TypeError)):
        PixelSize(bad)


def test_parse_setting_auto_none_or_positive():
    assert parse_pixel_size(None) is None
    assert parse_pixel_size("auto") is None
    assert parse_pixel_size(0) is None
    assert parse_pixel_size("0.12") == 0.12
    with pytest.raises(ValueError, match="positive"):
        parse_pixel_size(-0.1)
    with pytest.raises(ValueError, match="auto"):
        parse_pixel_size("ten")


def test_setting_pixel_size_um_records_a_given_scale():
    image = ImageAnnotation("a.jpg", 10, 10)
    image.pixel_size_um = 0.3
    assert image.pixel_size == PixelSize(0.3, "given")
    image.pixel_size_um = None
    assert image.pixel_size is None
