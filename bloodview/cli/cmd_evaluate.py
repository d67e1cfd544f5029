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
``REPORT_DIR/predictions.json``; while they are made, each finished batch is kept in
``REPORT_DIR/predictions.json.partial`` so that a stopped run (Ctrl-C: exit 130, ``kill``: 143)
carries on when the same command is run again (:mod:`bloodview.cli.evaluate_predictions`;
``--restart`` predicts all again). The headline figures and the report's path go to stdout,
progress and notes of the run to stderr. Definitions: docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    parser.add_argument("--restart", action="store_true",
                        help="with --model: predict every image again, setting aside the predictions a stopped earlier "
                             "run with this --out kept (by default the same command carries on from them)")
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
    if args.model is not None:
        return _run_model(args, gt, describe)
    pred, input_warnings = load_predictions(args.pred, gt, gt_path=args.gt, images=args.images)
    describe["predictions"] = str(args.pred)
    report = evaluate(gt, pred, min_score=args.min_score, source=args.pred, describe=describe,
                      input_warnings=input_warnings)
    write_report(report, args.out)
    _print_headline(report, args.out)
    return 0


def _run_model(args: argparse.Namespace, gt, describe: dict) -> int:
    """Predict the ground truth's images with ``--model`` (carrying on from a stopped run), then score and write."""
    from bloodview.cli.evaluate_predictions import (
        close_journal,
        ground_truth_images,
        open_journal,
        predict_ground_truth,
        read_at_sizes,
    )
    from bloodview.evaluation.evaluate import evaluate
    from bloodview.evaluation.reports import write_report

    paths = ground_truth_images(gt)  # a missing image is named before the model loads
    pixel_size = given_pixel_size(args.pixel_size)
    sizes = read_at_sizes(gt, pixel_size)
    made_out = not args.out.exists()
    journal = open_journal(args.out, args.model, gt, paths, sizes, pixel_size, not args.no_cell_classifier,
                           args.restart)
    finished = False
    try:
        start_tensorflow(args)
        pred = predict_ground_truth(args.model, gt, paths, sizes, not args.no_cell_classifier, journal)
        describe.update(model=str(args.model), images_folder=str(args.images) if args.images else None)
        report = evaluate(gt, pred, min_score=args.min_score, source=None, describe=describe)
        _save_predictions(gt, pred, args.out, report, args.gt)
        write_report(report, args.out)
        finished = True
    finally:
        close_journal(journal, finished, len(paths), args.out, made_out)
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
