"""Segment the one stained cell at the centre of a single-cell image (PBC layout).

Algorithm (all at a reduced "working" resolution, see :class:`CellParams`;
docs/bootstrap.md has the figures):

1. Stain features (:mod:`bloodview.bootstrap.stain`): optical density relative
   to the image's own background colour, so different stains/lamps look alike.
2. Foreground: recursive Otsu on the summed OD (glass vs stained matter) with
   hysteresis for pale cytoplasm; small holes (red-cell pallor) filled.
3. Seed: the foreground blob under the centre; Otsu of the summed OD inside it
   gives the nucleus (the darkest part of its own cell, whatever the stain).
   The nucleus component nearest the centre plus nearby lobes is the seed;
   platelets use their whole purple body instead.
4. Markers (:mod:`bloodview.bootstrap.markers`): 1 = the seed; 2 = glass,
   other nuclei, cores of neighbouring blobs, red-cell-coloured pixels, pixels
   beyond the class's growth limit, and ``exclude`` (e.g. outside a box).
5. Flooding (:func:`morphology.flood_markers`) on ``-distance_to_glass +
   edge_weight * OD gradient``: touching round cells part at their neck, on the
   visible edge.
6. Clean-up: fill holes, open, keep what touches the seed, cut narrow bumps
   (:func:`morphology.star_clip`), smooth; resample to full resolution.

Input: RGB ``uint8`` ``(H, W, 3)``. Output masks are full-resolution ``bool``
``(H, W)``. Nothing here reads files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from bloodview.bootstrap import morphology as morph
from bloodview.bootstrap.markers import cell_markers, flooding_relief, red_cell_cores
from bloodview.bootstrap.params import CLASS_PRIORS, HOLE_AREA, CellParams, CellPrior
from bloodview.bootstrap.stain import StainFeatures, otsu_threshold, stain_features


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
    nuclei = _nuclei(f, foreground, blob, prior, params)
    if prior.small:
        nuclei = morph.close(nuclei, 2)
    group = _nucleus_group(nuclei, params, chain=prior.lobed and not prior.small)
    if group is None:
        return None
    group_radius = float(np.sqrt(group.sum() / np.pi))
    markers = cell_markers(foreground, nuclei, group, group_radius, prior, params)
    markers[(markers == 0) & red_cell_cores(f, foreground, group, group_radius, params)] = 2
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
    f: StainFeatures, foreground: np.ndarray, blob: np.ndarray, prior: CellPrior, params: CellParams
) -> np.ndarray:
    """Dark (nuclear, or platelet) regions: Otsu of the summed OD within the central blob.

    Within one cell the nucleus is the darkest part, whatever the stain. A
    platelet has no nucleus: its whole body is the seed, so the level is kept
    between ``small_floor`` and ``small_guard`` x the red-cell level (median OD
    of the other blobs), which the purple body clears and red cells do not;
    the seed must also be purple (red-channel share of the OD), which a red
    cell's dark rim is not.
    """
    total = f.total
    t = max(otsu_threshold(total[blob]), params.min_nucleus_od)
    if not prior.small:
        return morph.open_(total > t, 1)
    others = total[foreground & ~blob]
    if others.size >= params.rbc_min_reference * total.size:
        red_level = float(np.median(others))
        t = min(max(t, params.small_floor * red_level), params.small_guard * red_level)
        t = max(t, params.min_nucleus_od)
    purple = cv2.GaussianBlur(f.purple / (total + 1e-3), (0, 0), 1.5)
    return morph.open_((total > t) & (purple > params.small_min_purple), 1)


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
