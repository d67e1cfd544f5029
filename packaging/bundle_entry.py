"""Entry point of the desktop bundle (PyInstaller): the ``bloodview`` command.

The GUI starts training as ``sys.executable -m bloodview train ...``; in the bundle
``sys.executable`` is this program, so a leading ``-m bloodview`` is dropped.
"""

import multiprocessing
import sys

from bloodview.cli.main import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    args = sys.argv[1:]
    if args[:2] == ["-m", "bloodview"]:
        args = args[2:]
    sys.exit(main(args))
