"""Segment the cell inside a given box (whole smear fields with box annotations).

The box is cropped with a margin and the crop is treated like a single-cell
image whose cell sits at the centre: cells with a nucleus (white cells,
platelets) go through :func:`bloodview.bootstrap.segment_cell.segment_cell`;
red cells (no nucleus) are the stained blob under the box centre, split from
touching neighbours by the same shape/edge flooding, then replaced by its convex
hull (red cells are convex discs; the pale centre must not bite a notch). Everything outside the
box's (slightly grown) inscribed ellipse is marked "not this cell" before
flooding, and the mask is kept inside that region.

Boxes are ``(x1, y1, x2, y2)`` in full-image pixels; masks are full-image
``bool`` ``(H, W)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from bloodview.bootstrap import morphology as morph
from bloodview.bootstrap.markers import flooding_relief, inside_distance_glass_border
from bloodview.bootstrap.params import CellParams
from bloodview.bootstrap.segment_cell import CellSegmentation, segment_cell
from bloodview.bootstrap.stain import otsu_threshold, stain_features

# Classes without a nucleus: segmented as a plain stained blob.
ANUCLEATE = frozenset({"rbc", "red blood cell", "erythrocyte"})
CROP_MARGIN = 0.2  # crop = box grown by this share of its size on every side
KEEP_MARGIN = 0.08  # mask kept within the box grown by this share ...
ELLIPSE_SLACK = 1.15  # ... and within its inscribed ellipse grown by this factor


@dataclass(frozen=True)
class ClippedBox:
    """A box clipped to the image, or why it was skipped."""

    box: tuple[int, int, int, int] | None
    problem: str | None = None


def clip_box(box: tuple[float, float, float, float], width: int, height: int) -> ClippedBox:
    """Clip ``box`` to the image; boxes with no area inside it are refused with a reason."""
    x1, y1, x2, y2 = (float(v) for v in box)
    if not (x2 > x1 and y2 > y1):
        return ClippedBox(None, f"box ({x1:g}, {y1:g}, {x2:g}, {y2:g}) has no area")
    cx1, cy1 = max(0, int(np.floor(x1))), max(0, int(np.floor(y1)))
    cx2, cy2 = min(width, int(np.ceil(x2))), min(height, int(np.ceil(y2)))
    if cx2 - cx1 < 2 or cy2 - cy1 < 2:
        return ClippedBox(None, f"box ({x1:g}, {y1:g}, {x2:g}, {y2:g}) lies outside the {width}x{height} image")
    return ClippedBox((cx1, cy1, cx2, cy2))


def segment_in_box(
    rgb: np.ndarray, box: tuple[int, int, int, int], class_name: str | None, params: CellParams = CellParams()
) -> CellSegmentation:
    """Segment the cell in ``box`` (already clipped to the image)."""
    height, width = rgb.shape[:2]
    x1, y1, x2, y2 = box
    mx, my = int(CROP_MARGIN * (x2 - x1)) + 2, int(CROP_MARGIN * (y2 - y1)) + 2
    # A symmetric crop keeps the cell at the crop centre even at the image edge.
    cx1, cy1 = max(0, x1 - mx), max(0, y1 - my)
    cx2, cy2 = min(width, x2 + mx), min(height, y2 + my)
    crop = np.ascontiguousarray(rgb[cy1:cy2, cx1:cx2])
    pad = (y1 - cy1, cy2 - y2, x1 - cx1, cx2 - x2)
    crop, offset = _centre_pad(crop, pad)
    oy, ox = offset
    ch, cw = cy2 - cy1, cx2 - cx1
    keep = keep_region(box, width, height)
    outside = np.ones(crop.shape[:2], bool)
    outside[oy:oy + ch, ox:ox + cw] = ~keep[cy1:cy2, cx1:cx2]
    name = (class_name or "").lower()
    # The box bounds the cell: no "outline over too much of the crop" refusal.
    params = replace(params, max_cell_share=1.0, max_small_share=1.0)
    if name in ANUCLEATE:
        result = _segment_blob(crop, params, outside)
    else:
        result = segment_cell(crop, name, params, exclude=outside)
    full = np.zeros((height, width), bool)
    if result.found:
        full[cy1:cy2, cx1:cx2] = result.mask[oy:oy + ch, ox:ox + cw]
        full &= keep
        full = morph.largest_component(full) if full.any() else full
    alternative = None
    if result.alternative is not None:
        alternative = np.zeros((height, width), bool)
        alternative[cy1:cy2, cx1:cx2] = result.alternative[oy:oy + ch, ox:ox + cw]
    found = bool(full.any())
    return CellSegmentation(
        mask=full,
        nucleus=np.zeros((height, width), bool),
        found=found,
        reason=None if found else _box_reason(result.reason),
        scale=result.scale,
        alternative=alternative,
    )


def keep_region(box: tuple[int, int, int, int], width: int, height: int) -> np.ndarray:
    """Where the boxed cell may be: the box's inscribed ellipse grown by
    ``ELLIPSE_SLACK``, within the box grown by ``KEEP_MARGIN``. Cells are round,
    so the box corners hold neighbours. A box cut by the image border gets the
    ellipse of a round cell as wide as its longer side, running on beyond the border."""
    x1, y1, x2, y2 = box
    keep = np.zeros((height, width), np.uint8)
    kx, ky = int(KEEP_MARGIN * (x2 - x1)) + 1, int(KEEP_MARGIN * (y2 - y1)) + 1
    keep[max(0, y1 - ky):y2 + ky, max(0, x1 - kx):x2 + kx] = 1
    # A box cut by the image border: assume a round cell as wide as the box's
    # longer side and let its ellipse run on beyond that border.
    side = max(x2 - x1, y2 - y1)
    ex1 = min(x1, x2 - side) if x1 <= 0 else x1
    ex2 = max(x2, x1 + side) if x2 >= width else x2
    ey1 = min(y1, y2 - side) if y1 <= 0 else y1
    ey2 = max(y2, y1 + side) if y2 >= height else y2
    ellipse = np.zeros_like(keep)
    centre = (int(round((ex1 + ex2) / 2)), int(round((ey1 + ey2) / 2)))
    axes = (int(round(ELLIPSE_SLACK * (ex2 - ex1) / 2)), int(round(ELLIPSE_SLACK * (ey2 - ey1) / 2)))
    cv2.ellipse(ellipse, centre, axes, 0, 0, 360, 1, -1)
    return (keep & ellipse).astype(bool)


def _box_reason(reason: str | None) -> str:
    """Say "in the box" where the single-cell segmenter said "near the image centre"."""
    if not reason or "image centre" in reason:
        return "no stained cell in the box"
    return reason.replace("of the image", "of the box surroundings")


def _centre_pad(crop: np.ndarray, pad: tuple[int, int, int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """Pad the crop with its edge colour so the box centre is the crop centre."""
    top, bottom, left, right = pad
    dy, dx = bottom - top, right - left
    add_top, add_bottom = max(0, dy), max(0, -dy)
    add_left, add_right = max(0, dx), max(0, -dx)
    if not (add_top or add_bottom or add_left or add_right):
        return crop, (0, 0)
    padded = cv2.copyMakeBorder(crop, add_top, add_bottom, add_left, add_right, cv2.BORDER_REPLICATE)
    return padded, (add_top, add_left)


def _segment_blob(crop: np.ndarray, params: CellParams, outside: np.ndarray) -> CellSegmentation:
    """The stained blob at the crop centre, split from touching blobs (red cells)."""
    height, width = crop.shape[:2]
    scale = min(1.0, params.work_size / max(height, width))
    small = crop if scale == 1.0 else cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    f = stain_features(small, params.sigma)
    # One cell type against glass: a single Otsu split (no dark nuclei to skip).
    foreground = morph.fill_holes(f.total > max(otsu_threshold(f.total), 0.05))
    empty = np.zeros((height, width), bool)
    if not foreground.any():
        return CellSegmentation(empty, empty, False, "no stained cell in the box", scale)
    h, w = foreground.shape
    inner = inside_distance_glass_border(foreground)
    peaks = (inner >= cv2.dilate(inner, morph.disk(params.peak_window // 2))) & (inner >= 1.5)
    ys, xs = np.nonzero(peaks)
    if len(ys) == 0:
        return CellSegmentation(empty, empty, False, "no stained cell in the box", scale)
    centre = np.argmin(np.hypot(xs - w / 2.0, ys - h / 2.0))
    markers = np.zeros((h, w), np.int32)
    markers[~foreground] = 2
    if scale != 1.0:
        outside = cv2.resize(outside.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
    markers[outside] = 2
    for i, (y, x) in enumerate(zip(ys, xs)):
        cv2.circle(markers, (int(x), int(y)), max(1, int(0.4 * inner[y, x])), 1 if i == centre else 2, -1)
    labels = morph.flood_markers(flooding_relief(f, foreground, params), markers, foreground & (markers == 0))
    cell = morph.fill_holes(labels == 1)
    cell = morph.open_(cell, 1)
    if not cell.any():
        return CellSegmentation(empty, empty, False, "no stained cell in the box", scale)
    cell = morph.convex_hull(morph.largest_component(cell)) & ~outside
    alternative = morph.fill_holes(morph.keep_touching(morph.open_(foreground, 2), cell))
    smooth = 0.5 / scale
    return CellSegmentation(
        mask=morph.largest_component(morph.resize_mask(cell, width, height, smooth)),
        nucleus=empty,
        found=True,
        scale=scale,
        alternative=morph.resize_mask(alternative, width, height, smooth),
    )
