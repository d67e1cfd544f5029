"""``bloodview evaluate``: the paper's Tables 4 and 5 for a model or a predictions file.

    bloodview evaluate --gt GT --pred PRED.json --out REPORT_DIR
    bloodview evaluate --gt GT --model MODEL_DIR [--images DIR] --out REPORT_DIR
    bloodview evaluate --compare REPORT_DIR [REPORT_DIR ...] [--out FILE.md]

GT is anything the io layer reads (COCO, VOC, YOLO, LabelMe, MakeSense, PBC class
folders, a project). PRED is a COCO results list (paired with GT by the
``file_name`` and ``category_name`` of each detection when it has them, as
``bloodview predict`` writes; else by image and category ids, which must be
GT's) or any annotation file with scores. With ``--model`` the ground truth's images (in
``--images`` when given) are predicted first
(TensorFlow loads only then) and the predictions are kept as
``REPORT_DIR/predictions.json``. Definitions: docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bloodview.cli.log_progress import LogProgress
from bloodview.cli.options import add_pixel_size_option, finite_float_arg, given_pixel_size
from bloodview.cli.tensorflow_start import start_tensorflow
from bloodview.errors import BloodviewError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="mask/box mAP, mAR, F1 and per-class classification figures against ground truth",
        description="Fill in the paper's Table 4 (mask/box mAP@0.5/0.7/0.9/0.5:0.95, mAR, F1) and Table 5 "
        "(per-class accuracy, precision, recall, F1, specificity, confusion matrix) for a model or a "
        "predictions file, or compare earlier reports.",
        epilog="examples:\n" + "\n".join(line for line in __doc__.splitlines() if "bloodview evaluate --" in line)
        + "\n\nDefinitions of every figure: docs/evaluation.md",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--gt", type=Path, help="ground-truth annotations (any format bloodview reads)")
    parser.add_argument("--gt-format", dest="gt_format", help="format of --gt when it cannot be detected")
    parser.add_argument("--pred", type=Path, help="predictions: COCO results JSON or annotations with scores")
    parser.add_argument("--model", type=Path, help="model folder: predict the images first")
    add_pixel_size_option(parser, "with --model: µm per pixel of the images (default: a pixel size the "
                                  "ground truth gives, else measured on each image's red cells)")
    parser.add_argument("--images", type=Path, help="folder the ground truth's images are in (default: as "
                        "the --gt format says, e.g. beside a COCO file); --model predicts those images")
    parser.add_argument("--no-cell-classifier", action="store_true",
                        help="with --model: name cells with the detector alone, even if the model carries a "
                             "cell classifier (to see what the classifier adds)")
    parser.add_argument("--out", type=Path, help="report folder (with --compare: a Markdown file)")
    parser.add_argument("--min-score", type=finite_float_arg, default=None,
                        help="ignore predictions scoring below this (default: use all)")
    parser.add_argument("--compare", nargs="+", type=Path, metavar="REPORT_DIR",
                        help="print a side-by-side table of earlier reports")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.compare:
        return _compare(args)
    if args.gt is None or args.out is None:
        raise BloodviewError("evaluate needs --gt and --out (or --compare REPORT_DIR ...)")
    if (args.pred is None) == (args.model is None):
        raise BloodviewError("evaluate needs exactly one of --pred PRED.json or --model MODEL_DIR")
    if args.out.exists() and not args.out.is_dir():
        raise BloodviewError(f"{args.out}: is a file; --out is the folder the report is written into")
    from bloodview.evaluation.evaluate import evaluate
    from bloodview.evaluation.inputs import require_images
    from bloodview.evaluation.predictions_file import load_predictions
    from bloodview.evaluation.reports import write_report
    from bloodview.io.detect import load_annotations

    gt = load_annotations(args.gt, images=args.images, fmt=args.gt_format)
    require_images(gt, args.gt)  # before reading predictions or loading a model
    describe = {"ground_truth": str(args.gt)}
    input_warnings: list[str] = []
    if args.pred is not None:
        pred, input_warnings = load_predictions(args.pred, gt, gt_path=args.gt, images=args.images)
        describe["predictions"] = str(args.pred)
    else:
        start_tensorflow(args)
        pred = _predict(args.model, gt, given_pixel_size(args.pixel_size), not args.no_cell_classifier)
        describe.update(model=str(args.model), images_folder=str(args.images) if args.images else None)
    report = evaluate(gt, pred, min_score=args.min_score, source=args.pred, describe=describe,
                      input_warnings=input_warnings)
    if args.model is not None:
        _save_predictions(gt, pred, args.out, report, args.gt)
    write_report(report, args.out)
    _print_headline(report, args.out)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from bloodview.evaluation.compare import compare_reports
    from bloodview.evaluation.reports import load_report
    from bloodview.io.atomic import atomic_write_text

    reports = [(Path(folder).resolve().name, load_report(folder)) for folder in args.compare]
    text = compare_reports(reports)
    print(text, end="")
    if args.out is not None:
        atomic_write_text(args.out, text)
    return 0


def _predict(model_dir: Path, gt, pixel_size: float | None = None, cell_classifier: bool = True):
    """Run the model on the ground truth's images (found through ``--images``) -> Dataset.

    Only images with ground truth are predicted: others could not be scored.
    ``pixel_size`` (µm) holds for every image; without it an image whose ground
    truth was given a pixel size is read at that one, the others are measured.
    """
    from tqdm import tqdm

    from bloodview.core.annotation import Dataset, ImageAnnotation
    from bloodview.core.classes import is_red_cell_name
    from bloodview.core.measure import SOURCE_GIVEN
    from bloodview.errors import ImageError
    from bloodview.model.predict import Predictor

    paths = [Path(gt.resolve_image(i)) for i in gt.images]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise ImageError(missing[0], f"image not found ({len(missing)} of {len(paths)} ground-truth images "
                         "are missing; give their folder with --images)")
    # A ground truth with red cells (a lab's checked fields) is compared with what the app gives: the
    # model plus the classical red-cell finder; without, the model alone (as every evaluation before).
    red_cells = bool(gt.classes.red_cell_names)
    predictor = Predictor.load(model_dir, cell_classifier=cell_classifier, red_cells=red_cells)
    sizes = [pixel_size or (i.pixel_size_um if i.pixel_size and i.pixel_size.source == SOURCE_GIVEN else None)
             for i in gt.images]
    shapes = [(image.height, image.width) for image in gt.images]
    log_lines = LogProgress("evaluate", len(paths))  # a log file gets whole lines, not the bar's \r updates

    def moved(done: int, _total: int) -> None:
        bar.update(done - bar.n)
        log_lines.update(done)

    with tqdm(total=len(paths), desc="predicting", unit="image", file=sys.stderr, disable=None) as bar:
        found = _detect(predictor, paths, sizes, shapes, moved)
    if red_cells:  # the finder's ``rbc`` is the ground truth's red-cell class, however it is spelt
        for instances, _ in found:
            for cell in instances:
                if is_red_cell_name(cell.class_name):
                    cell.class_name = gt.classes.resolve(cell.class_name)
    images = [
        ImageAnnotation(path, image.width, image.height, instances, pixel_size=scale)
        for path, image, (instances, scale) in zip(paths, gt.images, found)
    ]
    return Dataset(images, gt.classes)


def _detect(predictor, paths: list[Path], sizes: list[float | None], shapes: list[tuple[int, int]],
            progress) -> list[tuple[list, object]]:
    """``(cells, PixelSize or None)`` per image; a predictor without ``detect`` (a stand-in) gives no scale.

    As ``bloodview predict`` does, an image read at an assumed scale (no usable red cells of its
    own) is read again at the scale the other images of its size measured
    (:mod:`bloodview.model.camera_pass`), so the report scores what a user gets.
    """
    from bloodview.core.measure import PixelSize
    from bloodview.model.camera_pass import read_again_at_camera_scale

    if not hasattr(predictor, "detect"):
        return [(list(cells), None) for cells in predictor.predict(paths, progress=progress)]
    results = predictor.detect(paths, progress=progress, pixel_size=sizes)
    again = read_again_at_camera_scale(predictor, paths, shapes, results)
    if again:  # a line of its own, under the progress bar that is still open
        from tqdm import tqdm

        tqdm.write(f"{len(again)} image(s) without usable red cells read again at their camera's scale, measured "
                   "on the other images of their size", file=sys.stderr)
    return [(list(one.instances), None if one.scale is None else PixelSize.from_estimate(one.scale))
            for one in results]


def _save_predictions(gt, pred, out: Path, report: dict, gt_path: Path) -> None:
    """predictions.json, readable with ``--pred`` against the same ground truth."""
    from bloodview.evaluation.predictions_file import save_predictions

    out.mkdir(parents=True, exist_ok=True)
    report["predictions"] = str(save_predictions(gt, pred, out / "predictions.json", gt_path))


def _print_headline(report: dict, out: Path) -> None:
    from bloodview.evaluation.markdown import number

    for kind in ("mask", "box"):
        figures = report.get(kind)
        if figures:
            print(
                f"{kind:<5} mAP@0.5 {number(figures['mAP50'])}  mAP@0.7 {number(figures['mAP70'])}  "
                f"mAP@0.9 {number(figures['mAP90'])}  mAP@0.5:0.95 {number(figures['mAP50_95'])}  "
                f"mAR {number(figures['mAR'])}  F1 {number(figures['F1'])}"
            )
    cls = report["classification"]
    print(
        f"classification accuracy {number(cls['accuracy'])} over every cell, {number(cls.get('accuracy_matched'))} "
        f"on the matched ones  macro F1 {number(cls['macro']['f1'])}  "
        f"(cells: {cls['matched']} matched, {cls['missed']} missed, {cls['spurious']} spurious)"
    )
    for line in report.get("notes", []):
        print(f"note: {line}")
    for line in report.get("warnings", []):
        print(f"warning: {line}", file=sys.stderr)
    print(f"report: {out / 'report.md'}")
