"""The Review panel's queue and overlap search, recomputed only for the cells an edit replaced.

On a 4000 x 3000 camera field of ~2,000 cells, rebuilding the review queue and searching the
image for overlapping cells after every class key or Space took ~40 ms of the ~58 ms per key
(Space paid the overlap search once more for its warning). A key replaces one cell (or the
selected few): edits replace a cell, never change one in place (:mod:`bloodview.gui.commands`),
so a cell object that is still there still has the same outline, class and scores, and only the
replaced cells' overlaps and queue entries need working out again. The results are the very
same as :func:`bloodview.gui.review.overlapping_cells` and
:func:`bloodview.gui.review.review_queue`, white cells first (``tests/gui/test_review_index.py``
compares them after random edits, class changes that move a cell between the queue's groups
included). Qt-free.
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Sequence
from itertools import islice

import numpy as np

from bloodview.core.annotation import ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import polygon_iou
from bloodview.core.instance import Instance
from bloodview.gui.review import (
    OVERLAP_IOU,
    Overlap,
    QueueEntry,
    cell_box,
    certainty,
    group_overlaps,
    is_checked,
    is_unidentified,
    overlap_links,
    overlapping_cells,
    queue_group,
    queue_groups,
)

FULL_SEARCH_ABOVE = 64
"""More replaced cells than this: search the whole image again (as fast then, and simpler)."""


def same_cells(a: Sequence[Instance], b: Sequence[Instance]) -> bool:
    """The same cell objects in the same order (a C-speed identity test, ~0.05 ms per 2,000)."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


class _ImageOverlaps:
    """One image's overlap links (``(id_a, id_b) -> IoU`` above the threshold), for its cells."""

    def __init__(self, cells: tuple[Instance, ...], threshold: float):
        self.threshold = threshold
        self._search_all(cells)

    def _search_all(self, cells: tuple[Instance, ...]) -> None:
        self.cells = cells
        self.links = overlap_links(cells, self.threshold)
        self.overlaps = group_overlaps(cells, self.links)

    def update(self, cells: tuple[Instance, ...]) -> None:
        if same_cells(cells, self.cells):
            return
        before = {cell.id: cell for cell in self.cells}
        ids = [cell.id for cell in cells]
        changed = [n for n, cell in enumerate(cells) if before.get(cell.id) is not cell]
        kept = set(ids).difference(cells[n].id for n in changed)
        if (len(changed) > FULL_SEARCH_ABOVE or len(set(ids)) != len(ids)
                or [i for i in ids if i in kept] != [c.id for c in self.cells if c.id in kept]):
            self._search_all(cells)  # e.g. kept cells reordered: each IoU is taken a-before-b
            return
        links = {pair: iou for pair, iou in self.links.items() if pair[0] in kept and pair[1] in kept}
        if changed:
            boxes = np.array([cell_box(c) for c in cells], dtype=np.float64)
            pairs = set()
            for n in changed:
                for m in np.flatnonzero(_touching(boxes, n)):
                    pairs.add((min(n, int(m)), max(n, int(m))))
            for a, b in sorted(pairs):
                iou = polygon_iou(cells[a].polygons, cells[b].polygons)
                if iou > self.threshold:
                    links[cells[a].id, cells[b].id] = iou
        self.cells, self.links = cells, links
        self.overlaps = group_overlaps(cells, links)


def _touching(boxes: np.ndarray, n: int) -> np.ndarray:
    """Which ``(N, 4)`` boxes share a positive area with box ``n`` (not itself): one row of
    :func:`bloodview.gui.review.touching_pairs`."""
    x1, y1, x2, y2 = (boxes[:, k] for k in range(4))
    real = (x2 > x1) & (y2 > y1)
    hit = (x1 < x2[n]) & (x1[n] < x2) & (y1 < y2[n]) & (y1[n] < y2) & real & real[n]
    hit[n] = False
    return hit


class OverlapIndex:
    """:func:`overlapping_cells` per image, kept up to date from the cells that changed."""

    def __init__(self, threshold: float = OVERLAP_IOU):
        self.threshold = threshold
        self._images: dict[int, tuple[ImageAnnotation, _ImageOverlaps]] = {}

    def overlaps_of(self, image: ImageAnnotation) -> list[Overlap]:
        cells = tuple(image.instances)
        held = self._images.get(id(image))
        if held is None or held[0] is not image:
            if len(cells) < 2:
                return overlapping_cells(image, self.threshold)
            held = self._images[id(image)] = (image, _ImageOverlaps(cells, self.threshold))
        held[1].update(cells)
        return held[1].overlaps

    def keep_only(self, images: Sequence[ImageAnnotation]) -> None:
        """Forget images no longer open (the index holds them alive)."""
        live = {id(image) for image in images}
        self._images = {k: v for k, v in self._images.items() if k in live}


class QueueIndex:
    """:func:`review_queue` over a project, each image's unchecked cells kept sorted and
    recomputed only when its cells changed; the images' lists are merged for the first few.

    The sort key is the class's queue group (white cells, platelets, red cells) then certainty; the
    groups come from the class catalogue at each call, so a class that changes flags or a catalogue
    swapped for another re-sorts the images' lists (their entries are kept: a cell's entry does not
    depend on the catalogue). A cell whose class a person changed is a new cell object, so its entry
    is made again under its new class and group."""

    def __init__(self):
        self._images: dict[int, tuple[ImageAnnotation, tuple[Instance, ...], float, dict[str, int],
                                      list[QueueEntry]]] = {}

    def queue(self, images: Sequence[ImageAnnotation], threshold: float, classes: ClassCatalogue,
              limit: int | None = None) -> list[QueueEntry]:
        groups = queue_groups(classes)

        def key(entry: QueueEntry) -> tuple[int, float]:
            return queue_group(groups, entry.class_name), entry.certainty

        runs = []
        live = set()
        for index, image in enumerate(images):
            live.add(id(image))
            runs.append(self._entries(index, image, threshold, groups, key))
        self._images = {k: v for k, v in self._images.items() if k in live}
        # Each run is sorted by (group, certainty), ties in cell order; merge takes ties from the
        # earlier image first: the order of sorting everything by (group, certainty, image index).
        merged = heapq.merge(*runs, key=key)
        return list(merged if limit is None else islice(merged, limit))

    def _entries(self, index: int, image: ImageAnnotation, threshold: float, groups: dict[str, int],
                 key) -> list[QueueEntry]:
        cells = tuple(image.instances)
        held = self._images.get(id(image))
        if (held is not None and held[0] is image and held[2] == threshold and held[3] == groups
                and same_cells(held[1], cells)):
            entries = held[4]
            if entries and entries[0].image_index != index:  # an image removed before it
                entries = [QueueEntry(index, *_rest(e)) for e in entries]
        else:
            reuse = {}
            if held is not None and held[0] is image and held[2] == threshold:
                reuse = {id(cell): entry for cell, entry in zip(held[1], _by_cell(held[1], held[4]))}
            entries = []
            for cell in cells:
                entry = reuse.get(id(cell))
                if entry is None and not is_checked(cell):
                    entry = QueueEntry(index, cell.id, cell.class_name, certainty(cell), is_unidentified(cell, threshold))
                if entry is not None:
                    entries.append(entry if entry.image_index == index else QueueEntry(index, *_rest(entry)))
            entries.sort(key=key)
        self._images[id(image)] = (image, cells, threshold, groups, entries)
        return entries


def _rest(entry: QueueEntry) -> tuple:
    return entry.instance_id, entry.class_name, entry.certainty, entry.unidentified


def _by_cell(cells: Sequence[Instance], entries: list[QueueEntry]) -> list[QueueEntry | None]:
    """Each cell's entry (``None`` for a checked cell), in cell order."""
    by_id = {entry.instance_id: entry for entry in entries}
    return [by_id.get(cell.id) for cell in cells]
