"""The differential count report as HTML (as a printable PDF by :mod:`bloodview.gui.report_pdf`).

What identifies it when filed (folder, images, time in UTC, version, model, scale) comes from
:mod:`bloodview.gui.report_identity`.

The HTML is self-contained (inline CSS), readable in any browser and printable.
It says what a lab signs: the white-cell differential with its denominator,
NRBC per 100 white cells, platelets and red cells as counts apart from it, how
many fields (images with counted cells) the figures rest on, the platelet
estimate (per field; per 1,000 red cells when red cells were counted), how many
cells a person checked and how many are unchecked — by origin, one column each: a
model's calls, the classical segmenter's outlines, cells imported from a file that
does not say who made them (an auditor must not read an imported or segmented cell
as the model's) — and how many images are signed off, and each image with who signed it off and when. Until
every image is signed off (and every cell checked) the report is a **DRAFT** in
its title, its body and on every PDF page; it is never printed as final before;
a final one ends with a line for the lab lead's signature. Without white cells
there is no % and no figure per 100 white cells ("–"), never a 0.0 that would
hide erythroblasts.
Unidentified cells (below the review threshold, unchecked) are reported on their
own line and left out of the percentages, as a lab report would.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Sequence
from pathlib import Path

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.differential import (  # noqa: F401 - ReviewTally: the GUI's name for it
    DifferentialCount,
    DifferentialRow,
    ReviewTally,
    differential_count,
    per_100_white_text,
    review_tally,
)
from bloodview.core.review_rules import ORIGINS, is_crowd_region
from bloodview.gui.report_identity import identity_rows, report_id
from bloodview.gui.review import counted_instances, is_checked, is_unidentified

DRAFT = "DRAFT"


def _counted(images: Sequence[ImageAnnotation], threshold: float) -> list[ImageAnnotation]:
    return [
        ImageAnnotation(i.image_path, i.width, i.height, counted_instances(i, threshold))
        for i in images
    ]


def differential_for(
    images: Sequence[ImageAnnotation], dataset: Dataset, threshold: float
) -> tuple[DifferentialCount, int]:
    """The differential over ``images`` (person-checked cells told apart) and the number of
    unidentified cells left out."""
    count = differential_count(_counted(images, threshold), dataset.classes, checked=is_checked)
    unidentified = sum(is_unidentified(c, threshold) for i in images for c in i.instances)
    return count, unidentified


def other_cell_figure(row: DifferentialRow, white_total: int) -> str:
    """How a non-white class is reported: NRBC per 100 white cells (none without white cells),
    the rest as a count only."""
    return per_100_white_text(row, white_total)


def _utc(at: str) -> str:
    """An ISO 8601 time as ``"2026-11-30 09:00 UTC"``: a record with another offset is converted
    (it was printed as if it were UTC), one without an offset is taken as UTC, and text that is
    not a time is shown as it is."""
    try:
        moment = _dt.datetime.fromisoformat(at)
    except ValueError:
        return at
    if moment.tzinfo is not None:
        moment = moment.astimezone(_dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def sign_off_text(image: ImageAnnotation) -> str:
    """An image's sign-off as the report lists it: who and when (UTC), as the record keeps it.

    ``"signed off by ana, 2026-11-30 09:00 UTC"``; a withdrawn sign-off says who withdrew it;
    an old project's sign-off without a record says so rather than name nobody."""
    last = image.last_sign_off
    when = "" if last is None else _utc(last.at)
    if image.signed_off:
        if last is None or not last.signed_off:
            return "signed off (who and when not recorded)"
        return f"signed off by {last.who}, {when}"
    if last is not None and not last.signed_off:
        return f"not signed off (sign-off withdrawn by {last.who}, {when})"
    return "not signed off"


def lab_figures_html(count: DifferentialCount, images: int) -> str:
    """The fields the figures rest on, cells counted and the platelet estimate, as an HTML section."""
    per_field = count.platelets_per_field
    per_red = count.platelets_per_1000_red_cells
    left_out = images - count.fields
    note = (f" {left_out} image(s) without counted cells are left out." if left_out else "")
    rows = (
        ("Fields (images) counted", str(count.fields)),
        ("White cells counted", str(count.white_total)),
        ("Red cells counted", str(count.red_cells)),
        ("Platelets counted", str(count.platelets)),
        ("Platelets per field (mean)", "–" if per_field is None else f"{per_field:.2f}"),
        ("Platelets per 1,000 red cells", "no red cells counted" if per_red is None else f"{per_red:.1f}"),
    )
    table = "".join(f"<tr><td>{label}</td><td class='n'>{value}</td></tr>" for label, value in rows)
    return (f"<h2>Fields and platelet estimate</h2>\n<p>These figures rest on {count.fields} field(s): "
            f"the images with counted cells.{note}</p>\n<table>\n{table}\n</table>")


ORIGIN_MEANING = {
    "model": "called by a trained model (detector or cell classifier)",
    "segmenter": "outlined by the classical segmenter (bootstrap, the red-cell finder), no trained model",
    "imported": "read from a file that does not say who made the cell",
    "person": "drawn by a person",
}


def unchecked_columns(count: DifferentialCount) -> tuple[str, ...]:
    """The origins that get an "Unchecked (…)" column: those of the unchecked cells counted,
    or none when every cell is checked (one plain "Unchecked" column of zeros then)."""
    return count.unchecked_origins


def _unchecked_head(origins: Sequence[str]) -> str:
    if not origins:
        return "<th class='n'>Unchecked</th>"
    return "".join(f"<th class='n'>Unchecked ({name})</th>" for name in origins)


def _unchecked_cells(origins: Sequence[str], total: int, of_origin, tag: str = "td") -> str:
    values = [of_origin(name) for name in origins] if origins else [total]
    return "".join(f"<{tag} class='n'>{value}</{tag}>" for value in values)


def origins_note(origins: Sequence[str]) -> str:
    """What each "Unchecked (…)" column means, for the origins shown."""
    if not origins:
        return ""
    meanings = "; ".join(f"<i>{name}</i>: {ORIGIN_MEANING[name]}" for name in (*ORIGINS, "person")
                         if name in origins)
    return f"<p class='meta'>Unchecked cells by origin — {meanings}.</p>"


def _row_html(row: DifferentialRow, colour: str, figure: str, origins: Sequence[str]) -> str:
    return (f"<tr><td><span class='sw' style='background:{colour}'></span>"
            f"{html.escape(row.display_name)}</td><td class='n'>{row.checked}</td>"
            f"{_unchecked_cells(origins, row.unchecked, row.unchecked_from)}<td class='n'>{row.count}</td>"
            f"<td class='n'>{figure}</td></tr>")


def crowd_note(images: Sequence[ImageAnnotation]) -> str:
    """`` · 2 crowd region(s) left out …`` when COCO crowd regions were left out of the count, as
    ``bloodview count`` says: several cells outlined together are not one cell."""
    crowd = sum(is_crowd_region(c) for i in images for c in i.instances)
    return (f" · {crowd} crowd region(s) left out (several cells outlined together, COCO iscrowd: "
            "not one cell)" if crowd else "")


def print_css(final: bool) -> str:
    """CSS for a browser's printout of the HTML: table headers repeated on each page, rows kept
    whole and, on a draft, "DRAFT — not a final report" in the top margin of every page (a CSS
    page-margin box, printed by current Chrome and Edge; Qt's text engine ignores all of it,
    the PDF marks its pages itself)."""
    css = "@media print { thead { display: table-header-group; } tr { page-break-inside: avoid; } }"
    if not final:
        css += ("\n@page { @top-center { content: 'DRAFT — not a final report'; font-weight: bold;"
                " font-family: sans-serif; } }")
    return css


def signature_html(final: bool) -> str:
    """Where the lab lead signs a final printout (a draft, marked DRAFT on every page, has none)."""
    if not final:
        return ""
    return ("<table class='sign'><tr><td>Signed (laboratory lead):</td><td>______________________________</td>"
            "<td>Date:</td><td>______________</td></tr></table>")


def report_html(
    dataset: Dataset,
    images: Sequence[ImageAnnotation],
    threshold: float,
    title: str = "Differential count",
    model_name: str | None = None,
    generated: _dt.datetime | None = None,
) -> str:
    """A complete HTML document for ``images`` of ``dataset`` (a DRAFT unless all are signed off).

    ``model_name`` is the model selected in the app; ``generated`` the time the report is made
    (default now), printed in UTC like the sign-offs."""
    count, unidentified = differential_for(images, dataset, threshold)
    tally = review_tally(images, threshold)
    shown_title = title if tally.final else f"{DRAFT} — {title}"

    def colour(row: DifferentialRow) -> str:
        return "#%02x%02x%02x" % dataset.classes[row.class_name].color

    white = count.white_total
    origins = unchecked_columns(count)
    white_rows = [_row_html(r, colour(r), f"{r.percent_of_white:.1f}" if white else "–", origins)
                  for r in count.white_rows]
    other_rows = [_row_html(r, colour(r), other_cell_figure(r, white), origins) for r in count.other_rows]
    white_unchecked = _unchecked_cells(origins, white - count.white_checked,
                                       lambda name: count.unchecked_from(name, white_only=True), "th")
    blank_unchecked = "<td></td>" * max(len(origins), 1)
    if tally.final:
        status = (f"<p class='final'>Final: all {tally.images} image(s) signed off, every cell "
                  "checked by a person.</p>")
    else:
        status = (f"<p class='draft'><b>{DRAFT} — not a final report</b>: "
                  f"{html.escape(tally.draft_reason())}. Sign off every image to print a final "
                  "report.</p>")
    generated = generated or _dt.datetime.now(_dt.timezone.utc)
    identity = "".join(f"<tr><td>{label}</td><td>{html.escape(value)}</td></tr>"
                       for label, value in identity_rows(dataset, images, model_name, generated))
    page_id = html.escape(report_id(dataset, images, generated), quote=True)
    image_list = "".join(
        f"<li>{html.escape(str(i.image_path))} — {len(i.instances)} cells — {html.escape(sign_off_text(i))}</li>"
        for i in images
    )
    if white:
        denominator = (f"Percentages are of the {white} white cells counted ({count.white_checked} checked by "
                       f"a person,\n{white - count.white_checked} unchecked); erythroblasts, platelets and red "
                       "cells are not among them.")
    else:
        denominator = ("No white cells were counted: there is no white-cell differential, and no figure per "
                       "100 white cells.")
    head = ("<thead><tr><th>Class</th><th class='n'>Checked</th>" + _unchecked_head(origins) +
            "<th class='n'>Count</th><th class='n'>{}</th></tr></thead>")
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(shown_title)}</title>
<meta name="report-id" content="{page_id}">
<style>
body {{ font-family: sans-serif; margin: 0.5em; color: #222; }}
table {{ border-collapse: collapse; min-width: 34em; margin-bottom: 1em; }}
th, td {{ border-bottom: 1px solid #ccc; padding: 2px 6px; text-align: left; }}
td.n, th.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.sw {{ display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.5em;
       border: 1px solid #555; vertical-align: middle; }}
.meta {{ color: #555; }}
table.id td {{ border: none; padding: 0 12px 0 0; }}
table.sign {{ margin-top: 2em; }}
table.sign td {{ border: none; padding: 0 8px 0 0; }}
.draft {{ color: #a00; border: 2px solid #a00; padding: 6px 10px; }}
.final {{ color: #060; }}
{print_css(tally.final)}
</style></head><body>
<h1>{html.escape(shown_title)}</h1>
{status}
<p class="meta">{tally.images} image(s), {tally.signed_off} of {tally.images} signed off ·
{count.fields} field(s) counted ·
{html.escape(tally.cells_text())} ·
unidentified threshold {threshold:.2f}{crowd_note(images)}</p>
<table class="id">
{identity}
</table>
<h2>White-cell differential</h2>
<p>{denominator}</p>
{origins_note(origins)}
<table>
{head.format("% of white cells")}
{''.join(white_rows)}
<tr><th>White cells</th><th class="n">{count.white_checked}</th>
{white_unchecked}<th class="n">{white}</th>
<th class="n">{"100.0" if white else "–"}</th></tr>
</table>
<h2>Other cells (not in the white-cell %)</h2>
<table>
{head.format("Reported as")}
{''.join(other_rows)}
<tr><td>Unidentified (not counted)</td><td></td>{blank_unchecked}<td class="n">{unidentified}</td><td></td></tr>
</table>
{lab_figures_html(count, tally.images)}
<h2>Images</h2><ul>{image_list}</ul>
{signature_html(tally.final)}
</body></html>
"""


def write_report(path: Path, text_html: str) -> None:
    """Write the report as ``.html`` (atomically) or ``.pdf`` (by the suffix; the locale's paper,
    see :mod:`bloodview.gui.report_pdf`)."""
    path = Path(path)
    if path.suffix.lower() == ".pdf":
        from bloodview.gui.report_pdf import write_pdf

        write_pdf(path, text_html)
        return
    from bloodview.io.atomic import atomic_write_text

    atomic_write_text(path, text_html)
