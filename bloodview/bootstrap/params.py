"""Tuning of the bootstrap segmenter: class priors and parameters.

Sizes are in working-resolution pixels (longest image side ``work_size``)
unless a name says otherwise; shares are of the working image's area or size.
"""

from __future__ import annotations

from dataclasses import dataclass

HOLE_AREA = 0.002  # foreground holes up to this share of the image are filled (red-cell pallor)


@dataclass(frozen=True)
class CellPrior:
    """What the folder's class tells us about the cell's size.

    ``max_growth``: how far (in units of the nucleus group's equivalent radius)
    the cell may extend beyond its nucleus; ``small``: the whole cell is the
    purple body (platelets) plus a thin rim; ``lobed``: the nucleus may come in
    several pieces (segmented neutrophils, eosinophils, basophil granule
    clusters) — for one-piece nuclei every other dark blob, such as a satellite
    platelet, belongs to another cell.
    """

    max_growth: float = 3.0
    small: bool = False
    lobed: bool = True


CLASS_PRIORS: dict[str, CellPrior] = {
    "platelet": CellPrior(max_growth=0.6, small=True),
    "erythroblast": CellPrior(max_growth=1.7, lobed=False),
    "lymphocyte": CellPrior(max_growth=2.2, lobed=False),
    "monocyte": CellPrior(lobed=False),
    "ig": CellPrior(lobed=False),
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
    small_min_purple: float = 0.31  # platelet seed: OD_red / OD_total above this (red cells ~0.25-0.31)
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
    foreign_nucleus: float = 2.0  # other nuclei beyond this x group radius are other cells ...
    foreign_gap: float = 2.0  # ... or beyond this many px for one-piece nuclei
