"""The classical red-cell finder (issue #13): synthetic smears of known cells, real BCCD fields."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bloodview.core.geometry import polygons_to_mask
from bloodview.core.instance import Instance, Source
from bloodview.core.red_cells import RED_CELL_CLASS, find_red_cells, red_cell_instances
from bloodview.core.scale import RBC_DIAMETER_UM

GLASS = (238, 228, 222)
RED_CELL = (212, 148, 150)
PALLOR = (226, 184, 184)
CYTOPLASM = (215, 200, 220)
NUCLEUS = (90, 50, 130)
BCCD = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bccd"


def smear(um_per_px: float, centres_um: list[tuple[float, float]], side_um: float = 60.0,
          white_cell_um: tuple[float, float] | None = None) -> np.ndarray:
    """Glass with 7.5-µm red cells (pale centres) at ``centres_um``, optionally a white cell."""
    side = int(round(side_um / um_per_px))
    image = np.zeros((side, side, 3), np.uint8)
    image[:] = GLASS
    k = 16
    radius = RBC_DIAMETER_UM / 2 / um_per_px
    for x, y in centres_um:
        centre = (int(x / um_per_px * k), int(y / um_per_px * k))
        cv2.circle(image, centre, int(radius * k), RED_CELL, -1, cv2.LINE_AA, 4)
        cv2.circle(image, centre, int(0.35 * radius * k), PALLOR, -1, cv2.LINE_AA, 4)
    if white_cell_um is not None:
        centre = (int(white_cell_um[0] / um_per_px * k), int(white_cell_um[1] / um_per_px * k))
        cv2.circle(image, centre, int(6.0 / um_per_px * k), CYTOPLASM, -1, cv2.LINE_AA, 4)
        cv2.circle(image, centre, int(4.0 / um_per_px * k), NUCLEUS, -1, cv2.LINE_AA, 4)
    noise = np.random.default_rng(0).normal(0, 2.0, image.shape)
    return np.clip(cv2.GaussianBlur(image, (0, 0), 0.6) + noise, 0, 255).astype(np.uint8)


SPREAD = [(10, 10), (30, 12), (50, 10), (12, 32), (48, 30), (10, 50), (30, 50), (50, 50)]
TOUCHING = [(20, 20), (27.4, 20), (20, 40), (40, 40)]  # the first two touch (7.4 µm apart)


def _disc_masks(image: np.ndarray, um_per_px: float, centres_um) -> list[np.ndarray]:
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    r = RBC_DIAMETER_UM / 2 / um_per_px
    return [np.hypot(xx + 0.5 - x / um_per_px, yy + 0.5 - y / um_per_px) <= r for x, y in centres_um]


def _best_ious(cells, truths, h, w) -> list[float]:
    masks = [polygons_to_mask([c.polygon], h, w) for c in cells]
    return [max(((m & t).sum() / (m | t).sum() for m in masks), default=0.0) for t in truths]


@pytest.mark.parametrize("um_per_px", [0.1, 0.25])
def test_every_red_cell_is_found_once_and_outlined(um_per_px):
    image = smear(um_per_px, SPREAD)
    cells = find_red_cells(image, um_per_px)
    assert len(cells) == len(SPREAD)
    ious = _best_ious(cells, _disc_masks(image, um_per_px, SPREAD), *image.shape[:2])
    assert min(ious) >= 0.8
    assert all(c.radius * um_per_px == pytest.approx(RBC_DIAMETER_UM / 2, rel=0.25) for c in cells)
    assert all(c.quality > 0.75 for c in cells)


@pytest.mark.parametrize("um_per_px", [0.0885, 0.1])
def test_a_free_red_cells_outline_is_a_smooth_curve_not_a_polygon_of_facets(um_per_px):
    """The search runs at 0.25 µm/px, ~3x coarser than a camera's pixels: outlines kept with a few
    vertices there showed on the image as 12-sided polygons (edges a quarter of the cell across)."""
    image = smear(um_per_px, SPREAD)
    for cell in find_red_cells(image, um_per_px):
        edges = np.roll(cell.polygon, -1, axis=0) - cell.polygon
        heading = np.arctan2(edges[:, 1], edges[:, 0])
        turn = np.degrees(np.abs(np.angle(np.exp(1j * (np.roll(heading, -1) - heading)))))
        assert len(cell.polygon) >= 18
        assert np.median(turn) <= 20  # a 12-gon turns 30 degrees at every corner


def test_touching_red_cells_are_split_along_the_line_between_them():
    um = 0.1
    image = smear(um, TOUCHING)
    cells = find_red_cells(image, um)
    assert len(cells) == len(TOUCHING)
    assert min(_best_ious(cells, _disc_masks(image, um, TOUCHING), *image.shape[:2])) >= 0.75
    first, second = sorted(cells, key=lambda c: (round(c.centre[1] * um / 10), c.centre[0]))[:2]
    overlap = polygons_to_mask([first.polygon], *image.shape[:2]) & polygons_to_mask([second.polygon], *image.shape[:2])
    assert overlap.sum() < 0.03 * np.pi * (RBC_DIAMETER_UM / 2 / um) ** 2


def test_a_white_cell_is_not_a_red_cell_and_cells_already_found_are_left_alone():
    um = 0.1
    image = smear(um, [(10, 10), (50, 50), (50, 12)], white_cell_um=(25, 35))
    found = find_red_cells(image, um)
    assert len(found) == 3
    again = find_red_cells(image, um, exclude=[found[0].polygon])
    assert len(again) == 2
    assert all(np.hypot(*np.subtract(c.centre, found[0].centre)) > 10 for c in again)


def test_a_red_cell_partly_under_a_cell_found_otherwise_is_outlined_beside_it_not_over_it():
    um = 0.1
    image = smear(um, SPREAD)
    h, w = image.shape[:2]
    cut = np.array([[0, 0], [85, 0], [85, h], [0, h]], float)  # x < 8.5 µm: a fifth of the cells at x = 10 µm
    cells = find_red_cells(image, um, exclude=[cut])
    assert len(cells) == len(SPREAD)
    beside = [c for c in cells if c.centre[0] * um < 13]  # the three at x = 10 µm, x = 12 µm
    assert len(beside) == 3
    blocked = polygons_to_mask([cut], h, w)
    assert all((polygons_to_mask([c.polygon], h, w) & blocked).sum() <= 2 * h // 10 for c in beside)  # edge pixels


def test_empty_glass_and_bad_input():
    assert find_red_cells(np.full((300, 300, 3), 235, np.uint8), 0.1) == []
    assert find_red_cells(smear(0.1, SPREAD)[:20, :20], 0.1) == []  # smaller than a red cell
    with pytest.raises(ValueError, match="pixel size"):
        find_red_cells(smear(0.1, SPREAD), 0.0)
    assert len(find_red_cells(smear(0.1, SPREAD), 0.1, exclude=[np.zeros((2, 2))])) == len(SPREAD)  # no outline


def test_red_cells_become_unchecked_classical_cells_off_the_models_cells():
    um = 0.1
    image = smear(um, SPREAD)
    model_cell = Instance([find_red_cells(image, um)[0].polygon], "platelet", score=0.9, source=Source.MODEL)
    cells = red_cell_instances(image, um, [model_cell])
    assert len(cells) == len(SPREAD) - 1
    assert {(c.class_name, c.source, c.score, c.reviewed) for c in cells} == {
        (RED_CELL_CLASS, Source.BOOTSTRAP, None, False)}
    assert all(0.75 < c.quality <= 1.0 and c.origin for c in cells)


def test_real_bccd_fields_most_boxed_red_cells_are_found():
    """Three BCCD test fields at their measured scale: the boxes' red cells found at box IoU >= 0.5."""
    if not (BCCD / "Annotations").is_dir():
        pytest.skip(f"BCCD data not found at {BCCD}")
    from bloodview.core.scale import estimate_scale
    from bloodview.evaluation.matching import iou_matrix, match_instances
    from bloodview.io.images import load_image
    from bloodview.io.voc import load_voc

    names = {"BloodImage_00007.jpg", "BloodImage_00033.jpg", "BloodImage_00160.jpg"}
    images = [image for image in load_voc(BCCD) if image.image_path.name in names]
    assert len(images) == 3
    boxes = found = 0
    for image in images:
        rgb = load_image(BCCD / "JPEGImages" / image.image_path)
        scale = estimate_scale(rgb)
        cells = red_cell_instances(rgb, scale.um_per_pixel if scale else 0.0825)
        truth = [c for c in image.instances if c.class_name == "rbc"]
        box = lambda c: [c.bbox[0], c.bbox[1], c.bbox[2] - c.bbox[0], c.bbox[3] - c.bbox[1]]  # noqa: E731
        ious = iou_matrix(None, None, [box(c) for c in truth], [box(c) for c in cells], use_boxes=True)
        boxes += len(truth)
        found += len(match_instances(ious, [c.quality for c in cells], 0.5))
    assert boxes >= 20
    assert found / boxes >= 0.6  # 31 of 44 on these three fields; 0.81 over the 72 test fields (benchmark)


@pytest.mark.parametrize("shape", [(1, 1, 3), (7, 300, 3), (300, 7, 3), (1, 1), (0, 0, 3)])
@pytest.mark.parametrize("um", [0.01, 0.05, 0.25, 5.0])
def test_an_image_too_small_to_hold_a_cell_has_no_red_cells(shape, um):
    # regression: a 1x1 px image at a fine pixel size was shrunk to 0 px and cv2.resize raised
    assert find_red_cells(np.full(shape, 200, np.uint8), um) == []
