"""Segment the one stained cell at the centre of a single-cell image (PBC layout).

Algorithm (all at a reduced "working" resolution, see :class:`CellParams`):

1. Stain features (:mod:`bloodview.bootstrap.stain`): optical density relative
   to the image's own background colour, so different stains/lamps look alike.
2. Two thresholds on the summed OD by recursive Otsu: background vs stained
   matter (``foreground``), then a "purple" threshold on the red-channel OD for
   nuclei (and platelets), guarded by the red-cell level seen at the image border.
3. The nucleus component nearest the centre is the seed; nearby nuclear lobes
   (segmented neutrophils, eosinophils) are added to it.
4. Touching cells are split by a marker watershed (OpenCV, on the OD image so
   lines follow stain edges): marker 1 = the nucleus group; marker 2 = glass,
   other nuclei, and the cores of neighbouring objects found as peaks of the
   foreground's distance transform whose inscribed disc does not reach the
   nucleus (red cells are round blobs; the cell of interest is the blob that
   holds the nucleus). A class prior (platelets are small) bounds the growth.
5. Holes are filled, the region is opened, kept connected to the nucleus, and
   resampled to full resolution with a smooth outline.

Input: RGB ``uint8`` ``(H, W, 3)``. Output masks are full-resolution ``bool``
``(H, W)``. Nothing here reads files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from bloodview.bootstrap import morphology as morph
from bloodview.bootstrap.stain import StainFeatures, otsu_threshold, stain_features


HOLE_AREA = 0.002  # foreground holes up to this share of the image are filled (red-cell pallor)


@dataclass(frozen=True)
class CellPrior:
    """What the folder's class tells us about the cell's size.

    ``max_growth``: how far (in units of the nucleus group's equivalent radius)
    the cell may extend beyond its nucleus; ``small``: the whole cell is the
    purple body (platelets) plus a thin rim.
    """

    max_growth: float = 3.0
    small: bool = False


CLASS_PRIORS: dict[str, CellPrior] = {
    "platelet": CellPrior(max_growth=0.6, small=True),
    "erythroblast": CellPrior(max_growth=2.2),
    "lymphocyte": CellPrior(max_growth=2.2),
}


@dataclass(frozen=True)
class CellParams:
    """Tuning of :func:`segment_cell`; sizes in working-resolution pixels."""

    work_size: int = 180  # longest side at which the work is done (never upscaled)
    sigma: float = 1.0  # smoothing of the OD image
    min_nucleus_area: float = 6.0
    max_centre_distance: float = 0.3  # seed must come this close to the centre (x image size)
    min_nucleus_od: float = 0.2
    max_cell_share: float = 0.85  # an outline over more of the image than this is a failure
    max_small_share: float = 0.1  # ... for platelets
    small_guard: float = 1.8  # platelets: seed level at most this x the red cells' median OD
    small_floor: float = 1.3  # ... and at least this x (a red cell is never a platelet seed)
    peak_window: int = 7
    min_peak_radius: float = 2.5
    own_peak_reach: float = 0.7  # a blob core is the cell's own if 0.7 x its radius reaches the nucleus
    lobe_reach: float = 1.5  # lobes within this x seed radius join the nucleus group
    outline_smoothing: float = 1.5  # Gaussian (px) on the final white-cell mask: round, not ragged
    edge_weight: float = 0.5  # weight of stain edges vs blob shape in the flooding relief
    nucleus_rim: float = 2.0  # the nucleus edge is not a cell edge: flood across it first
    rbc_reference_distance: float = 1.5  # red-cell colour read beyond this x nucleus radius
    rbc_reference_band: float = 0.3  # ... and beyond this x image size from the centre
    rbc_min_reference: float = 0.03  # share of the image: fewer reference pixels, no colour markers
    rbc_min_blue_fraction: float = 0.2
    rbc_blue_margin: float = 0.03
    rbc_max_total: float = 1.5
    rbc_keep_off: float = 0.5  # no red-cell marker closer to the nucleus than this x its radius ...
    rbc_keep_off_max: float = 8.0  # ... or than this many px
    foreign_nucleus: float = 2.0  # other nuclei beyond this x group radius are other cells


@dataclass
class CellSegmentation:
    """Result for one image; ``mask``/``nucleus`` are full-resolution bool masks.

    ``found`` is False (and masks empty) when no stained cell is near the centre;
    ``reason`` then says why. ``scale`` is working / full resolution.
    ``alternative`` is a second, cruder mask (threshold + opening) used by the
    quality score to measure agreement.
    """

    mask: np.ndarray
    nucleus: np.ndarray
    found: bool
    reason: str | None = None
    scale: float = 1.0
    alternative: np.ndarray | None = None
    details: dict[str, float] = field(default_factory=dict)


def segment_cell(
    rgb: np.ndarray,
    class_name: str | None = None,
    params: CellParams = CellParams(),
    exclude: np.ndarray | None = None,
) -> CellSegmentation:
    """Segment the cell of interest (nucleus + cytoplasm) nearest the image centre.

    ``exclude`` (optional bool ``(H, W)``) marks pixels known not to belong to
    the cell, e.g. everything outside a given box.
    """
    height, width = rgb.shape[:2]
    scale = min(1.0, params.work_size / max(height, width))
    small = rgb if scale == 1.0 else cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    prior = CLASS_PRIORS.get(class_name or "", CellPrior())
    features = stain_features(small, params.sigma)
    if exclude is not None and scale != 1.0:
        exclude = cv2.resize(exclude.astype(np.uint8), (small.shape[1], small.shape[0]),
                             interpolation=cv2.INTER_NEAREST).astype(bool)
    result = segment_features(features, prior, params, exclude)
    if result is None:
        empty = np.zeros((height, width), bool)
        return CellSegmentation(empty, empty, False, "no stained cell near the image centre", scale)
    cell, nucleus, alternative, details = result
    smooth = 0.5 / scale
    mask = morph.largest_component(morph.resize_mask(cell, width, height, smooth))
    limit = params.max_small_share if prior.small else params.max_cell_share
    if mask.mean() > limit:
        empty = np.zeros((height, width), bool)
        reason = f"outline spread over {mask.mean():.0%} of the image (more than one cell)"
        return CellSegmentation(empty, empty, False, reason, scale)
    return CellSegmentation(
        mask=mask,
        nucleus=morph.resize_mask(nucleus, width, height, smooth) & mask,
        found=True,
        scale=scale,
        alternative=morph.resize_mask(alternative, width, height, smooth),
        details=details,
    )


def segment_features(
    f: StainFeatures, prior: CellPrior, params: CellParams, exclude: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, float]] | None:
    """Working-resolution core: ``(cell, nucleus, alternative, details)`` or None."""
    foreground = foreground_mask(f.total)
    blob = _central_blob(foreground, params)
    if blob is None:
        return None
    nuclei = _nuclei(f.total, foreground, blob, prior, params)
    if prior.small:
        nuclei = morph.close(nuclei, 2)
    group = _nucleus_group(nuclei, params, chain=not prior.small)
    if group is None:
        return None
    group_radius = float(np.sqrt(group.sum() / np.pi))
    markers = _markers(foreground, nuclei, group, group_radius, prior, params)
    markers[(markers == 0) & _red_cells(f, foreground, group, group_radius, params)] = 2
    if exclude is not None:
        markers[exclude & (markers == 0)] = 2
    relief = flooding_relief(f, foreground, params)
    relief[morph.dilate(group, params.nucleus_rim) & (markers == 0)] = relief.min()
    labels = morph.flood_markers(relief, markers, foreground & (markers == 0))
    cell = labels == 1
    cell = morph.fill_holes(cell)
    cell = morph.open_(cell, max(1.0, 0.12 * group_radius) if not prior.small else 1.0)
    cell = morph.keep_touching(cell, group) | group
    cell = morph.fill_holes(cell)
    if not prior.small:
        ys, xs = np.nonzero(cell)
        cell = morph.star_clip(cell, (float(xs.mean()), float(ys.mean()))) | group
        cell = morph.keep_touching(cell, group)
        cell = morph.smooth(cell, params.outline_smoothing) | group
    alternative = _alternative(foreground, group, group_radius, prior)
    details = {"group_radius": group_radius}
    return cell, group, alternative, details


def _red_cells(
    f: StainFeatures, foreground: np.ndarray, group: np.ndarray, group_radius: float, params: CellParams
) -> np.ndarray:
    """Cores of red-cell-coloured regions (glass-relative colour, learnt per image).

    Red cells absorb relatively more blue light than white-cell cytoplasm
    (OD_blue / OD_total ~ 0.28 vs 0.11-0.23 on PBC). The red-cell colour is
    read from blob cores far from the nucleus and from the image centre; when
    there are too few of them (a crop filled by the cell) or they do not look
    like red cells, nothing is marked.
    """
    inner = inside_distance_glass_border(foreground)
    h, w = foreground.shape
    yy, xx = np.ogrid[0:h, 0:w]
    outer = np.hypot(xx - w / 2.0, yy - h / 2.0) > params.rbc_reference_band * max(h, w)
    far = foreground & outer & (morph.distance_to(group) > params.rbc_reference_distance * group_radius) & (inner > 2)
    if far.sum() < params.rbc_min_reference * far.size:
        return np.zeros_like(foreground)
    blue = cv2.GaussianBlur(f.od[..., 2] / (f.total + 1e-3), (0, 0), 1.5)
    ref_blue = float(np.median(blue[far]))
    ref_total = float(np.median(f.total[far]))
    if ref_blue < params.rbc_min_blue_fraction:
        return np.zeros_like(foreground)
    red_like = foreground & (blue > ref_blue - params.rbc_blue_margin) & (f.total < params.rbc_max_total * ref_total)
    red_like = morph.open_(red_like, 1.5)
    red_like &= morph.distance_to(group) > min(params.rbc_keep_off * group_radius, params.rbc_keep_off_max)
    return morph.erode(red_like, 1)


def inside_distance_glass_border(foreground: np.ndarray) -> np.ndarray:
    """Distance to glass, counting the image border as glass (cut red cells stay small)."""
    padded = cv2.copyMakeBorder(foreground.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    return morph.inside_distance(padded)[1:-1, 1:-1]


def flooding_relief(f: StainFeatures, foreground: np.ndarray, params: CellParams) -> np.ndarray:
    """Flooding relief: deep inside round blobs floods first, stain edges last.

    ``-distance-to-glass`` splits touching round cells at their neck; the OD
    gradient (Sobel, summed over channels) moves the line onto the visible edge.
    """
    inner = inside_distance_glass_border(foreground)
    scale = max(float(inner.max()), 1.0)
    grad = np.zeros(foreground.shape, np.float32)
    for c in range(3):
        gx = cv2.Sobel(f.od[..., c], cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(f.od[..., c], cv2.CV_32F, 0, 1, ksize=3)
        grad += np.sqrt(gx * gx + gy * gy)
    g_scale = max(float(np.percentile(grad[foreground], 95)) if foreground.any() else 1.0, 1e-3)
    return -inner / scale + params.edge_weight * np.minimum(grad / g_scale, 1.5)


def foreground_mask(total: np.ndarray) -> np.ndarray:
    """Stained matter vs glass, holes filled.

    Otsu below the first (dark) Otsu split gives a confident level; pale
    cytoplasm is then added by hysteresis down to half of it.
    """
    dark = otsu_threshold(total)
    faint = max(otsu_threshold(total[total < dark]), 0.05)
    sure = total > faint
    maybe = total > max(0.5 * faint, 0.04)
    return morph.fill_holes(morph.keep_touching(maybe, sure), max_area=HOLE_AREA * total.size)


def _central_blob(foreground: np.ndarray, params: CellParams) -> np.ndarray | None:
    """The foreground region under (or nearest to) the image centre."""
    count, labels, stats = morph.components(foreground)
    h, w = foreground.shape
    cy, cx = h // 2, w // 2
    label = labels[cy, cx]
    if label == 0:
        if count <= 1:
            return None
        near = morph.distance_to(np.zeros_like(foreground) | _point(h, w, cx, cy))
        candidates = [(float(near[labels == i].min()), i) for i in range(1, count)]
        dist, label = min(candidates)
        if dist > params.max_centre_distance * max(h, w):
            return None
    return labels == label


def _point(h: int, w: int, x: int, y: int) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    mask[y, x] = True
    return mask


def _nuclei(
    total: np.ndarray, foreground: np.ndarray, blob: np.ndarray, prior: CellPrior, params: CellParams
) -> np.ndarray:
    """Dark (nuclear, or platelet) regions: Otsu of the summed OD within the central blob.

    Within one cell the nucleus is the darkest part, whatever the stain. A
    platelet has no nucleus: its whole body is the seed, so the level is kept
    between ``small_floor`` and ``small_guard`` x the red-cell level (median OD
    of the other blobs), which the purple body clears and red cells do not.
    """
    t = max(otsu_threshold(total[blob]), params.min_nucleus_od)
    if prior.small:
        others = total[foreground & ~blob]
        if others.size >= params.rbc_min_reference * total.size:
            red_level = float(np.median(others))
            t = min(max(t, params.small_floor * red_level), params.small_guard * red_level)
            t = max(t, params.min_nucleus_od)
    return morph.open_(total > t, 1)


def _nucleus_group(nuclei: np.ndarray, params: CellParams, chain: bool = True) -> np.ndarray | None:
    """The nucleus nearest the centre plus nearby lobes (``chain``), or None when none is central."""
    count, labels, stats = morph.components(nuclei)
    if count <= 1:
        return None
    h, w = nuclei.shape
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    large = areas >= params.min_nucleus_area
    large[0] = False
    nearest = np.full(count, np.inf)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    for label in np.nonzero(large)[0]:
        x, y, bw, bh = stats[label, :4]
        ys, xs = np.nonzero(labels[y:y + bh, x:x + bw] == label)
        nearest[label] = float(np.hypot(xs + x - cx, ys + y - cy).min())
    cost = nearest - 0.3 * np.sqrt(areas / np.pi)
    usable = large & (nearest <= params.max_centre_distance * max(h, w))
    if not usable.any():
        return None
    best = int(np.argmin(np.where(usable, cost, np.inf)))
    members = np.zeros(count, bool)
    members[best] = True
    if not chain:
        return members[labels]
    reach = max(3.0, params.lobe_reach * float(np.sqrt(areas[best] / np.pi)))
    for _ in range(4):
        touched = np.unique(labels[morph.dilate(members[labels], reach)])
        grown = members.copy()
        grown[touched] = True
        grown &= large | members
        if grown.sum() == members.sum():
            break
        members = grown
    return members[labels]


def _markers(
    foreground: np.ndarray,
    nuclei: np.ndarray,
    group: np.ndarray,
    group_radius: float,
    prior: CellPrior,
    params: CellParams,
) -> np.ndarray:
    """Watershed markers: 1 = cell of interest, 2 = everything known not to be it."""
    markers = np.zeros(foreground.shape, np.int32)
    background = ~morph.dilate(foreground, 1)
    others = nuclei & ~group
    to_group = morph.distance_to(group)
    others &= to_group > max(3.0, params.foreign_nucleus * group_radius)
    inner = inside_distance_glass_border(foreground)
    window = morph.disk(params.peak_window // 2)
    peaks = (inner >= cv2.dilate(inner, window)) & (inner >= params.min_peak_radius)
    # A peak whose (shrunken) inscribed disc reaches the nucleus belongs to the cell of interest.
    foreign = peaks & (to_group > params.own_peak_reach * inner + 1.0)
    cores = np.zeros(foreground.shape, np.uint8)
    ys, xs = np.nonzero(foreign)
    for y, x in zip(ys, xs):
        cv2.circle(cores, (int(x), int(y)), max(1, int(0.5 * inner[y, x])), 1, -1)
    too_far = to_group > prior.max_growth * group_radius + (1.5 if prior.small else 0.0)
    markers[background | others | cores.astype(bool) | too_far] = 2
    markers[group] = 1
    return markers


def _alternative(
    foreground: np.ndarray, group: np.ndarray, group_radius: float, prior: CellPrior
) -> np.ndarray:
    """A second opinion: the foreground blob holding the nucleus, opened by a disk
    larger than the necks to touching red cells (no watershed)."""
    radius = max(1.0, (0.25 if prior.small else 0.45) * group_radius)
    blob = morph.open_(foreground, radius)
    blob = morph.keep_touching(blob, group) | group
    limit = morph.distance_to(group) <= prior.max_growth * group_radius + 1.5
    return morph.fill_holes(blob & limit)
