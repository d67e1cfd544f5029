"""One camera, one magnification: an image without usable red cells takes its camera's scale.

A lab's images of one run come from one microscope camera at one objective, so they share one
pixel size, and the camera's frame size tells them apart from other sources (another camera,
crops cut by hand). Where an image's own red cells give no estimate (a crowded field whose red
cells overlap, a thin edge with few of them) the other images of the same size that *do* give a
good one are a far better ruler than the model's training pixel size or an assumed white-cell
size. Measured on BCCD (one camera, 640 x 480; ``bloodview predict`` on the `test` split): 11 of
the 72 fields have no usable red cell and were read at the model's 0.103 µm/px, the other fields
put the camera at 0.082 (median of 32 good estimates); read at 0.082 those 11 fields gave 11 false
platelets instead of 27, 7 of their 13 boxed platelets found instead of 5, their 13 white cells
found either way, 178 red cells outlined instead of 233 (74 of their 113 red-cell boxes matched
instead of 85: BCCD boxes few of its red cells, and loosely); `val` split: 17 false platelets
instead of 25, 10 of 14 boxed platelets instead of 9, red-cell boxes 82 of 113 instead of 83.

The consensus is only taken where it is clear: at least :data:`MIN_IMAGES` images of that size
with a ``good`` red-cell estimate, agreeing within :data:`MAX_SPREAD`. A pixel size the user gives
always wins; an image's own red cells always win over its camera's.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from bloodview.core.measure import SOURCE_MODEL_DEFAULT, SOURCE_RED_CELLS, SOURCE_SAME_CAMERA, SOURCE_WHITE_CELL
from bloodview.core.scale import MIN_CELLS_GOOD, RBC_DIAMETER_UM, ScaleEstimate

MIN_IMAGES = 3
"""Images of one size with a good red-cell estimate needed before their median is trusted."""
MAX_SPREAD = 0.1
"""Largest relative spread ((p75 - p25) / median) of those images' pixel sizes: one camera agrees
with itself within a few per cent; more means mixed sources of one frame size."""
REPLACEABLE_SOURCES = (SOURCE_MODEL_DEFAULT, SOURCE_WHITE_CELL)
"""Scales that rest on an assumption, which the camera's measured scale replaces."""

ImageSize = tuple[int, int]


def camera_scales(estimates: Iterable[tuple[ImageSize, ScaleEstimate | None]]) -> dict[ImageSize, ScaleEstimate]:
    """Per image size ``(height, width)``, the scale of that camera, where its images agree on one.

    ``estimates``: each image's size and the scale it was read at (``None``: none). Only ``good``
    red-cell estimates count. The result's ``source`` is :data:`SOURCE_SAME_CAMERA`,
    ``cells_measured`` the red cells behind it, ``confidence`` ``"good"``.
    """
    by_size: dict[ImageSize, list[ScaleEstimate]] = {}
    for size, estimate in estimates:
        if estimate is not None and estimate.source == SOURCE_RED_CELLS and estimate.confidence == "good":
            by_size.setdefault((int(size[0]), int(size[1])), []).append(estimate)
    scales: dict[ImageSize, ScaleEstimate] = {}
    for size, found in by_size.items():
        if len(found) < MIN_IMAGES:
            continue
        values = np.array([e.um_per_pixel for e in found])
        median = float(np.median(values))
        p25, p75 = np.percentile(values, [25, 75])
        spread = float((p75 - p25) / median)
        if spread > MAX_SPREAD:
            continue
        scales[size] = ScaleEstimate(
            um_per_pixel=median,
            rbc_diameter_px=RBC_DIAMETER_UM / median,
            cells_measured=int(sum(e.cells_measured for e in found)),
            source=SOURCE_SAME_CAMERA,
            confidence="good",
            spread=spread,
        )
    return scales


def estimate_from_record(size: ImageSize, pixel_size) -> tuple[ImageSize, ScaleEstimate | None]:
    """An image's recorded :class:`~bloodview.core.measure.PixelSize` as an input of :func:`camera_scales`.

    A record keeps no confidence; one measured on :data:`~bloodview.core.scale.MIN_CELLS_GOOD`
    red cells or more counts as good (the spread test of the estimate is not repeated).
    """
    if pixel_size is None or pixel_size.source != SOURCE_RED_CELLS or pixel_size.cells_measured < MIN_CELLS_GOOD:
        return size, None
    um = float(pixel_size.um_per_pixel)
    return size, ScaleEstimate(um, RBC_DIAMETER_UM / um, int(pixel_size.cells_measured), SOURCE_RED_CELLS, "good")


def needs_camera_scale(estimate: ScaleEstimate | None) -> bool:
    """True when an image's scale is an assumption its camera's measured one should replace."""
    return getattr(estimate, "source", None) in REPLACEABLE_SOURCES
