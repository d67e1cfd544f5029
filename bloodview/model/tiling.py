"""Overlapping tiles over a large image, and which tile owns which detection (NumPy only).

A camera field is far larger than the network's square input, so the detector
runs on tiles of ``tile x tile`` pixels that overlap by at least ``overlap``
pixels. Every tile owns a *core*: the tiles' cores cut the image into disjoint
rectangles, the cut between two neighbours lying in the middle of their overlap.
A detection is kept only by the tile whose core holds its box centre. When the
overlap is at least the largest cell's diameter, a cell whose centre lies in a
core is whole inside that tile (at least ``overlap / 2`` from its inner edges),
so each cell is taken once, from a tile that shows it whole. Because neighbouring
tiles draw a cell's box slightly differently, the prediction widens each core by a
quarter of the overlap and removes the resulting twins by box overlap.

Coordinates: pixels of the (already rescaled) image; boxes ``(y1, x1, y2, x2)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tile:
    """One tile: its top-left corner, its real extent and the core it owns (image pixels)."""

    y0: int
    x0: int
    height: int  # real image pixels in the tile (<= tile side at the bottom/right border)
    width: int
    core: tuple[float, float, float, float]  # (y1, x1, y2, x2)

    def inner_edges(self, image_height: int, image_width: int) -> tuple[bool, bool, bool, bool]:
        """Which of the tile's top, left, bottom, right edges cut the image (are not its border)."""
        return (
            self.y0 > 0,
            self.x0 > 0,
            self.y0 + self.height < image_height,
            self.x0 + self.width < image_width,
        )


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of side ``tile`` covering ``length`` pixels, neighbours overlapping by ``>= overlap``.

    One tile when the length fits; otherwise the fewest tiles that keep the
    overlap, spread evenly so the last one ends exactly at the border.
    """
    if length <= 0 or tile <= 0:
        raise ValueError(f"length and tile must be positive, got {length} and {tile}")
    if not 0 <= overlap < tile:
        raise ValueError(f"the overlap must be at least 0 and smaller than the tile ({tile}), got {overlap}")
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    count = max(count, 2)
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def _cores(starts: list[int], tile: int, length: int) -> list[tuple[float, float]]:
    cuts = [(later + earlier + tile) / 2.0 for earlier, later in zip(starts, starts[1:])]
    bounds = [0.0, *cuts, float(length)]
    return list(zip(bounds[:-1], bounds[1:]))


def plan_tiles(height: int, width: int, tile: int | tuple[int, int], overlap: int) -> list[Tile]:
    """Tiles of side ``tile`` (or ``(tile height, tile width)``) covering a ``height x width`` image,
    row by row; one tile when the image fits."""
    tile_h, tile_w = (tile, tile) if isinstance(tile, int) else tile
    rows, cols = tile_starts(height, tile_h, overlap), tile_starts(width, tile_w, overlap)
    row_cores, col_cores = _cores(rows, tile_h, height), _cores(cols, tile_w, width)
    tiles = []
    for y0, (cy1, cy2) in zip(rows, row_cores):
        for x0, (cx1, cx2) in zip(cols, col_cores):
            tiles.append(
                Tile(y0=y0, x0=x0, height=min(tile_h, height - y0), width=min(tile_w, width - x0),
                     core=(cy1, cx1, cy2, cx2))
            )
    return tiles


def tile_shape(height: int, width: int, overlap: int, max_area: int, multiple: int = 64) -> tuple[int, int]:
    """The ``(tile height, tile width)`` whose tiles cover a ``height x width`` image in the fewest pixels.

    Each side is a multiple of ``multiple`` and the tile's area at most ``max_area`` (it bounds
    the network's memory); among grids of rows x columns of equal tiles overlapping by at least
    ``overlap``, the one with the least total tile area wins (fewer tiles on a tie). A 793 x 595
    field then runs as one 832 x 640 tile instead of a 1024 x 1024 square, a 3306 x 2480 one as
    6 tiles of 1280 x 1344 instead of 12 of 1024 x 1024.
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"an image to tile must have positive sides, got {height}x{width}")
    smallest = multiple * math.ceil((overlap + 1) / multiple)  # a tile must be larger than the overlap
    if smallest * smallest > max_area:
        raise ValueError(f"tiles of at most {max_area} pixels cannot overlap by {overlap}")

    def side(length: int, count: int) -> int:
        need = length if count == 1 else (length + (count - 1) * overlap) / count
        return max(smallest, multiple * math.ceil(need / multiple))

    best: tuple[int, int, int, int] | None = None  # (total area, tiles, tile height, tile width)
    for rows in range(1, math.ceil(height / (smallest - overlap)) + 2):
        tile_h = side(height, rows)
        if tile_h * smallest > max_area:
            continue
        fewest = 1
        while side(width, fewest) * tile_h > max_area:
            fewest += 1
        for cols in range(fewest, fewest + 3):  # more columns than that only add overlap
            tile_w = side(width, cols)
            # rounding the sides up may let fewer tiles cover an axis than asked for
            count = len(tile_starts(height, tile_h, overlap)) * len(tile_starts(width, tile_w, overlap))
            candidate = (count * tile_h * tile_w, count, tile_h, tile_w)
            if best is None or candidate[:2] < best[:2]:
                best = candidate
    if best is None:
        raise ValueError(f"no tile of at most {max_area} pixels covers a {height}x{width} image")
    return best[2], best[3]


def owned_rows(boxes: np.ndarray, tile: Tile, margin: float = 0.0) -> np.ndarray:
    """Bool ``(N,)``: which of the tile's boxes (tile pixels, ``(N, 4)``) have their centre in its core.

    ``margin`` widens the core on every side. Two tiles never draw a cell's box
    exactly alike, so a cell centred on the cut between two cores can have its
    centre just outside both; with a margin both keep it and the duplicate is
    suppressed afterwards (:mod:`bloodview.model.dedupe`). A cell centred within
    the widened core is still whole in the tile when its diameter is at most
    ``overlap - 2 * margin``.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    cy = (boxes[:, 0] + boxes[:, 2]) / 2.0 + tile.y0
    cx = (boxes[:, 1] + boxes[:, 3]) / 2.0 + tile.x0
    y1, x1, y2, x2 = tile.core
    return (cy >= y1 - margin) & (cy < y2 + margin) & (cx >= x1 - margin) & (cx < x2 + margin)


def cut_rows(boxes: np.ndarray, tile: Tile, image_height: int, image_width: int, margin: float = 2.0) -> np.ndarray:
    """Bool ``(N,)``: boxes (tile pixels) reaching within ``margin`` of an edge where the tile cuts the image.

    Such a detection may be part of a cell that goes on outside the tile.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    top, left, bottom, right = tile.inner_edges(image_height, image_width)
    cut = np.zeros(len(boxes), dtype=bool)
    if top:
        cut |= boxes[:, 0] <= margin
    if left:
        cut |= boxes[:, 1] <= margin
    if bottom:
        cut |= boxes[:, 2] >= tile.height - margin
    if right:
        cut |= boxes[:, 3] >= tile.width - margin
    return cut
