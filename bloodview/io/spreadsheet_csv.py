"""CSV files written for people to open in a spreadsheet (``bloodview count --out``,
``confusion_matrix.csv`` of an evaluation).

They are UTF-8 *with a byte-order mark* (``utf-8-sig``): Excel on Windows reads a CSV
without one in the machine's legacy code page, so a lab's class "Zelle ä" or an image
"Blut_Müller.png" shows up garbled ("Zelle Ã¤"). LibreOffice, Numbers, Python's
``csv`` with ``encoding="utf-8-sig"`` and bloodview's own readers all take the mark in
their stride. The separator stays a comma and decimals a point, whatever the locale: a
spreadsheet set to a European locale (``;`` separator, ``,`` decimals) opens the file
through its import dialog (Excel: Data > From Text/CSV), which we document rather than
guess a locale per file.

Files bloodview itself reads back (``labels.csv`` of mask PNGs, YOLO, COCO) stay plain
UTF-8; the readers accept a mark either way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from bloodview.io.atomic import atomic_write_bytes

SPREADSHEET_ENCODING = "utf-8-sig"


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """``rows`` as CSV text: comma separated, ``\\n`` line ends, quoted where needed."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_spreadsheet_csv(path: str | Path, text: str, backup: bool = True) -> Path:
    """Write CSV ``text`` atomically as UTF-8 with a byte-order mark (see module doc)."""
    return atomic_write_bytes(path, text.encode(SPREADSHEET_ENCODING), backup=backup)
