"""Entry point of the desktop bundle (PyInstaller): the ``bloodview`` command.

The GUI starts training as ``sys.executable -m bloodview train ...``; in the bundle
``sys.executable`` is this program, so a leading ``-m bloodview`` is dropped.

``BLOODVIEW_BUNDLE_SELFTEST=imports bloodview`` imports every bloodview module the spec found
in the sources (``bundle_modules.txt``, written by ``bloodview.spec``) and exits 1 naming those
that fail: the GUI and the CLI import most modules lazily, so one left out of the bundle would
otherwise surface only when a user reaches it (``bundle_smoke.sh`` runs this).
"""

import multiprocessing
import os
import sys


def _utf8_locale() -> None:
    """Where no locale is set (or C/POSIX), use C.UTF-8 as Python does outside a bundle (PEP 538).

    The bundle's interpreter does not coerce the locale, so Qt printed a warning on every start
    from an empty environment (a desktop launcher, cron) and switched to C.UTF-8 itself anyway.
    """
    if os.environ.get("LC_ALL"):
        return  # set on purpose: Python leaves it alone too
    if (os.environ.get("LC_CTYPE") or os.environ.get("LANG") or "C") in ("C", "POSIX"):
        os.environ["LC_CTYPE"] = "C.UTF-8"


def _import_selftest() -> int:
    import importlib
    import traceback
    from pathlib import Path

    manifest = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent)) / "bundle_modules.txt"
    names = [n for n in manifest.read_text().split() if not n.endswith("__main__")]  # __main__ runs the CLI
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - report every module that cannot be imported
            failed.append(name)
            print(f"cannot import {name}:\n{traceback.format_exc()}", file=sys.stderr)
    print(f"imported {len(names) - len(failed)} of {len(names)} bloodview modules")
    return 1 if failed or not names else 0


if __name__ == "__main__":
    multiprocessing.freeze_support()
    _utf8_locale()
    if os.environ.get("BLOODVIEW_BUNDLE_SELFTEST") == "imports":
        sys.exit(_import_selftest())
    from bloodview.cli.main import main

    args = sys.argv[1:]
    if args[:2] == ["-m", "bloodview"]:
        args = args[2:]
    sys.exit(main(args))
