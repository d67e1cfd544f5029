"""Run the bootstrap segmenter over many images in parallel and build a Dataset.

Workers (``multiprocessing`` with ``spawn``) get :class:`WorkItem` s and send
back small picklable :class:`ItemResult` s (polygons + quality cues, no masks).
The parent then scores quality against each class's typical area (a second pass,
since "typical" is only known once all masks are in) and makes
``Instance(source=BOOTSTRAP, reviewed=False, quality=..., origin="bootstrap@<v>")``.
Nothing is written here; the caller saves the Dataset atomically, so an error
halfway never leaves a partial file. With a pixel size (``--pixel-size``) each
image is segmented at the scale the segmenter was tuned at
(:mod:`bloodview.bootstrap.scale`) and its outlines are mapped back; the pixel
size it was read at is kept on the image.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from bloodview.bootstrap import BOOTSTRAP_VERSION
from bloodview.bootstrap.inputs import InputScan, WorkItem
from bloodview.bootstrap.quality import FLAG_THRESHOLD, QualityCues, measure_cues, score, typical_areas
from bloodview.bootstrap.segment_box import clip_box, segment_in_box
from bloodview.bootstrap.params import CellParams
from bloodview.bootstrap.scale import PixelSizeOption, Rescale, choose_rescale
from bloodview.bootstrap.segment_cell import segment_cell
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import mask_to_polygons
from bloodview.core.instance import Instance, Source
from bloodview.core.measure import PixelSize
from bloodview.errors import BloodviewError
from bloodview.io.images import load_image

log = logging.getLogger(__name__)

ORIGIN = f"bootstrap@{BOOTSTRAP_VERSION}"
POLYGON_TOLERANCE = 0.75  # px; Douglas-Peucker on the outline (keeps ~40-80 vertices per WBC)


@dataclass
class CellRecord:
    class_name: str
    polygons: list[np.ndarray]
    cues: QualityCues


@dataclass
class ItemResult:
    """What one worker found in one image."""

    item: WorkItem
    width: int = 0
    height: int = 0
    cells: list[CellRecord] = field(default_factory=list)
    failures: list[tuple[str | None, str]] = field(default_factory=list)  # (class, reason)
    error: str | None = None  # the image itself could not be read
    pixel_size: PixelSize | None = None  # the scale it was read at (with --pixel-size)


@dataclass
class RunSummary:
    """Per-class counts for the command's report."""

    count: Counter[str] = field(default_factory=Counter)
    flagged: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    unreadable: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def lines(self, threshold: float = FLAG_THRESHOLD) -> list[str]:
        names = sorted(set(self.count) | set(self.failed))
        width = max([len(n) for n in names] + [5])
        out = [f"{'class'.ljust(width)}  masks  flagged(q<{threshold:g})  failed"]
        for name in names:
            out.append(f"{name.ljust(width)}  {self.count[name]:5d}  {self.flagged[name]:15d}  {self.failed[name]:6d}")
        total = sum(self.count.values()), sum(self.flagged.values()), sum(self.failed.values())
        out.append(f"{'total'.ljust(width)}  {total[0]:5d}  {total[1]:15d}  {total[2]:6d}")
        return out


def process_item(item: WorkItem, params: CellParams = CellParams(), pixel_size: PixelSizeOption = None) -> ItemResult:
    """Segment one image (the centred cell, or each box). Never raises for bad input.

    ``pixel_size`` (µm per pixel, ``"auto"`` or ``None``): see :mod:`bloodview.bootstrap.scale`.
    """
    result = ItemResult(item)
    try:
        rgb = load_image(item.path)
    except BloodviewError as exc:
        result.error = str(exc)
        return result
    result.height, result.width = rgb.shape[:2]
    rescale = choose_rescale(rgb, pixel_size)
    result.pixel_size = rescale.pixel_size
    rgb = rescale.image(rgb)
    height, width = rgb.shape[:2]
    if not item.boxes:
        segmentation = segment_cell(rgb, item.class_name, params)
        _collect(result, item.class_name, segmentation, None, rescale)
        return result
    for class_name, box in item.boxes:
        clipped = clip_box(rescale.box(box), width, height)
        if clipped.box is None:
            result.failures.append((class_name, f"{item.path.name}: {clipped.problem}; skipped"))
            continue
        segmentation = segment_in_box(rgb, clipped.box, class_name, params)
        if not segmentation.found:
            x1, y1, x2, y2 = clipped.box
            segmentation.reason = f"{class_name} box ({x1}, {y1}, {x2}, {y2}): {segmentation.reason}"
        _collect(result, class_name, segmentation, clipped.box, rescale)
    return result


def _collect(result: ItemResult, class_name: str | None, segmentation, box, rescale: Rescale = Rescale()) -> None:
    name = class_name or "cell"
    if not segmentation.found:
        result.failures.append((name, f"{result.item.path.name}: {segmentation.reason}"))
        return
    polygons = mask_to_polygons(segmentation.mask, tolerance=POLYGON_TOLERANCE, min_area=4.0)
    if not polygons:
        result.failures.append((name, f"{result.item.path.name}: mask too small to outline"))
        return
    cues = measure_cues(segmentation.mask, segmentation.alternative, box)  # at the tuned scale, like the limits
    result.cells.append(CellRecord(name, rescale.outlines_back(polygons[:1], result.width, result.height), cues))


def _worker(args: tuple[WorkItem, CellParams, PixelSizeOption]) -> ItemResult:
    item, params, pixel_size = args
    return process_item(item, params, pixel_size)


def run_items(
    items: Iterable[WorkItem], workers: int = 1, params: CellParams = CellParams(), chunksize: int = 8,
    pixel_size: PixelSizeOption = None,
) -> Iterator[ItemResult]:
    """Yield results in input order; ``workers > 1`` uses a process pool."""
    jobs = ((item, params, pixel_size) for item in items)
    if workers <= 1:
        yield from map(_worker, jobs)
        return
    # "spawn", not "fork": forking a parent whose OpenCV thread pool has run
    # deadlocks the children inside cv2 calls.
    context = multiprocessing.get_context("spawn")
    with _interrupts_ignored():  # the workers start deaf to Ctrl-C (see _start_worker)
        pool = context.Pool(workers, initializer=_start_worker)
    with pool:  # leaving it (a Ctrl-C in the parent included) terminates the workers
        yield from pool.imap(_worker, jobs, chunksize=chunksize)


@contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """Ignore SIGINT while workers start: a process started meanwhile keeps ignoring it.

    Ctrl-C goes to every process of the terminal's group; a worker that took it printed
    ``Process SpawnPoolWorker-1:`` (and a traceback) under the parent's one line. Only
    the parent should hear it: it stops the pool, writes nothing and exits 130. Off the
    main thread (where signal handlers cannot be set) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _start_worker() -> None:
    """Each worker ignores Ctrl-C (the parent stops it) and uses one OpenCV thread (the pool
    is the parallelism)."""
    import cv2

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cv2.setNumThreads(1)


def build_dataset(
    scan: InputScan, results: Iterable[ItemResult], threshold: float = FLAG_THRESHOLD,
    progress: Callable[[ItemResult], None] | None = None,
) -> tuple[Dataset, RunSummary]:
    """Turn worker results into a Dataset of bootstrap instances and a summary."""
    summary = RunSummary()
    kept: list[ItemResult] = []
    areas: dict[str, list[float]] = defaultdict(list)
    for result in results:
        if progress is not None:
            progress(result)
        if result.error is not None:
            summary.unreadable.append(result.error)
            summary.failed[result.item.class_name or "unreadable"] += 1
            continue
        for class_name, reason in result.failures:
            summary.failed[class_name or "cell"] += 1
            summary.messages.append(reason)
        for cell in result.cells:
            areas[cell.class_name].append(cell.cues.area)
        kept.append(result)
    typical = typical_areas(areas)
    images = []
    for result in kept:
        image = ImageAnnotation(
            result.item.relative, result.width, result.height,
            image_label=None if result.item.boxes else result.item.class_name,
            split=result.item.split, pixel_size=result.pixel_size,
        )
        for cell in result.cells:
            quality = score(cell.cues, typical.get(cell.class_name))
            image.instances.append(Instance(
                polygons=cell.polygons, class_name=cell.class_name, source=Source.BOOTSTRAP,
                reviewed=False, quality=quality, origin=ORIGIN,
            ))
            summary.count[cell.class_name] += 1
            if quality < threshold:
                summary.flagged[cell.class_name] += 1
        if image.instances:  # images without any mask are reported, not written
            images.append(image)
    return Dataset(images, scan.classes, scan.root), summary
