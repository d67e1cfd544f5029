"""``bloodview info PATH``: what an annotation file or folder holds.

Prints the format detected, the number of images (per split), cells per class,
how many a person reviewed, and the image-level labels of class-only data
(PBC folders). ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "info",
        help="summarise an annotation file or folder",
        description="Detect the annotation format of PATH and count images, cells per class and reviews.",
    )
    parser.add_argument("path", type=Path, metavar="PATH", help="annotation file or folder")
    add_input_options(parser)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """Options shared with ``convert`` for reading annotations."""
    from bloodview.io.detect import LOAD_FORMATS  # light: no reader is imported before it is needed

    from_formats = ", ".join(name for name in LOAD_FORMATS if name != "coco-results")
    parser.add_argument("--from", dest="fmt", metavar="FMT", help=f"input format ({from_formats}); detected if left out")
    parser.add_argument("--images", type=Path, metavar="DIR", help="folder the annotation file's image names refer to")
    parser.add_argument("--add-classes", action="store_true",
                        help="add class names the catalogue does not know as project classes (what "
                             "info and convert do anyway: a file brings its classes; kept for old scripts)")


def read_input(args: argparse.Namespace):
    """``(dataset, format name)`` for ``args.path``/``args.input``, with a hint on unknown classes."""
    from bloodview.errors import FormatError, UnknownClassError
    from bloodview.io.detect import canonical_format, detect_format, load_annotations

    path = getattr(args, "input", None) or args.path
    fmt = canonical_format(args.fmt) if args.fmt else detect_format(path)
    try:
        dataset = load_annotations(path, images=args.images, fmt=fmt,
                                   add_unknown_classes=True if args.add_classes else None)
    except UnknownClassError as exc:
        raise FormatError(None, f"{exc} (use --add-classes to add it as a project class)") from exc
    return dataset, fmt


def summary(dataset, fmt: str, path: Path) -> dict[str, Any]:
    splits: dict[str, int] = {}
    for image in dataset.images:
        key = image.split or "none"
        splits[key] = splits.get(key, 0) + 1
    counts = dataset.class_counts()
    reviewed: dict[str, int] = {}
    for image in dataset.images:
        for instance in image.instances:
            if instance.reviewed:
                reviewed[instance.class_name] = reviewed.get(instance.class_name, 0) + 1
    return {
        "path": str(path),
        "format": fmt,
        "images": len(dataset.images),
        "images_with_cells": sum(1 for i in dataset.images if i.instances),
        "splits": splits,
        "instances": dataset.instance_count,
        "reviewed": dataset.reviewed_count(),
        "box_only": sum(1 for i in dataset.images for x in i.instances if x.box_only),
        "signed_off_images": sum(1 for i in dataset.images if i.signed_off),
        "classes": {name: {"instances": counts.get(name, 0), "reviewed": reviewed.get(name, 0)}
                    for name in dataset.classes.names if counts.get(name, 0)},
        "image_labels": dict(sorted(dataset.image_label_counts().items())),
    }


def print_summary(info: dict[str, Any]) -> None:
    split_text = ", ".join(f"{k} {v}" for k, v in info["splits"].items() if k != "none")
    print(f"{info['path']}: {info['format']}")
    print(f"images:    {info['images']}" + (f" ({split_text})" if split_text else "")
          + f", {info['images_with_cells']} with cells, {info['signed_off_images']} signed off")
    print(f"cells:     {info['instances']} ({info['reviewed']} reviewed, {info['box_only']} boxes only)")
    if info["classes"]:
        width = max(len(n) for n in info["classes"])
        for name, row in info["classes"].items():
            print(f"  {name:<{width}}  {row['instances']:>7}  reviewed {row['reviewed']}")
    if info["image_labels"]:
        print("image labels (one class per image):")
        width = max(len(n) for n in info["image_labels"])
        for name, count in info["image_labels"].items():
            print(f"  {name:<{width}}  {count:>7}")


def run(args: argparse.Namespace) -> int:
    dataset, fmt = read_input(args)
    info = summary(dataset, fmt, args.path)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print_summary(info)
    return 0
