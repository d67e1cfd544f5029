"""Fields at any framing and magnification (issue "Any framing, any magnification, another lab's stain").

Usage: .venv/bin/python benchmarks/fields.py [--model resources/models/default]
       [--only mosaics,bccd,zheng,pbc,big] [--limit N] [--json OUT.json]
       [--pixel-size pbc=UM,bccd=UM,zheng=UM] [--min-confidence C] [--examples DIR]
       [--bccd-split test|val|train|all] [--big-size 4000x3000] [--set FIELD=VALUE ...]

Prints the figures of the issue's "Benchmarks and targets" table for one model folder:

mosaics  k x k mosaics (k = 1, 2, 3, 4) of PBC ``val`` images: 360x360 centre crops in a seeded
         random order, the first ``--limit`` cells (default 120) per k, i.e. ceil(N / k^2)
         mosaics. Each tile's reference cell is its centred cell, outlined by the project's
         bootstrap segmenter (images it cannot outline are skipped), class = the folder's.
         A cell is FOUND when the detection whose mask overlaps its outline most has mask
         IoU >= 0.5; RIGHT when that detection also has the folder's class. k = 1 is the same
         rule on the single tiles.
bccd     BCCD ``test`` split (ImageSets/Main/test.txt, 72 fields): white cells (VOC ``WBC``
         boxes) found = matched one-to-one, best score first (bloodview.evaluation.matching),
         by a white-cell detection (any class but platelet; erythroblast counts and is
         reported) with box IoU >= 0.5. Also WBC boxes found by a detection of any class
         (platelet included: the issue's "today" 0.645 counted so, on all 364 fields), false
         positives per field (white-cell detections matching no WBC box; platelet detections
         matching no platelet box), platelet boxes found (platelet detections, same rule), RBC
         boxes found by the red cells (same rule; unboxed red cells are many, so red cells
         matching no box are not counted as false), red cells per field, and the platelet
         estimate: platelets per 1,000 red cells found, against the boxes' own ratio.
         BCCD's platelet boxes are loose (median 40 px side round a ~25 px platelet: the
         bootstrap's own outlines, drawn inside each box, reach box IoU >= 0.5 with only 67 %
         of them), so platelets are also counted found when a platelet detection's box centre
         lies in the box (one-to-one, best score first): the count a lab's estimate rests on.
zheng    Zheng Dataset 1 (300 crops, another lab, never trained on): 5-class accuracy of the
         detection overlapping the expert whole-cell mask most (no overlapping detection, or a
         class outside the 5 = wrong), mean whole-cell mask IoU of that detection (0 when none),
         confusion matrix (rows = the CSV's class).
pbc      PBC ``val`` (all 480): cell-of-interest accuracy by the evaluation's rule
         (bloodview.evaluation.matching.cell_of_interest, as benchmarks/default_model.py), and
         the mask IoU of that cell vs its bootstrap outline where the bootstrap has one.
pbc_platelets  the platelets and red cells round 40 PBC ``val`` crops' centred cells, marked by eye
         (benchmarks/pbc_platelets.py): found when a platelet (red-cell) box holds the mark.
big      a 4000 x 3000 px field of BCCD test fields tiled edge to edge, run in a fresh
         subprocess: seconds of ``predict`` (median of 2, after a warm-up on one 640x480
         field and a first call on the big field, which builds the network shaped for its
         size and is reported apart), the subprocess's peak RSS (model included), detections,
         WBC boxes found.

In the bccd and pbc sections, as ``bloodview predict`` does on a folder, an image without usable red
cells of its own is read again at the scale the section's other images of its size agree on
(bloodview.core.camera_scale; ``read_at_camera_scale`` counts them, both detections timed);
``--no-camera-scale`` turns that off.

Each section prints its seconds per image. ``--limit N`` caps every section (mosaics: cells per
k; others: images, spread evenly over the sorted list). ``--pixel-size`` (micrometres per
pixel) is passed to ``predict(..., pixel_size=)`` only when the model's ``predict`` takes that
keyword; otherwise nothing is passed and the model works as it always has.
Targets (issue): mosaics >= 0.98 found / right >= single-image right - 0.02; BCCD >= 0.95;
Zheng >= 0.80 / >= 0.85; PBC val >= 0.97; big field <= 10 s / <= 2 GiB on the 2-core CPU.
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from bloodview.core.classes import is_red_cell_name
from bloodview.io.mask_png import ZHENG_CLASSES
from field_data import Picture, bccd_split, big_field, mosaic, pbc_outline, pbc_tiles, pbc_val, zheng_pictures

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SECTIONS = ("mosaics", "bccd", "zheng", "pbc", "pbc_platelets", "big")
MOSAIC_SIZES = (1, 2, 3, 4)
FOUND_IOU = 0.5
REVIEW_THRESHOLD = 0.75  # the GUI's default Unidentified threshold (bloodview.gui.review)
SEED = 12


class Detector:
    """A loaded model plus the per-data-set pixel sizes; times every ``predict`` call."""

    def __init__(self, model_dir: str, pixel_sizes: dict[str, float], min_confidence: float | None,
                 overrides: dict | None = None, cell_classifier: bool = True, red_cells: bool = True):
        from bloodview.model.predict import Predictor

        keywords = {"overrides": overrides} if overrides else {}
        if not cell_classifier:
            keywords["cell_classifier"] = False
        if "red_cells" in inspect.signature(Predictor.load).parameters:
            keywords["red_cells"] = red_cells  # as the app and `bloodview predict` run it
        self.predictor = Predictor.load(model_dir, **keywords)
        self.red_cells: list = []  # the last picture's red cells (kept out of what detect returns)
        self.takes_pixel_size = "pixel_size" in inspect.signature(self.predictor.predict).parameters
        if pixel_sizes and not self.takes_pixel_size:
            print(f"note: this model's predict has no pixel_size keyword; --pixel-size {pixel_sizes} ignored")
        self.pixel_sizes = pixel_sizes
        self.min_confidence = min_confidence
        self.warm = False  # set once a first predict has traced the graph
        self.camera_scale = True  # use_camera_scale on (--no-camera-scale: off)
        self.camera: dict = {}  # (height, width) -> the camera's ScaleEstimate (see use_camera_scale)
        self.read_at_camera_scale = 0

    def use_camera_scale(self, pictures) -> dict:
        """As ``bloodview predict`` on a folder: an image without usable red cells is read again at the
        scale the section's other images of its size agree on (bloodview.core.camera_scale).

        ``pictures``: the section's RGB arrays (an iterable). Returns {"HxW": µm per pixel}."""
        try:
            from bloodview.core.camera_scale import camera_scales
        except ImportError:  # an older checkout (--code): it has no such step
            return {}
        from bloodview.core.scale import estimate_scale

        self.camera, self.read_at_camera_scale = {}, 0
        if not self.camera_scale or not hasattr(self.predictor, "detect"):
            return {}
        self.camera = camera_scales((rgb.shape[:2], estimate_scale(rgb)) for rgb in pictures)
        return {f"{h}x{w}": round(c.um_per_pixel, 5) for (h, w), c in self.camera.items()}

    def detect(self, rgb: np.ndarray, source: str) -> tuple[list, float]:
        """``(detections, seconds)`` for one picture from data set ``source`` (pbc, bccd, zheng).

        The detections are the white cells and platelets; the red cells found in the same call
        (and timed with it) are left in :attr:`red_cells`: no reference cell here is a red cell.
        """
        keywords = {"min_confidence": self.min_confidence}
        if self.takes_pixel_size and source in self.pixel_sizes:
            keywords["pixel_size"] = self.pixel_sizes[source]
        start = time.perf_counter()
        if self.camera and "pixel_size" not in keywords:
            from bloodview.core.camera_scale import needs_camera_scale

            one = self.predictor.detect([rgb], **keywords)[0]
            camera = self.camera.get(tuple(rgb.shape[:2]))
            if camera is not None and needs_camera_scale(one.scale):
                one = self.predictor.detect([rgb], **keywords, pixel_size=[camera])[0]
                self.read_at_camera_scale += 1
            found = one.instances
        else:
            found = self.predictor.predict([rgb], **keywords)[0]
        took = time.perf_counter() - start
        self.red_cells = [cell for cell in found if is_red_cell_name(cell.class_name)]
        return [cell for cell in found if not is_red_cell_name(cell.class_name)], took


def detector_call(instance) -> str:
    """The detector's own class for a cell a cell classifier re-named (else the cell's class)."""
    return instance.extra.get("detector_class", instance.class_name)


def reclassified(predicted: list) -> bool:
    return any("detector_class" in one.extra for one in predicted)


# --- matching --------------------------------------------------------------------------------


def overlaps(cells: list, detections: list, height: int, width: int, boxes: bool = False) -> np.ndarray:
    """``(detections, cells)`` IoU: masks (pycocotools RLE of the outlines), or boxes if ``boxes``."""
    from bloodview.evaluation.cocoindex import coco_boxes, instance_rle
    from bloodview.evaluation.matching import iou_matrix

    cell_rles = [] if boxes else [instance_rle(c, height, width) for c in cells]
    detection_rles = [] if boxes else [instance_rle(d, height, width) for d in detections]
    return iou_matrix(cell_rles, detection_rles, coco_boxes(cells), coco_boxes(detections), use_boxes=boxes)


def best_overlap(cells: list, detections: list, height: int, width: int) -> list[tuple[int | None, float]]:
    """For each reference cell: ``(index of the detection overlapping it most, mask IoU)``;
    ``(None, 0.0)`` when no detection touches it."""
    ious = overlaps(cells, detections, height, width)
    out = []
    for column in range(len(cells)):
        if len(detections) == 0 or ious[:, column].max() <= 0.0:
            out.append((None, 0.0))
        else:
            best = int(np.argmax(ious[:, column]))
            out.append((best, float(ious[best, column])))
    return out


def box_matches(cells: list, detections: list) -> dict[int, int]:
    """``cell index -> detection index``, one-to-one by descending score, box IoU >= 0.5."""
    from bloodview.evaluation.matching import match_instances

    if not cells or not detections:
        return {}
    ious = overlaps(cells, detections, 0, 0, boxes=True)
    return {m.gt: m.pred for m in match_instances(ious, [d.score or 0.0 for d in detections], FOUND_IOU)}


def centre_pairs(cells: list, detections: list) -> dict[int, int]:
    """``cell index -> detection index`` for the ``cells`` that hold the box centre of a detection,
    one-to-one, best score first (a detection goes to the box whose centre is nearest its own)."""
    pairs: dict[int, int] = {}
    order = sorted(range(len(detections)), key=lambda k: -(detections[k].score or 0.0))
    for k in order:
        x0, y0, x1, y1 = detections[k].bbox
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        holding = [(abs(cx - (c.bbox[0] + c.bbox[2]) / 2) + abs(cy - (c.bbox[1] + c.bbox[3]) / 2), i)
                   for i, c in enumerate(cells)
                   if i not in pairs and c.bbox[0] <= cx <= c.bbox[2] and c.bbox[1] <= cy <= c.bbox[3]]
        if holding:
            pairs[min(holding)[1]] = k
    return pairs


def centre_matches(cells: list, detections: list) -> int:
    """How many ``cells`` hold the box centre of a detection (:func:`centre_pairs`)."""
    return len(centre_pairs(cells, detections))


def spread(items: list, limit: int) -> list:
    """``limit`` items spread evenly over ``items`` (all when ``limit`` is 0 or too big)."""
    if not limit or limit >= len(items):
        return list(items)
    return [items[i] for i in np.linspace(0, len(items) - 1, limit).round().astype(int)]


def timing(seconds: list[float]) -> dict:
    return {"seconds_per_image_median": statistics.median(seconds) if seconds else None,
            "seconds_per_image_mean": statistics.fmean(seconds) if seconds else None}


# --- sections --------------------------------------------------------------------------------


def run_mosaics(detector: Detector, root: Path, limit: int, examples: Path | None) -> dict:
    """Cells found / found with the right class in k x k mosaics of PBC val tiles (module doc).

    Every k uses the first tiles of the same seeded order, so k = 1 is the same cells alone.
    """
    cells_per_k = limit or 120
    needed = max(math.ceil(cells_per_k / (k * k)) * k * k for k in MOSAIC_SIZES)
    tiles = list(itertools.islice(pbc_tiles(root, pbc_val(root), SEED), needed))
    result: dict = {"tile_size": tiles[0].width, "seed": SEED, "images_used": len(tiles)}
    for k in MOSAIC_SIZES:
        count = math.ceil(cells_per_k / (k * k))
        pictures = [mosaic(tiles[n * k * k : (n + 1) * k * k], k) for n in range(count)]
        example = examples / f"mosaic_{k}x{k}.png" if examples is not None else None
        result[f"k{k}"] = score_mosaics(detector, pictures, example)
    return result


def score_mosaics(detector: Detector, pictures: list[Picture], example: Path | None) -> dict:
    """Found / right-class rates over the reference cells of ``pictures`` (one k)."""
    found = right = right_detector = detections = 0
    seconds, two_stage = [], False
    for n, picture in enumerate(pictures):
        predicted, took = detector.detect(picture.rgb, "pbc")
        seconds.append(took)
        detections += len(predicted)
        two_stage = two_stage or reclassified(predicted)
        best = best_overlap(picture.cells, predicted, picture.height, picture.width)
        for cell, (index, iou) in zip(picture.cells, best):
            hit = index is not None and iou >= FOUND_IOU
            found += hit
            right += hit and predicted[index].class_name == cell.class_name
            right_detector += hit and detector_call(predicted[index]) == cell.class_name
        if example is not None and n == 0:
            save_example(example, picture, predicted)
    cells = sum(len(p.cells) for p in pictures)
    return {"mosaics": len(pictures), "size_px": pictures[0].width, "cells": cells,
            "found": found / cells, "right_class": right / cells,
            **({"right_class_detector_alone": right_detector / cells} if two_stage else {}),
            "detections_per_mosaic": detections / len(pictures), **timing(seconds)}


def run_bccd(detector: Detector, root: Path, limit: int, split: str = "test") -> dict:
    """White cells (WBC boxes) of a BCCD split found at box IoU >= 0.5 (module doc).

    ``wbc_found_any_class`` also counts detections of any class (platelet too), to tell a
    cell not seen from a cell seen but called a platelet.
    """
    from bloodview.io.images import load_image

    images = spread(bccd_split(root, split), limit)
    camera = detector.use_camera_scale(load_image(root / "JPEGImages" / image.image_path) for image in images)
    counts: Counter[str] = Counter()
    seconds = []
    for image in images:
        predicted, took = detector.detect(load_image(root / "JPEGImages" / image.image_path), "bccd")
        seconds.append(took)
        counts += field_counts(image.instances, predicted, detector.red_cells)

    def share(part: str, whole: str) -> float | None:
        return counts[part] / counts[whole] if counts[whole] else None

    return {"split": split, "fields": len(images), "wbc_boxes": counts["wbc"],
            "wbc_found": share("wbc_found", "wbc"), "wbc_found_any_class": share("wbc_found_any_class", "wbc"),
            "wbc_found_as": {k[3:]: v for k, v in counts.most_common() if k.startswith("as:")},
            "white_false_positives_per_field": counts["white_unmatched"] / len(images),
            "platelet_boxes": counts["platelet"], "platelets_found": share("platelet_found", "platelet"),
            "platelets_found_centre_in_box": share("platelet_centre_found", "platelet"),
            "platelet_false_positives_per_field": counts["platelet_unmatched"] / len(images),
            "rbc_boxes": counts["rbc"], "rbc_found": share("rbc_found", "rbc"),
            "red_cells_per_field": counts["red_cells"] / len(images),
            "platelets_per_1000_red_cells": per_1000(counts["platelet_detections"], counts["red_cells"]),
            "boxes_platelets_per_1000_red_cells": per_1000(counts["platelet"], counts["rbc"]),
            "camera_scale": camera, "read_at_camera_scale": detector.read_at_camera_scale,
            **timing(seconds)}


def per_1000(platelets: int, red_cells: int) -> float | None:
    """The lab's platelet estimate: platelets per 1,000 red cells."""
    return 1000.0 * platelets / red_cells if red_cells else None


def field_counts(boxes: list, predicted: list, red_cells: list = ()) -> Counter[str]:
    """One field's counts: WBC boxes, found by a white-cell detection / by any detection, the
    classes they were found as (``as:<class>``), white-cell detections matching no WBC box,
    the same for platelet boxes and platelet detections, and red-cell (RBC) boxes found by
    ``red_cells`` (same rule; BCCD leaves many red cells unboxed, so red cells matching no box
    are not counted as false)."""
    white = [d for d in predicted if d.class_name != "platelet"]
    small = [d for d in predicted if d.class_name == "platelet"]
    wbc = [c for c in boxes if c.class_name == "wbc"]
    platelets = [c for c in boxes if c.class_name == "platelet"]
    matched = box_matches(wbc, white)
    counts = Counter({"wbc": len(wbc), "wbc_found": len(matched),
                      "wbc_found_any_class": len(box_matches(wbc, predicted)),
                      "white_unmatched": len(white) - len(matched), "platelet": len(platelets)})
    counts.update(f"as:{white[d].class_name}" for d in matched.values())
    platelets_found = len(box_matches(platelets, small))
    counts.update({"platelet_found": platelets_found, "platelet_unmatched": len(small) - platelets_found,
                   "platelet_detections": len(small), "platelet_centre_found": centre_matches(platelets, small)})
    red_boxes = [c for c in boxes if is_red_cell_name(c.class_name)]
    counts.update({"rbc": len(red_boxes), "rbc_found": len(box_matches(red_boxes, list(red_cells))),
                   "red_cells": len(red_cells)})
    return counts


def run_zheng(detector: Detector, folder: Path, limit: int) -> dict:
    """5-class accuracy and whole-cell mask IoU on Zheng Dataset 1 (module doc)."""
    everything = list(zheng_pictures(folder))
    usable = [p for p in everything if p.cells and p.cells[0].class_name in ZHENG_CLASSES]
    result = score_zheng_pictures(detector, spread(usable, limit))
    return {"skipped_no_mask_or_class": len(everything) - len(usable), **result}


def score_zheng_pictures(detector: Detector, pictures: list[Picture]) -> dict:
    """The Zheng rule on ``pictures`` (one expert cell each): accuracy, mask IoU, found, confusion.

    Also used by benchmarks/adaptation.py on its held-out crops, so both score alike.
    """
    from bloodview.evaluation.classification import confusion_matrix

    pairs, ious, seconds, detector_right, two_stage = [], [], [], 0, False
    for picture in pictures:
        predicted, took = detector.detect(picture.rgb, "zheng")
        seconds.append(took)
        two_stage = two_stage or reclassified(predicted)
        (best, iou), = best_overlap(picture.cells, predicted, picture.height, picture.width)
        ious.append(iou)
        pairs.append((picture.cells[0].class_name, None if best is None else predicted[best].class_name))
        detector_right += best is not None and detector_call(predicted[best]) == picture.cells[0].class_name
    truths = [t for t, _ in pairs]
    order = list(ZHENG_CLASSES) + sorted({g for _, g in pairs if g and g not in ZHENG_CLASSES})
    return {"images": len(pictures), "accuracy": sum(t == g for t, g in pairs) / len(pairs),
            **({"accuracy_detector_alone": detector_right / len(pairs)} if two_stage else {}),
            "mask_iou_mean": float(np.mean(ious)), "found": float(np.mean(np.asarray(ious) >= FOUND_IOU)),
            "class_counts": dict(Counter(truths).most_common()),
            "confusion": confusion_matrix(pairs, order).to_dict(), **timing(seconds)}


def run_pbc(detector: Detector, root: Path, limit: int) -> dict:
    """Cell-of-interest accuracy on PBC val, plus its mask IoU vs the bootstrap outline."""
    from bloodview.core.geometry import polygons_to_mask, mask_iou
    from bloodview.evaluation.matching import cell_of_interest
    from bloodview.io.images import load_image

    images = spread(pbc_val(root), limit)
    camera = detector.use_camera_scale(load_image(root / image.image_path) for image in images)
    correct, correct_detector, ious, seconds, two_stage = 0, 0, [], [], False
    scores_right, scores_wrong = [], []
    flagged = Counter()  # (right?, flagged?) where flagged = below the threshold or the two networks disagree
    per_class: Counter[tuple[str, bool]] = Counter()
    for image in images:
        rgb = load_image(root / image.image_path)
        predicted, took = detector.detect(rgb, "pbc")
        seconds.append(took)
        two_stage = two_stage or reclassified(predicted)
        pick = cell_of_interest(predicted, image.width, image.height)
        hit = pick is not None and predicted[pick].class_name == image.image_label
        correct += hit
        correct_detector += pick is not None and detector_call(predicted[pick]) == image.image_label
        if pick is not None:
            (scores_right if hit else scores_wrong).append(float(predicted[pick].score or 0.0))
            doubtful = (float(predicted[pick].score or 0.0) < REVIEW_THRESHOLD
                        or detector_call(predicted[pick]) != predicted[pick].class_name)
            flagged[(hit, doubtful)] += 1
        per_class[(image.image_label, hit)] += 1
        outline = pbc_outline(rgb, image.image_label)
        if outline:
            truth = polygons_to_mask(outline, image.height, image.width)
            chosen = None if pick is None else predicted[pick].to_mask(image.height, image.width)
            ious.append(0.0 if chosen is None else mask_iou(chosen, truth))
    classes = sorted({name for name, _ in per_class})
    below = REVIEW_THRESHOLD
    return {"images": len(images), "accuracy": correct / len(images),
            **({"accuracy_detector_alone": correct_detector / len(images)} if two_stage else {}),
            "wrong_calls": len(scores_wrong),
            "wrong_calls_below_review_threshold": share_below(scores_wrong, below),
            "right_calls_below_review_threshold": share_below(scores_right, below),
            **({"wrong_calls_below_threshold_or_disputed": flagged[(False, True)] / max(1, len(scores_wrong)),
                "right_calls_below_threshold_or_disputed": flagged[(True, True)] / max(1, len(scores_right))}
               if two_stage else {}),
            "per_class_accuracy": {c: per_class[(c, True)] / (per_class[(c, True)] + per_class[(c, False)])
                                   for c in classes},
            "images_with_outline": len(ious), "mask_iou_mean": float(np.mean(ious)) if ious else None,
            "camera_scale": camera, "read_at_camera_scale": detector.read_at_camera_scale,
            **timing(seconds)}


def share_below(scores: list[float], threshold: float) -> float | None:
    return float(np.mean(np.asarray(scores) < threshold)) if scores else None


def run_big(args: argparse.Namespace) -> dict:
    """The big-field figures, measured in a fresh subprocess so its peak RSS is its own."""
    command = [sys.executable, str(Path(__file__).resolve()), "--big-child", "--model", args.model,
               "--bccd", args.bccd, "--big-size", args.big_size]
    if args.pixel_size:
        command += ["--pixel-size", args.pixel_size]
    if args.no_red_cells:
        command += ["--no-red-cells"]
    if args.min_confidence is not None:
        command += ["--min-confidence", str(args.min_confidence)]
    for setting in args.set:
        command += ["--set", setting]
    if args.no_cell_classifier:
        command += ["--no-cell-classifier"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the big-field subprocess failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def big_child(detector: Detector, root: Path, size: str) -> dict:
    """Inside the subprocess: warm up on one field, then time ``predict`` on the big one three times.

    The first big call builds and traces the network shaped for a field of that size (once per
    image size and session: a lab's camera gives one); it is reported apart (``first_call_seconds``),
    the median of the next two is ``seconds``."""
    from bloodview.io.images import load_image

    width, height = (int(v) for v in size.lower().split("x"))
    fields = bccd_split(root, "test")
    detector.detect(load_image(root / "JPEGImages" / fields[0].image_path), "bccd")
    rss_warm = peak_rss_mib()
    picture = big_field(root, fields, width, height)
    _, first = detector.detect(picture.rgb, "bccd")
    runs = [detector.detect(picture.rgb, "bccd") for _ in range(2)]
    predicted = runs[-1][0]
    truth = [c for c in picture.cells if c.class_name == "wbc"]
    matched = box_matches(truth, [d for d in predicted if d.class_name != "platelet"])
    seconds = [took for _, took in runs]
    return {"size": f"{width}x{height}", "seconds": statistics.median(seconds), "seconds_runs": seconds,
            "first_call_seconds": first,
            "peak_rss_mib": peak_rss_mib(), "peak_rss_mib_after_warm_up": rss_warm, "detections": len(predicted),
            "detections_by_class": dict(Counter(d.class_name for d in predicted).most_common()),
            "red_cells": len(detector.red_cells),
            "wbc_boxes_inside": len(truth), "wbc_found": len(matched) / len(truth) if truth else None}


def peak_rss_mib() -> float:
    """This process's own peak resident memory, MiB.

    Linux's ``ru_maxrss`` survives ``exec``: a child spawned by a parent that had grown to 1.7 GiB
    (the other sections, run first) reported the parent's peak as its own. ``VmHWM`` belongs to
    the process's memory map, which ``exec`` replaces; ``ru_maxrss`` where there is no /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --- output ----------------------------------------------------------------------------------


def save_example(path: Path, picture: Picture, detections: list) -> None:
    """A PNG of ``picture``: reference outlines green, detections red with their class."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    canvas = np.ascontiguousarray(picture.rgb[..., ::-1])
    for cell in picture.cells:
        cv2.polylines(canvas, [p.round().astype(np.int32) for p in cell.polygons], True, (0, 200, 0), 2)
    for d in detections:
        cv2.polylines(canvas, [p.round().astype(np.int32) for p in d.polygons], True, (0, 0, 220), 1)
        x1, y1, _, _ = d.bbox
        cv2.putText(canvas, f"{d.class_name} {d.score or 0:.2f}", (int(x1), max(12, int(y1) - 3)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 220), 1)
    cv2.imwrite(str(path), canvas)


def section_lines(section: str, result: dict) -> list[str]:
    """One section's numbers, one per line (a confusion matrix as a table)."""
    from bloodview.evaluation.markdown import table

    lines = [f"== {section} ({result['wall_seconds']:.0f} s wall)"]
    for key, value in result.items():
        if key == "confusion":
            columns = value["columns"]
            lines.append("confusion (rows = expert class, columns = detected; 'missed' = no detection):")
            lines += table(["expert \\ detected", *columns],
                           [[row, *counts] for row, counts in zip(value["rows"], value["matrix"]) if any(counts)])
        else:
            lines.append(f"  {key}: {json.dumps(value)}")
    return lines


def summary(results: dict) -> list[str]:
    """The issue's table rows for the sections that ran: figure, value, median seconds per image."""
    from bloodview.evaluation.markdown import number, table

    rows = []

    def row(label: str, value: str, section: dict) -> None:
        rows.append([label, value, number(section.get("seconds_per_image_median", section.get("seconds")))])

    for k in MOSAIC_SIZES if "mosaics" in results else ():
        r = results["mosaics"][f"k{k}"]
        row(f"PBC val {k}x{k} ({r['cells']} cells): found / right class",
            f"{number(r['found'])} / {number(r['right_class'])}", r)
    if "bccd" in results:
        r = results["bccd"]
        row(f"BCCD {r['split']} ({r['fields']} fields, {r['wbc_boxes']} WBC): WBC found (by any class)",
            f"{number(r['wbc_found'])} ({number(r['wbc_found_any_class'])})", r)
        row(f"BCCD {r['split']}: platelets / red cells (RBC boxes) found", f"{number(r['platelets_found'])} / "
            f"{number(r.get('rbc_found'))}", r)
        row(f"BCCD {r['split']}: platelets found, detection centre in the box / false platelets per field",
            f"{number(r.get('platelets_found_centre_in_box'))} / {number(r['platelet_false_positives_per_field'], 2)}", r)
        row("BCCD: platelets per 1,000 red cells, found / boxes", f"{number(r.get('platelets_per_1000_red_cells'))}"
            f" / {number(r.get('boxes_platelets_per_1000_red_cells'))}", r)
    if "zheng" in results:
        r = results["zheng"]
        row(f"Zheng Dataset 1 ({r['images']}): 5-class accuracy / whole-cell IoU",
            f"{number(r['accuracy'])} / {number(r['mask_iou_mean'])}", r)
    if "pbc" in results:
        r = results["pbc"]
        row(f"PBC val ({r['images']}): cell-of-interest accuracy", number(r["accuracy"]), r)
    if "pbc_platelets" in results:
        r = results["pbc_platelets"]
        row(f"PBC val neighbour platelets marked by eye ({r['images']} images): found (centre in a platelet box)",
            f"{r['platelets_found']} of {r['platelets_marked']}", r)
        if "red_cells_marked" in r:
            row(f"PBC val red cells wholly inside, checked by eye ({r['images']} images): found (centre in a red-cell box)",
                f"{r['red_cells_found']} of {r['red_cells_marked']}", r)
    if "big" in results:
        r = results["big"]
        first = f" (first call {number(r['first_call_seconds'], 2)})" if "first_call_seconds" in r else ""
        row(f"{r['size']} field: seconds{first} / peak RSS MiB", f"{number(r['seconds'], 2)} / {r['peak_rss_mib']:.0f}", r)
    return table(["figure", "value", "s/image"], rows)


def parse_settings(texts: list[str]) -> dict:
    """``--set FIELD=VALUE`` options as config overrides (values parsed as the trainer parses them)."""
    from bloodview.model.config import parse_override

    return dict(parse_override(text) for text in texts)


def parse_pixel_sizes(text: str | None) -> dict[str, float]:
    """``"pbc=0.42,bccd=0.1"`` -> ``{"pbc": 0.42, "bccd": 0.1}`` (µm per pixel)."""
    sizes = {}
    for part in filter(None, (text or "").split(",")):
        name, _, value = part.partition("=")
        if name.strip() not in ("pbc", "bccd", "zheng") or not value:
            raise SystemExit(f"--pixel-size: expected NAME=UM with NAME in pbc, bccd, zheng; got {part!r}")
        sizes[name.strip()] = float(value)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "resources/models/default"))
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}")
    parser.add_argument("--limit", type=int, default=0, help="per section (mosaics: cells per k)")
    parser.add_argument("--pbc", default=str(DATA / "pbc"))
    parser.add_argument("--bccd", default=str(DATA / "bccd"))
    parser.add_argument("--zheng", default=str(DATA / "zheng_wbc" / "Dataset 1"))
    parser.add_argument("--pixel-size", default=None, help="known µm per pixel, e.g. pbc=0.42,bccd=0.1")
    parser.add_argument("--min-confidence", type=float, default=None)
    parser.add_argument("--bccd-split", default="test", help="test (ImageSets/Main/test.txt), val, train or all")
    parser.add_argument("--big-size", default="4000x3000")
    parser.add_argument("--examples", default=None, help="folder for PNGs of the first mosaic of each k")
    parser.add_argument("--json", default=None, help="write every number to this file")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="inference setting of the model's config, e.g. post_nms_rois_inference=100")
    parser.add_argument("--no-red-cells", action="store_true", help="run without the red-cell finder")
    parser.add_argument("--no-cell-classifier", action="store_true",
                        help="name cells with the detector alone even if the model carries a cell classifier")
    parser.add_argument("--no-camera-scale", action="store_true",
                        help="read an image without usable red cells at the model default / its white cell, "
                             "not at the scale its section's other images of its size give (bccd, pbc)")
    parser.add_argument("--big-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = parse_pixel_sizes(args.pixel_size)
    overrides = parse_settings(args.set)
    if args.big_child:
        detector = Detector(args.model, sizes, args.min_confidence, overrides, not args.no_cell_classifier,
                            not args.no_red_cells)
        print(json.dumps(big_child(detector, Path(args.bccd), args.big_size)))
        return
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"--only: unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    detector = (Detector(args.model, sizes, args.min_confidence, overrides, not args.no_cell_classifier,
                            not args.no_red_cells)
                if set(only) - {"big"} else None)
    if detector is not None:
        detector.camera_scale = not args.no_camera_scale
    config = detector.predictor.config if detector else None
    results: dict = {"model": args.model, "takes_pixel_size": detector.takes_pixel_size if detector else None,
                     "model_pixel_size_um": getattr(config, "pixel_size_um", None),
                     "pixel_sizes": sizes, "limit": args.limit, "settings": overrides,
                     "cell_classifier": bool(detector and detector.predictor.classifier is not None)}
    print("  ".join(f"{key}: {json.dumps(value)}" for key, value in results.items()), flush=True)
    sources = {"mosaics": args.pbc, "bccd": args.bccd, "zheng": args.zheng, "pbc": args.pbc,
               "pbc_platelets": args.pbc, "big": args.bccd}
    for section in only:
        if not Path(sources[section]).is_dir():
            print(f"{section}: skipped, {sources[section]} is not there")
            continue
        start = time.perf_counter()
        try:
            results[section] = run_section(section, args, detector)
        except FileNotFoundError as exc:
            print(f"{section}: skipped, {exc}")
            continue
        results[section]["wall_seconds"] = time.perf_counter() - start
        print("\n".join(section_lines(section, results[section])), flush=True)
    print("\n".join(summary(results)))
    if args.json:
        from bloodview.io.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(results, indent=2), backup=False)


def warm_up_image(args: argparse.Namespace) -> np.ndarray:
    """A real smear picture (the first PBC val image, else a BCCD field) for tracing the graph."""
    from bloodview.io.images import load_image

    if Path(args.pbc).is_dir():
        return load_image(Path(args.pbc) / pbc_val(Path(args.pbc))[0].image_path)
    return load_image(Path(args.bccd) / "JPEGImages" / bccd_split(Path(args.bccd), "test")[0].image_path)


def run_section(section: str, args: argparse.Namespace, detector: Detector | None) -> dict:
    """One section's figures (warms the model up first, so no section pays for graph tracing)."""
    if section == "big":
        return run_big(args)
    if not detector.warm:
        detector.detect(warm_up_image(args), "pbc")
        detector.warm = True
    if section == "mosaics":
        return run_mosaics(detector, Path(args.pbc), args.limit, Path(args.examples) if args.examples else None)
    if section == "bccd":
        return run_bccd(detector, Path(args.bccd), args.limit, args.bccd_split)
    if section == "zheng":
        return run_zheng(detector, Path(args.zheng), args.limit)
    if section == "pbc_platelets":
        from pbc_platelets import run_pbc_platelets

        def with_red_cells(rgb):
            return detector.detect(rgb, "pbc")[0] + detector.red_cells

        return run_pbc_platelets(lambda rgb: detector.detect(rgb, "pbc")[0], Path(args.pbc), red_cells=with_red_cells)
    return run_pbc(detector, Path(args.pbc), args.limit)


if __name__ == "__main__":
    main()
