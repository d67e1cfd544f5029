"""Entry point of the ``bloodview`` command.

Sub-commands are modules ``bloodview.cli.cmd_<name>`` with ``register(subparsers)``
that adds a parser whose default ``func(args) -> int`` runs it. Those modules must
import nothing heavy at module level (TensorFlow, Qt): ``bloodview --help`` and
``bloodview info`` stay fast, and the GUI window appears before TensorFlow loads.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from bloodview import __version__
from bloodview.errors import BloodviewError

# Order shown in --help. Add a module here when adding a command.
COMMANDS: tuple[str, ...] = (
    "gui",
    "info",
    "count",
    "convert",
    "bootstrap",
    "train",
    "train-classifier",
    "predict",
    "evaluate",
    "models",
    "doctor",
)

log = logging.getLogger("bloodview")

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what `cat`, `grep` ... give when the reader of their output has gone


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill PID``, a scheduler stopping a job), raised where Python runs next.

    Python's default let SIGTERM end the process at once: no line said why, and a command's
    clean-up (``predict`` saying where its finished images are kept, a temporary file removed)
    never ran. As a :class:`KeyboardInterrupt` it takes every path Ctrl-C takes.
    """


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def _quiet_stdout() -> None:
    """After the reader of stdout has gone (``bloodview count x | head -1``): nothing more to say there,
    and no "Exception ignored ... BrokenPipeError" when Python flushes it on the way out."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (captured by a test)
        pass


def _handle_sigterm(command: str | None):
    """Make SIGTERM raise :class:`Terminated` for the command's run; the previous handler, to restore
    (None: left alone: in the window, whose event loop runs no Python to raise it in, or off the
    main thread, where Python cannot set handlers)."""
    if command == "gui" or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bloodview",
        description="Segment, classify and review blood cells in smear images.",
    )
    parser.add_argument("--version", action="version", version=f"bloodview {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"bloodview.cli.cmd_{name.replace('-', '_')}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bloodview.cli.cmd_{name.replace('-', '_')}":
                continue  # command not part of this build
            raise
        module.register(sub)
    return parser


def _default_to_gui(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``bloodview`` and ``bloodview PATH`` mean ``bloodview gui [PATH]``."""
    commands = set()
    for action in parser._actions:  # noqa: SLF001 - argparse offers no public accessor
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            commands = set(action.choices)
    if "gui" not in commands or any(a in ("-h", "--help", "--version") for a in argv):
        return argv
    positional = [a for a in argv if not a.startswith("-")]
    if positional and positional[0] in commands:
        return argv
    rest = [a for a in argv if a != "--debug"]
    return (["--debug"] if "--debug" in argv else []) + ["gui", *rest]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    argv = _default_to_gui(parser, argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s" if args.debug else "%(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    previous = _handle_sigterm(getattr(args, "command", None))
    try:
        return int(args.func(args) or 0)
    except BloodviewError as exc:
        if args.debug:
            raise
        print(f"bloodview: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Terminated:
        print("bloodview: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("bloodview: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        if args.debug:
            raise
        name = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"bloodview: error: {name}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
