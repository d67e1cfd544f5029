"""``bloodview bootstrap``: instance masks from class-only or box-only data (no network).

Examples::

    bloodview bootstrap ../shared/data/pbc --out pbc_masks.json --workers 2
    bloodview bootstrap ../shared/data/bccd/JPEGImages --boxes ../shared/data/bccd/Annotations \\
        --out bccd_masks.json
    bloodview bootstrap ../shared/data/pbc --out pbc_masks.json --montage montage.png
    bloodview bootstrap my_fields --boxes my_boxes.json --pixel-size 0.25 --out masks.json

The COCO file names images relative to INPUT; open it with INPUT as images folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bloodview.cli.options import add_pixel_size_option, check_output_file, positive_int_arg


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bootstrap",
        help="make instance masks from class folders or boxes with classical segmentation",
        description="Segment the centred cell of each image in class folders (PBC layout "
        "INPUT/<class>/<image>), or the cell in each box (--boxes), with classical image "
        "processing, and write a COCO instances file for training and review.",
    )
    parser.add_argument("input", type=Path, help="class-folder data set, or the images folder with --boxes")
    parser.add_argument("--out", type=Path, required=True, help="COCO instances JSON to write (atomically)")
    parser.add_argument("--boxes", type=Path, help="box annotations: Pascal VOC folder/XML, COCO JSON or YOLO")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--classes", default="", help="extra class names to accept, comma separated")
    parser.add_argument("--limit", type=positive_int_arg, help="at most N images, spread evenly over the classes")
    parser.add_argument("--flag-below", type=float, default=None, help="quality under which a mask is flagged")
    parser.add_argument("--montage", type=Path, help="also draw the masks of a few images per class into this PNG")
    parser.add_argument("--montage-per-class", type=positive_int_arg, default=6, help="images per class in the montage")
    add_pixel_size_option(parser, "µm per pixel of images at another magnification than PBC's (~0.104), or "
                                  "'auto' to measure each on its red cells: images are segmented at PBC's "
                                  "scale and outlines mapped back (default: segment as they are)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bloodview.bootstrap.inputs import scan_boxes, scan_class_folders
    from bloodview.bootstrap.quality import FLAG_THRESHOLD
    from bloodview.bootstrap.runner import build_dataset, run_items
    from bloodview.core.classes import ClassCatalogue
    from bloodview.errors import FormatError
    from bloodview.io.coco import save_coco

    threshold = FLAG_THRESHOLD if args.flag_below is None else args.flag_below
    if args.workers < 1:
        raise FormatError(None, f"--workers must be at least 1, got {args.workers}")
    check_output_file(args.out)
    if args.montage is not None:
        check_output_file(args.montage, "--montage")
    classes = ClassCatalogue.pbc()
    extra = [name for name in args.classes.split(",") if name.strip()]
    if args.boxes is not None:
        for name in extra:
            classes.add(name.strip())
        scan = scan_boxes(args.boxes, args.input, classes)
    else:
        scan = scan_class_folders(args.input, classes, extra)
    items = _limit(scan.items, args.limit)
    with tqdm(total=len(items), unit="img", file=sys.stderr, disable=None, desc="bootstrap") as bar:
        # closed on Ctrl-C too, so "bloodview: interrupted" gets a line of its own
        dataset, summary = build_dataset(
            scan, run_items(items, workers=args.workers, pixel_size=args.pixel_size), threshold,
            progress=lambda _: bar.update(1)
        )
    if dataset.instance_count == 0:
        raise FormatError(args.input, "no cell could be segmented in any image; nothing written")
    out = save_coco(dataset, args.out, images_root=scan.root)
    for line in summary.lines(threshold):
        print(line)
    for reason, count in sorted(scan.skipped_files.items()):
        print(f"skipped {count} file(s): {reason}")
    if scan.skipped_folders:
        names = ", ".join(f"{folder.name}/" for folder in scan.skipped_folders)
        print(f"skipped {len(scan.skipped_folders)} folder(s) with no images: {names}")
    for message in summary.unreadable[:10]:
        print(f"unreadable: {message}")
    if summary.unreadable:
        print(f"{len(summary.unreadable)} image(s) skipped (unreadable)")
    for message in summary.messages[:10]:
        print(f"no mask: {message}")
    hidden = len(summary.messages) - 10
    if hidden > 0:
        print(f"... and {hidden} more images/boxes without a mask")
    print(f"wrote {dataset.instance_count} masks on {len(dataset)} images to {out} (images relative to {scan.root})")
    if args.montage is not None:
        from bloodview.bootstrap.montage import draw_montage

        path = draw_montage(dataset, args.montage, per_class=args.montage_per_class)
        print(f"montage: {path}")
    return 0


def _limit(items: list, limit: int | None) -> list:
    """At most ``limit`` items, taken round-robin over classes (input order within a class)."""
    if limit is None or limit >= len(items):
        return items
    by_class: dict[str | None, list] = {}
    for item in items:
        by_class.setdefault(item.class_name, []).append(item)
    chosen: list = []
    queues = [list(v) for v in by_class.values()]
    while len(chosen) < limit and any(queues):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return chosen
