"""``bloodview count PATH``: the differential count of an annotation file or project.

A lab that runs ``bloodview predict`` over a day's smears, or keeps its reviewed projects,
wants the figures it reports — the white-cell differential in %, erythroblasts per 100 white
cells, platelets and the platelet estimate — for each image and for all of them, without
opening the window. The rules are the app's (:mod:`bloodview.core.review_rules`,
:mod:`bloodview.core.differential`): machine calls below the unidentified threshold are left
out, a person's checked cells are told apart from unchecked ones — these by origin (model,
segmenter, imported), as the report names them — and a count is a DRAFT until every image is
signed off. ``--out counts.csv`` writes one row per image and a last row for
them all, as UTF-8 with a byte-order mark so that Excel shows non-ASCII class and image names
right (:mod:`bloodview.io.spreadsheet_csv`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bloodview.cli.cmd_info import add_input_options, read_input
from bloodview.cli.options import check_output_file, finite_float_arg
from bloodview.core.review_rules import ORIGINS, is_crowd_region
from bloodview.errors import BloodviewError
from bloodview.io.spreadsheet_csv import csv_text

ALL_IMAGES = "all images"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "count",
        help="the differential count (per image and in all) of an annotation file or project",
        description="Count cells as the app's Differential panel does: white cells in %% of the white "
                    "cells, erythroblasts per 100 white cells, platelets and red cells as counts, the "
                    "platelet estimate; machine calls below the unidentified threshold left out.",
    )
    parser.add_argument("path", type=Path, metavar="PATH", help="annotation file or folder (e.g. predict's output, a project)")
    add_input_options(parser)
    parser.add_argument("--threshold", type=finite_float_arg, metavar="X", default=None,
                        help="unidentified threshold: machine cells less certain than this are not counted "
                             "(default: the project's setting, else 0.75 as in the app)")
    parser.add_argument("--out", type=Path, metavar="COUNTS.csv", help="write one row per image and one for all")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bloodview.core.review_rules import DEFAULT_UNIDENTIFIED_THRESHOLD

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise BloodviewError(f"--threshold must be between 0 and 1, got {args.threshold}")
    if args.out is not None:
        check_output_file(args.out)
    dataset, fmt = read_input(args)
    threshold = args.threshold
    if threshold is None:
        threshold = _project_threshold(args.path) if fmt == "project" else None
    threshold = DEFAULT_UNIDENTIFIED_THRESHOLD if threshold is None else threshold
    print(summary_text(dataset, threshold), end="")
    if args.out is not None:
        from bloodview.io.spreadsheet_csv import write_spreadsheet_csv

        write_spreadsheet_csv(args.out, counts_csv(dataset, threshold), backup=False)
        print(f"wrote {args.out} ({len(dataset.images)} image rows and one for all images)")
    return 0


def _project_threshold(path: Path) -> float | None:
    """The unidentified threshold saved with a project (the Review panel's), if any."""
    from bloodview.core.review_rules import THRESHOLD_SETTING
    from bloodview.io.project import load_project

    saved = load_project(path).settings.get(THRESHOLD_SETTING)
    return float(saved) if isinstance(saved, (int, float)) and 0.0 <= saved <= 1.0 else None


def _count(images, dataset, threshold: float):
    """The differential over ``images`` with the app's rules, and the unidentified cells left out."""
    from bloodview.core.annotation import ImageAnnotation
    from bloodview.core.differential import differential_count
    from bloodview.core.review_rules import counted_instances, is_checked, is_unidentified

    counted = [ImageAnnotation(i.image_path, i.width, i.height, counted_instances(i, threshold)) for i in images]
    count = differential_count(counted, dataset.classes, checked=is_checked)
    unidentified = sum(is_unidentified(c, threshold) for i in images for c in i.instances)
    return count, unidentified


def summary_text(dataset, threshold: float) -> str:
    """The whole data set's count as a technician reads it (what the app's panel shows)."""
    from bloodview.core.differential import per_100_white_text, platelet_estimate_text, review_tally

    images = dataset.images
    count, unidentified = _count(images, dataset, threshold)
    tally = review_tally(images, threshold)  # the report's DRAFT rule: the two must never disagree
    lines = [f"{len(images)} image(s), {count.fields} with counted cells, {tally.signed_off} signed off; "
             f"unidentified threshold {threshold:.2f}"]
    if not tally.final:
        lines.append(f"DRAFT: {tally.draft_reason()}")
    lines.append(tally.cells_text())
    if unidentified:
        lines.append(f"{unidentified} unidentified cell(s) left out (less certain than {threshold:.2f}, unchecked)")
    crowd = sum(is_crowd_region(c) for i in images for c in i.instances)
    if crowd:
        lines.append(f"{crowd} crowd region(s) left out (several cells outlined together, COCO iscrowd: not one cell)")
    lines.append(f"white cells: {count.white_total} ({count.white_checked} checked)")
    for row in count.white_rows:
        if row.count:
            lines.append(f"  {row.display_name:<24} {row.count:>6}  {row.per_100_white:5.1f} %")
    for row in count.other_rows:
        if row.count:
            figure = per_100_white_text(row, count.white_total, "per 100 white cells")
            lines.append(f"  {row.display_name:<24} {row.count:>6}  {figure}")
    lines.append(f"platelet estimate: {platelet_estimate_text(count)}")
    return "\n".join(lines) + "\n"


def counts_csv(dataset, threshold: float) -> str:
    """One row per image, then one for all images: counts per class, white classes in %, the
    classes labs give per 100 white cells, platelets per 1,000 red cells, what is left to check."""
    classes = list(dataset.classes)
    header = ["image", "signed_off", "pixel_size_um", "counted_cells", "unchecked_cells",
              *(f"unchecked_{name}" for name in ORIGINS), "unidentified_left_out", "white_cells"]
    header += [f"n_{c.name}" for c in classes]
    header += [f"pct_{c.name}" if c.white_cell else f"{c.name}_per_100_white" for c in classes
               if _per_100_white(c)]
    header += ["platelets", "red_cells", "platelets_per_1000_red_cells"]
    rows = [header]
    for image in dataset.images:
        um = image.pixel_size_um
        rows.append(_row(image.image_path.as_posix(), [image], dataset, threshold, classes,
                         "yes" if image.signed_off else "no", "" if um is None else f"{um:.5f}"))
    signed = sum(bool(i.signed_off) for i in dataset.images)
    rows.append(_row(ALL_IMAGES, dataset.images, dataset, threshold, classes,
                     f"{signed} of {len(dataset.images)}", ""))
    return csv_text(rows)


def _per_100_white(cell_class) -> bool:
    from bloodview.core.differential import PER_100_WHITE_NON_WHITE

    return bool(cell_class.white_cell) or cell_class.name in PER_100_WHITE_NON_WHITE


def _row(name: str, images, dataset, threshold: float, classes, signed: str, um: str) -> list:
    count, unidentified = _count(images, dataset, threshold)
    per_red = count.platelets_per_1000_red_cells
    row = [name, signed, um, count.total, count.unchecked_total, *(count.unchecked_from(o) for o in ORIGINS),
           unidentified, count.white_total]
    row += [count.row(c.name).count for c in classes]
    row += [f"{count.row(c.name).per_100_white:.1f}" if count.white_total else "" for c in classes if _per_100_white(c)]
    row += [count.platelets, count.red_cells, "" if per_red is None else f"{per_red:.1f}"]
    return row
