"""The differential count report as HTML (PDF via Qt in :func:`write_pdf`).

The HTML is self-contained (inline CSS), readable in any browser and printable.
Unidentified cells (below the review threshold, unchecked) are reported on their
own line and left out of the percentages, as a lab report would.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Sequence
from pathlib import Path

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.differential import DifferentialCount, differential_count
from bloodview.gui.review import counted_instances, is_checked, is_unidentified


def _counted(images: Sequence[ImageAnnotation], threshold: float) -> list[ImageAnnotation]:
    return [
        ImageAnnotation(i.image_path, i.width, i.height, counted_instances(i, threshold))
        for i in images
    ]


def differential_for(
    images: Sequence[ImageAnnotation], dataset: Dataset, threshold: float
) -> tuple[DifferentialCount, int]:
    """The differential over ``images`` and the number of unidentified cells left out."""
    count = differential_count(_counted(images, threshold), dataset.classes)
    unidentified = sum(is_unidentified(c, threshold) for i in images for c in i.instances)
    return count, unidentified


def report_html(
    dataset: Dataset,
    images: Sequence[ImageAnnotation],
    threshold: float,
    title: str = "Differential count",
    model_name: str | None = None,
) -> str:
    """A complete HTML document for ``images`` of ``dataset``."""
    count, unidentified = differential_for(images, dataset, threshold)
    cells = sum(len(i.instances) for i in images)
    checked = sum(is_checked(c) for i in images for c in i.instances)
    signed = sum(i.signed_off for i in images)
    rows = []
    for row in count.rows:
        colour = "#%02x%02x%02x" % dataset.classes[row.class_name].color
        per100 = "–" if row.per_100_white is None else f"{row.per_100_white:.1f}"
        rows.append(
            f"<tr><td><span class='sw' style='background:{colour}'></span>"
            f"{html.escape(row.display_name)}</td><td class='n'>{row.count}</td>"
            f"<td class='n'>{row.percent_of_all:.1f}</td><td class='n'>{per100}</td></tr>"
        )
    now = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    model = f"<br>Model: {html.escape(model_name)}" if model_name else ""
    image_list = "".join(
        f"<li>{html.escape(str(i.image_path))} — {len(i.instances)} cells"
        f"{' — signed off' if i.signed_off else ''}</li>"
        for i in images
    )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; min-width: 28em; }}
th, td {{ border-bottom: 1px solid #ccc; padding: 4px 10px; text-align: left; }}
td.n, th.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.sw {{ display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.5em;
       border: 1px solid #555; vertical-align: middle; }}
.meta {{ color: #555; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="meta">{now} · {len(images)} image(s), {signed} signed off · {cells} cells,
{checked} checked by a person · unidentified threshold {threshold:.2f}{model}</p>
<table>
<tr><th>Class</th><th class="n">Count</th><th class="n">% of counted</th>
<th class="n">per 100 white cells</th></tr>
{''.join(rows)}
<tr><th>Counted</th><th class="n">{count.total}</th><th></th>
<th class="n">{count.white_total} white</th></tr>
<tr><td>Unidentified (not counted)</td><td class="n">{unidentified}</td><td></td><td></td></tr>
</table>
<h2>Images</h2><ul>{image_list}</ul>
</body></html>
"""


def write_report(path: Path, text_html: str) -> None:
    """Write the report as ``.html`` (atomically) or ``.pdf`` (by the suffix)."""
    path = Path(path)
    if path.suffix.lower() == ".pdf":
        write_pdf(path, text_html)
        return
    from bloodview.io.atomic import atomic_write_text

    atomic_write_text(path, text_html)


def write_pdf(path: Path, text_html: str) -> None:
    """Render the HTML to an A4 PDF with Qt's text engine (needs a QGuiApplication)."""
    from PyQt6.QtGui import QPageSize, QPdfWriter, QTextDocument

    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setResolution(150)
    document = QTextDocument()
    document.setHtml(text_html)
    document.setPageSize(writer.pageLayout().paintRectPixels(writer.resolution()).size().toSizeF())
    document.print(writer)
    if not path.exists():
        raise OSError(f"{path}: the PDF could not be written")
