"""Running a stored model on images: ``Predictor.load(model_dir).predict(images)``.

A model that records its pixel size (``pixel_size_um`` in its config) works in
physical units, one small stage each:

1. the image's pixel size: given, or from its red cells, or the model's fallback
   (:mod:`bloodview.model.image_scale`);
2. the image rescaled to the model's pixel size, so a cell is as many pixels
   across as in training whatever the framing, and its glass colour brought into
   the range the model was trained on where it lies outside
   (:mod:`bloodview.model.glass_balance`; the detector's input only);
3. an image that fits the network's input runs as it is; a larger one is cut into
   overlapping tiles shaped to cover it in the fewest pixels (:func:`bloodview.model.tiling.tile_shape`:
   a 793 x 595 field is one 832 x 640 tile, not a 1024 x 1024 square), run through a copy of
   the network built for that shape (same weights, kept for the next image of the size) and
   batched; each tile keeps the detections centred in its core;
4. one detection per cell (:mod:`bloodview.model.dedupe`), across tiles too;
5. masks pasted back into the ORIGINAL image's pixels and traced into polygons
   (:mod:`bloodview.model.postprocess`);
6. where the model carries a cell classifier, each white cell and platelet is
   looked at again, on a crop of the original image at the classifier's pixel
   size, and named by it (:mod:`bloodview.model.cell_classifier`);
7. with ``red_cells=True`` (``bloodview predict`` and the app ask for it), the red
   cells around them are found and outlined by the classical red-cell finder
   (:mod:`bloodview.core.red_cells`; the network has no red-cell class) at the
   image's pixel size, as class ``rbc``, so a lab can count them.

A model without a pixel size (made before scale-aware detection) fits each image
into its square input, as it always did. The result is one list of
:class:`Instance` per image (``source=Source.MODEL``, ``score``,
``origin="<model name>@<date>"``), in the order given; :meth:`Predictor.detect`
also returns the scale used per image.

Progress: ``progress(images done, images in all)`` after each batch of images, and, for a
big field that takes a minute in one batch, ``step_progress(steps done, steps in all)`` within
the batch: one step per tile through the network, then the finishing stages (6, 7) weighted by
:data:`FINISHING_SHARE`. A separate callback, so that every ``progress`` caller keeps its whole
image counts (an int Qt signal, a count on screen) and only those that show finer progress ask.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bloodview.core.instance import Instance
from bloodview.core.red_cells import red_cell_instances
from bloodview.core.scale import ScaleEstimate
from bloodview.io.images import load_image
from bloodview.model.config import MaskRCNNConfig
from bloodview.model.data import as_rgb, fit_to_input
from bloodview.model.dedupe import suppress_duplicates
from bloodview.model.glass_balance import balance_glass
from bloodview.model.image_scale import image_pixel_size, rescale, resize_factor
from bloodview.model.postprocess import detections_to_instances
from bloodview.model.store import ModelInfo
from bloodview.model.tiling import Tile, cut_rows, owned_rows, plan_tiles, tile_shape

log = logging.getLogger(__name__)

ImageInput = np.ndarray | str | Path
Progress = Callable[[int, int], None]  # (images done, images in all)
StepProgress = Callable[[int, int], None]  # (steps done, steps in all) of the batch of images under way
PixelSizes = float | Sequence[float | ScaleEstimate | None] | None
_DETECTION_KEYS = ("boxes", "class_ids", "scores", "masks", "mask_boxes")  # mask_boxes: networks since mask_box_scale
TILE_AREA = 2.0
"""A tile holds at most this many times ``tile_size ** 2`` pixels: bounds a call's memory (a
1344 x 1280 tile of the default model peaks near 1.4 GiB) while letting few tiles cover a field."""
SHAPED_NETWORKS = 8
"""Networks built for image shapes kept at once (each costs a build and a trace, ~3 s, on first use).
Sides stay multiples of 64: rounding them to 128 so that crops of slightly different sizes share
a network was measured and not kept (BCCD fields 0.19 -> 0.26 s, platelets by centre 0.870 -> 0.855)."""
FINISHING_SHARE = 0.12
"""In ``step_progress`` the cell classifier and the red-cell finder each count as this share of the image's tiles
(at least one step): both take time in proportion to the field, as its tiles do. Measured 2026-12-07 on an 8000 x
6000 field of BCCD crops (24 tiles of 1024 x 1856, 3,878 cells, 2-core CPU): network 16.6 s, classifier 2.0 s,
red cells 1.9 s, scale and rescale 0.7 s, outlines 0.4 s (on a GPU the network's share is smaller)."""


@dataclass
class ImageDetections:
    """One image's cells and how the image was read (``scale`` is None for models without a pixel size)."""

    instances: list[Instance]
    scale: ScaleEstimate | None
    tiles: int
    resize_factor: float
    glass_gains: tuple[float, float, float] | None = None  # per-channel gains of the glass balance, None: none


@dataclass
class _Frame:
    """An image brought to the network's pixel size, with its tiles."""

    index: int
    original: np.ndarray
    resized: np.ndarray  # uint8 (h, w, 3), the model's pixel size
    tiles: list[Tile]
    scale: ScaleEstimate | None
    factor: float
    tile_size: tuple[int, int]  # (height, width) of the network input the tiles run on
    overlap: int = 0  # the least overlap of neighbouring tiles (rescaled pixels)
    glass_gains: np.ndarray | None = None


CPU_CALL_PIXELS = 4 * 512 * 512
"""On a CPU, at most this many input pixels go through the network in one call, whatever ``batch_size``.

Larger calls buy a CPU little speed for much memory. Measured 2026-12-07 (idle 2-core CPU, ResNet50 at
512 px, the paper's heads with the tuned inference settings, random weights, 20 cells per image,
``benchmarks/inference.py``'s model; eight 512-px images in one ``predict(batch_size=8)``): one call
of 8 0.50-0.59 s per image, peak RSS 1,589-1,616 MiB; two calls of 4 0.54-0.57 s, 1,297-1,300 MiB;
four calls of 2 0.53-0.59 s, 1,116 MiB; eight of 1 0.58-0.65 s, 1,017 MiB. Four 512-px tiles (seven
of the shipped model's 384 px) keep the speed and a third of the memory. On a GPU, where larger
batches pay, there is no cap.
"""


def _on_gpu() -> bool:
    from bloodview.model.distribute import gpu_available

    return gpu_available()


class Predictor:
    """A loaded model ready to find cells. Not thread-safe: use one per worker thread."""

    def __init__(
        self, model, info: ModelInfo, config: MaskRCNNConfig, large_tile: int | None = None, classifier=None,
        red_cells: bool = False, shaped: Callable | None = None,
    ):
        """``shaped(model, config, height, width)`` builds the network for another input shape
        (default :func:`bloodview.model.maskrcnn.detection_network`; tests pass a stand-in)."""
        self.model = model
        # red cells need the image's pixel size: a model made before scale-aware detection finds none
        self.red_cells = bool(red_cells) and config.scale_aware
        self.info = info
        self.config = config
        self.classifier = classifier if config.scale_aware else None
        self.tile = int(model.settings.image_size)
        # Big images run on larger tiles (less overlap per pixel) of at most TILE_AREA *
        # large_tile ** 2 pixels, shaped like the image; their networks are built on first use.
        self.large_tile = int(large_tile or config.tile_size) if config.scale_aware else self.tile
        self._base = (self.tile, self.tile)
        self._networks = {self._base: model}
        self._shaped = shaped
        self._glass_range = config.glass_colour_range if config.scale_aware else None
        self.max_call_pixels: int | None = None if _on_gpu() else CPU_CALL_PIXELS  # see CPU_CALL_PIXELS

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        tile_size: int | None = None,
        overrides: dict | None = None,
        cell_classifier: bool = True,
        red_cells: bool = False,
    ) -> Predictor:
        """Build the network from ``model_dir/model.json`` and load its weights (ModelError if broken).

        A scale-aware model runs images that fit its input on a network of that
        size and larger images on tiles of ``tile_size`` (default: the config's
        ``inference_tile_size``); the weights do not depend on the input size.
        ``overrides`` change inference settings that keep the weights' shapes
        (``post_nms_rois_inference``, ``detection_max_instances``, ...), e.g. to
        measure what they cost and save. ``cell_classifier=False`` names the cells
        with the detector alone even when the model carries a classifier.
        ``red_cells=True`` adds the red cells the classical finder outlines (class
        ``rbc``, module doc step 7).
        """
        from bloodview.model.store import read_model_info
        from bloodview.model.store_io import load_model

        config = read_model_info(model_dir).to_config().with_overrides(overrides) if overrides else None
        model, info = load_model(model_dir, config)
        classifier = None
        spec = info.classifier_spec
        if cell_classifier and spec is not None:
            from bloodview.model.cell_classifier import CellClassifier

            classifier = CellClassifier.load(model_dir, spec)
        return cls(model, info, config or info.to_config(), large_tile=tile_size, classifier=classifier,
                   red_cells=red_cells)

    def warm_up(self, images: Sequence[ImageInput] = ()) -> None:
        """Build and trace, on blank inputs, the networks ``images`` will run on (the input-size one
        always), and the cell classifier.

        TensorFlow traces a graph on its first call (~2 s on the 2-core CPU), and an image larger
        than the input runs on a network built for its tiles' shape (~2 s more); the app calls this
        in the background after loading the model, with the image on screen, so the first image a
        person asks about pays neither. Only the images' scale is measured, nothing is detected.
        """
        shapes = {self._base}
        for index, item in enumerate(images):
            shapes.add(self._frame(index, self._as_array(item), None).tile_size)
        for height, width in sorted(shapes):
            blank = np.zeros((1, height, width, 3), np.float32)
            self._network((height, width)).detect(blank, np.array([[0, 0, height, width]], np.float32))
        if self.classifier is not None:
            size = int(self.classifier.spec.input_size)
            self.classifier.logits(np.zeros((1, size, size, 3), np.float32))

    def _network(self, shape: tuple[int, int]):
        """The network for inputs of ``shape`` (height, width): the loaded one, or a copy built for it."""
        if shape not in self._networks:
            build = self._shaped
            if build is None:
                from bloodview.model.maskrcnn import detection_network as build
            shaped = [key for key in self._networks if key != self._base]
            if len(shaped) >= SHAPED_NETWORKS:
                del self._networks[shaped[0]]  # the least recently used; dicts keep insertion order
            self._networks[shape] = build(self.model, self.config, *shape)
        network = self._networks.pop(shape)
        self._networks[shape] = network  # most recently used last
        return network

    @property
    def class_names(self) -> list[str]:
        return list(self.config.class_names)

    def predict(
        self,
        images: Sequence[ImageInput],
        batch_size: int | None = None,
        min_confidence: float | None = None,
        progress: Progress | None = None,
        pixel_size: PixelSizes = None,
        simplify: bool = True,
        step_progress: StepProgress | None = None,
    ) -> list[list[Instance]]:
        """Cells in each image (uint8 RGB/grey arrays or image file paths), polygons in original pixels.

        ``min_confidence`` (default: the model's ``detection_min_confidence``) may be
        lower or higher than the model's; ``batch_size`` (images, and tiles of the
        input size, per network call; larger tiles go fewer at a time) defaults to
        ``images_per_gpu``; ``pixel_size`` (µm per pixel, one for all images or one
        per image; per image also a :class:`ScaleEstimate` made elsewhere, kept with its
        source) overrides the estimate from the red cells. ``simplify=False`` keeps
        the full traced outlines instead of ones made for editing by hand.

        ``progress(images done, images in all)`` is called after each batch of images;
        ``step_progress(steps done, steps in all)`` within each batch (module doc), from
        ``(0, steps)`` once its images are read and planned to ``(steps, steps)``, starting
        again with the next batch (a call of at most ``batch_size`` images is one batch).
        Both are called on the calling thread, a few dozen times a field at most.
        """
        found = self.detect(images, batch_size, min_confidence, progress, pixel_size, simplify, step_progress)
        return [one.instances for one in found]

    def detect(
        self,
        images: Sequence[ImageInput],
        batch_size: int | None = None,
        min_confidence: float | None = None,
        progress: Progress | None = None,
        pixel_size: PixelSizes = None,
        simplify: bool = True,
        step_progress: StepProgress | None = None,
    ) -> list[ImageDetections]:
        """Like :meth:`predict`, with the scale each image was read at."""
        threshold = self.config.detection_min_confidence if min_confidence is None else float(min_confidence)
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"min_confidence must be between 0 and 1, got {threshold}")
        sizes = _per_image(pixel_size, len(images))
        batch_size = max(1, int(batch_size or self.config.images_per_gpu))
        results: list[ImageDetections] = []
        for start in range(0, len(images), batch_size):
            frames = [
                self._frame(start + k, self._as_array(item), sizes[start + k])
                for k, item in enumerate(images[start : start + batch_size])
            ]
            steps = _Steps(step_progress, sum(len(frame.tiles) + sum(self._finishing(frame)) for frame in frames))
            results.extend(self._detect_frames(frames, threshold, batch_size, simplify, steps))
            if progress is not None:
                progress(len(results), len(images))
        return results

    # --- stages ------------------------------------------------------------
    def _as_array(self, item: ImageInput) -> np.ndarray:
        if isinstance(item, (str, Path)):
            return load_image(item)
        return np.asarray(item)

    def _frame(self, index: int, array: np.ndarray, given: float | ScaleEstimate | None) -> _Frame:
        array = as_rgb(array)
        height, width = array.shape[:2]
        scale = image_pixel_size(array, self.config, given=given)
        if scale is None:  # a model without a pixel size: fit the image to the input
            resized, _ = fit_to_input(array, self.config)
            h, w = resized.shape[:2]  # exactly as training fitted it
            whole = Tile(0, 0, h, w, core=(-math.inf, -math.inf, math.inf, math.inf))
            return _Frame(index, array, resized, [whole], None, h / height, self._base)
        factor = resize_factor(scale, self.config)
        longest = max(height, width) * factor
        if self.tile < longest <= self.tile / self._shrink_limit():
            # A little too big for the input (a crop framed a bit wider, or a scale estimate a
            # bit off): shrink it to fit, by no more than training's own zoom ever did, instead of
            # running it on a tile network with several times the pixels.
            factor *= self.tile / longest
        resized, gains = balance_glass(rescale(array, factor), self._glass_range)
        h, w = resized.shape[:2]
        if max(h, w) <= self.tile:
            tiles = plan_tiles(h, w, self.tile, 0)
            return _Frame(index, array, resized, tiles, scale, factor, self._base, 0, gains)
        overlap = max(0, min(self.large_tile - 64, round(self.config.tile_overlap_um / self.config.pixel_size_um)))
        shape = tile_shape(h, w, overlap, int(TILE_AREA * self.large_tile**2))
        tiles = plan_tiles(h, w, shape, overlap)
        return _Frame(index, array, resized, tiles, scale, factor, shape, overlap, gains)

    def _shrink_limit(self) -> float:
        """The smallest zoom training showed the cells at (``augment_scale_range``), at most 1."""
        low = min(self.config.augment_scale_range) if self.config.augment_scale_range else 1.0
        return min(1.0, max(0.5, float(low)))

    def _finishing(self, frame: _Frame) -> tuple[int, int]:
        """Steps of ``frame``'s cell classifier and red-cell finder in ``step_progress`` (0: it does not run)."""
        if frame.scale is None:
            return 0, 0
        weight = max(1, round(FINISHING_SHARE * len(frame.tiles)))
        return weight if self.classifier is not None else 0, weight if self.red_cells else 0

    def _detect_frames(
        self, frames: list[_Frame], threshold: float, batch_size: int, simplify: bool, steps: _Steps
    ) -> list[ImageDetections]:
        rows: dict[int, list[tuple[Tile, dict]]] = {frame.index: [] for frame in frames}
        for shape in sorted({frame.tile_size for frame in frames}):
            jobs = [(frame, tile) for frame in frames if frame.tile_size == shape for tile in frame.tiles]
            network = self._network(shape)
            # about the memory of a batch of input-sized tiles
            per_call = max(1, round(batch_size * self.tile**2 / (shape[0] * shape[1])))
            if self.max_call_pixels:
                per_call = min(per_call, max(1, self.max_call_pixels // (shape[0] * shape[1])))
            for chunk in _chunks(jobs, per_call):
                inputs = np.zeros((len(chunk), *shape, 3), dtype=np.float32)
                windows = np.zeros((len(chunk), 4), dtype=np.float32)
                for row, (frame, tile) in enumerate(chunk):
                    inputs[row, : tile.height, : tile.width] = frame.resized[
                        tile.y0 : tile.y0 + tile.height, tile.x0 : tile.x0 + tile.width
                    ]
                    windows[row] = (0, 0, tile.height, tile.width)
                found = network.detect(inputs, windows, min_confidence=threshold)
                for row, (frame, tile) in enumerate(chunk):
                    count = int(found["counts"][row])
                    one = {key: np.asarray(found[key][row][:count]) for key in _DETECTION_KEYS if key in found}
                    rows[frame.index].append((tile, one))
                steps.advance(len(chunk))
        return [self._instances(frame, rows[frame.index], threshold, simplify, steps) for frame in frames]

    def _instances(
        self, frame: _Frame, tiles: list[tuple[Tile, dict]], threshold: float, simplify: bool, steps: _Steps
    ) -> ImageDetections:
        height, width = frame.resized.shape[:2]
        picked: list[tuple[Tile, dict, int]] = []
        boxes, scores, cut = [], [], []
        margin = frame.overlap / 4.0  # see tiling.owned_rows: a cell on a cut is kept by both tiles, then deduplicated
        for tile, one in tiles:
            owned = owned_rows(one["boxes"], tile, margin)
            is_cut = cut_rows(one["boxes"], tile, height, width)
            for row in np.flatnonzero(owned & (one["class_ids"] > 0)):
                picked.append((tile, one, int(row)))
                boxes.append(one["boxes"][row] + np.array([tile.y0, tile.x0, tile.y0, tile.x0]))
                scores.append(float(one["scores"][row]))
                cut.append(bool(is_cut[row]))
        instances: list[Instance] = []
        if picked:
            keep = suppress_duplicates(
                np.array(boxes), np.array(scores), np.array(cut), iou_threshold=self.config.detection_duplicate_iou
            )
            orig_h, orig_w = frame.original.shape[:2]
            for index in sorted(keep, key=lambda k: -scores[k]):
                tile, one, row = picked[index]
                window = (-tile.y0, -tile.x0, height - tile.y0, width - tile.x0)
                single = {key: value[row : row + 1] for key, value in one.items()} | {"count": 1}
                instances.extend(
                    detections_to_instances(
                        single, window, orig_h, orig_w, self.class_names,
                        min_confidence=threshold, origin=self.info.origin, simplify=simplify,
                    )
                )
        classify, red_cells = self._finishing(frame)
        if classify and instances:
            instances = self.classifier.reclassify(frame.original, instances, frame.scale.um_per_pixel)
        steps.advance(classify)
        if red_cells:
            instances = instances + red_cell_instances(frame.original, frame.scale.um_per_pixel, instances)
        steps.advance(red_cells)
        gains = None if frame.glass_gains is None else tuple(round(float(g), 3) for g in frame.glass_gains)
        return ImageDetections(instances, frame.scale, len(frame.tiles), frame.factor, gains)


class _Steps:
    """Counts one batch's steps for ``step_progress`` (module doc); reports ``(0, total)`` at once."""

    def __init__(self, report: StepProgress | None, total: int):
        self.report, self.done, self.total = report, 0, total
        if report is not None:
            report(0, total)

    def advance(self, steps: int) -> None:
        if steps and self.report is not None:
            self.done += steps
            self.report(self.done, self.total)


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _per_image(pixel_size: PixelSizes, count: int) -> list[float | ScaleEstimate | None]:
    if pixel_size is None or isinstance(pixel_size, (int, float)):
        if pixel_size is not None and not pixel_size > 0:
            raise ValueError(f"pixel size must be a positive number of micrometres, got {pixel_size}")
        return [pixel_size] * count
    sizes = list(pixel_size)
    if len(sizes) != count:
        raise ValueError(f"one pixel size per image is needed: {len(sizes)} for {count} images")
    for size in sizes:
        if size is not None and not isinstance(size, ScaleEstimate) and not float(size) > 0:
            raise ValueError(f"pixel size must be a positive number of micrometres, got {size}")
    return sizes
