"""``bloodview gui [PATH...]``: the desktop application (the default command)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gui",
        help="open the desktop application (default)",
        description="Open images, a folder, a project, or a COCO / MakeSense / LabelMe file "
        "in the review and annotation window.",
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="images, a folder, a project folder or an annotation file")
    parser.add_argument("--screenshot", type=Path, metavar="OUT.png",
                        help="render the window offscreen to this PNG and exit")
    parser.add_argument("--detect", action="store_true",
                        help="with --screenshot: detect cells in all images first")
    parser.add_argument("--size", default="1400x900", metavar="WxH",
                        help="window size for --screenshot (default 1400x900)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    if args.screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if not getattr(args, "debug", False):
        # The model loads on a worker thread, where stderr cannot be filtered as the command line's
        # import is (bloodview.model.quiet_import); without this the terminal the app was started
        # from filled with ~40 lines of TensorFlow's op_level_cost_estimator warnings per Detect.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from bloodview.errors import FormatError
    from bloodview.gui.app import run as run_app

    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise FormatError(None, f"--size must look like 1400x900, got {args.size!r}") from None
    return run_app(args.paths, screenshot=args.screenshot, detect=args.detect, size=(width, height))
