"""``bloodview convert INPUT OUTPUT --to FMT``: rewrite annotations in another format.

The input format is detected unless ``--from`` names it. File formats (coco,
via, makesense-coco) write OUTPUT as a file (``OUTPUT.json`` when its name lacks
``.json``, so bloodview can read it back; ``OUTPUT/<format>.json`` when OUTPUT is
a folder); labelme, voc, yolo, mask-png and project write into the
OUTPUT folder. Every file is written atomically, an existing one kept as ``.bak``.

Cells whose file does not say who made them come back as unreviewed imports;
``--reviewed`` vouches for them (they then count as checked by a person, so a
retrain learns from them). Cells that carry bloodview's record keep it.

COCO crowd regions (``iscrowd: 1``) go into coco, project and labelme (flagged there);
via and makesense-coco leave them out, and the command says how many in which images
(:mod:`bloodview.io.crowd`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bloodview.cli.cmd_info import add_input_options, read_input

TO_FORMATS = ("coco", "via", "makesense-coco", "labelme", "voc", "yolo", "mask-png", "project")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert annotations between formats",
        description="Read INPUT (format detected unless --from) and write it to OUTPUT in the format --to.",
    )
    parser.add_argument("input", type=Path, metavar="INPUT", help="annotation file or folder to read")
    parser.add_argument("output", type=Path, metavar="OUTPUT", help="file or folder to write")
    parser.add_argument("--to", required=True, choices=TO_FORMATS, metavar="FMT",
                        help=f"output format: {', '.join(TO_FORMATS)} (via = MakeSense VGG JSON)")
    add_input_options(parser)
    parser.add_argument("--reviewed", action="store_true",
                        help="mark imported cells without bloodview provenance as checked by a person "
                             "(only for annotations you trust, e.g. another lab's reviewed ground truth)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bloodview.errors import FormatError
    from bloodview.io.crowd import LEFT_OUT_BY, crowd_regions
    from bloodview.io.detect import canonical_format, output_target, save_annotations
    from bloodview.io.provenance import mark_imports_reviewed

    target = output_target(args.output, args.to)  # a folder given for a file format: the file in it
    if target.exists() and target.resolve() == args.input.resolve():
        raise FormatError(target, "is the input; choose another output so the original is not overwritten")
    dataset, fmt = read_input(args)
    marked = mark_imports_reviewed(dataset) if args.reviewed else 0
    written = save_annotations(dataset, args.output, args.to)
    vouched = f", {marked} imported cells marked reviewed" if args.reviewed else ""
    crowd = sum(n for _, n in crowd_regions(dataset)) if canonical_format(args.to) in LEFT_OUT_BY else 0
    left_out = f", {crowd} crowd regions left out (see the warning)" if crowd else ""
    print(f"{args.input} ({fmt}) -> {written} ({args.to}): {len(dataset.images)} images, "
          f"{dataset.instance_count - crowd} cells{vouched}{left_out}")
    return 0
