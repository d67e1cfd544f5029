"""Hand-made smear-like images with known cell outlines, for the bootstrap tests.

Colours are MGG-like RGB: glass (250, 232, 215), red cell (215, 150, 160),
pale cytoplasm (205, 185, 215), purple nucleus (90, 50, 140).
"""

from __future__ import annotations

import cv2
import numpy as np

GLASS = (250, 232, 215)
RED_CELL = (215, 150, 160)
CYTOPLASM = (200, 175, 215)
NUCLEUS = (90, 50, 140)
PLATELET = (120, 80, 160)


def disc(shape: tuple[int, int], centre: tuple[int, int], radius: int) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.circle(mask, centre, radius, 1, -1)
    return mask.astype(bool)


def smear(size: int = 360, seed: int = 0, glass: tuple[int, int, int] = GLASS) -> np.ndarray:
    """Glass with a little noise."""
    rng = np.random.default_rng(seed)
    image = np.empty((size, size, 3), np.float32)
    image[:] = glass
    image += rng.normal(0, 2.0, image.shape)
    return image


def paint(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> None:
    image[mask] = colour


def finish(image: np.ndarray) -> np.ndarray:
    return np.clip(cv2.GaussianBlur(image, (0, 0), 1.0), 0, 255).astype(np.uint8)


def white_cell_with_red_cells(size: int = 360, glass: tuple[int, int, int] = GLASS):
    """A centred white cell (radius 55, nucleus 30) touched by two red cells.

    Returns ``(rgb, cell_mask, red_cells_mask)``.
    """
    shape = (size, size)
    c = size // 2
    image = smear(size, glass=glass)
    red = disc(shape, (c + 85, c), 35) | disc(shape, (c - 60, c - 75), 35) | disc(shape, (60, 60), 35)
    paint(image, red, RED_CELL)
    cell = disc(shape, (c, c), 55)
    paint(image, cell, CYTOPLASM)
    paint(image, disc(shape, (c - 8, c + 5), 30), NUCLEUS)
    return finish(image), cell, red


def platelet_image(size: int = 360):
    """A small purple platelet (radius 8) at the centre among red cells."""
    shape = (size, size)
    c = size // 2
    image = smear(size)
    red = disc(shape, (c + 40, c + 10), 35) | disc(shape, (c - 50, c - 30), 35)
    paint(image, red, RED_CELL)
    platelet = disc(shape, (c, c), 8)
    paint(image, platelet, PLATELET)
    return finish(image), platelet


def lymphocyte_with_satellite_platelet(size: int = 360):
    """A centred lymphocyte (nucleus radius 38, thin rim to 44) with a platelet
    (radius 9) touching its rim. Returns ``(rgb, cell_mask, platelet_mask)``."""
    shape = (size, size)
    c = size // 2
    image = smear(size)
    cell = disc(shape, (c, c), 44)
    paint(image, cell, CYTOPLASM)
    paint(image, disc(shape, (c, c), 38), NUCLEUS)
    platelet = disc(shape, (c + 52, c), 9)
    paint(image, platelet, PLATELET)
    return finish(image), cell, platelet
