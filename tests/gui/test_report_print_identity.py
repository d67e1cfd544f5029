"""What identifies a filed differential report (bloodview.gui.report_identity).

Before, the report said only a local time without a zone ("2026-12-07 18:45", beside sign-offs
in UTC) and the model selected in the app: not the project folder, not whether it was the
whole project or one image, not the software version, not the scale, and not the model that
actually made the counted calls (the selector may show another one).
"""

from __future__ import annotations

import datetime as dt

from bloodview import __version__
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.report import report_html

WHEN = dt.datetime(2026, 12, 7, 19, 45, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # 18:45 UTC


def _images():
    called = Instance([rectangle(0, 0, 8, 8)], "neutrophil", score=0.9, source=Source.MODEL,
                      origin="resnet50-pbc@2026-11-25")
    a = ImageAnnotation("Ærø_042.jpg", 640, 480, [called])
    a.pixel_size_um = 0.1
    b = ImageAnnotation("東京.png", 640, 480, [Instance([rectangle(0, 0, 8, 8)], "platelet")])
    return a, b


def _identity(text: str) -> dict[str, str]:
    table = text.split("<table class=\"id\">")[1].split("</table>")[0]
    rows = [row.split("</td><td>") for row in table.strip().split("</td></tr>") if row.strip()]
    return {label.replace("<tr><td>", "").strip(): value for label, value in rows}


def test_the_report_names_folder_scope_time_in_utc_version_model_and_scale(tmp_path):
    a, b = _images()
    dataset = Dataset([a, b], root=tmp_path / "smears")
    text = report_html(dataset, dataset.images, 0.75, model_name="densenet121-new", generated=WHEN)
    identity = _identity(text)
    assert identity["Project folder"] == str(tmp_path / "smears")
    assert identity["Images reported"] == "whole project, 2 image(s)"
    assert identity["Report made"] == f"2026-12-07 18:45 UTC by bloodview {__version__}"
    assert identity["Model"] == "calls made by resnet50-pbc@2026-11-25; selected in the app: densenet121-new"
    assert identity["Scale"] == "0.1 µm/pixel; not set for 1 image(s)"
    assert '<meta name="report-id" content="smears · whole project, 2 image(s) · 2026-12-07 18:45 UTC">' in text


def test_a_one_image_report_says_which_image_of_how_many(tmp_path):
    a, b = _images()
    dataset = Dataset([a, b], root=tmp_path)
    identity = _identity(report_html(dataset, [b], 0.75, generated=WHEN))
    assert identity["Images reported"] == "1 of 2 image(s): 東京.png"
    assert identity["Model"] == "no model calls counted"
    assert identity["Scale"] == "not set (no cell sizes in µm)"


def test_crowd_regions_left_out_are_said_as_bloodview_count_says_them(tmp_path):
    """Before, the report was silent where ``bloodview count`` said "1 crowd region(s) left out"."""
    from bloodview.cli.cmd_count import summary_text
    from bloodview.core.review_rules import CROWD_KEY

    a, b = _images()
    clump = Instance([rectangle(20, 20, 60, 60)], "neutrophil", source=Source.IMPORT, extra={CROWD_KEY: True})
    a.add(clump)
    dataset = Dataset([a, b], root=tmp_path)
    note = "1 crowd region(s) left out (several cells outlined together, COCO iscrowd: not one cell)"
    assert note in summary_text(dataset, 0.75)
    assert note in report_html(dataset, dataset.images, 0.75, generated=WHEN)


def test_a_final_report_has_a_line_to_sign_and_a_draft_has_none(tmp_path):
    a, b = _images()
    dataset = Dataset([a, b], root=tmp_path)
    assert "Signed (laboratory lead)" not in report_html(dataset, dataset.images, 0.75)
    for image in dataset.images:
        for cell in image.instances:
            cell.reviewed = True
        image.signed_off = True
    final = report_html(dataset, dataset.images, 0.75, model_name="resnet50-pbc@2026-11-25", generated=WHEN)
    assert "Signed (laboratory lead):" in final
    assert _identity(final)["Model"] == "calls made by resnet50-pbc@2026-11-25"  # selected = the one used


def test_a_sign_off_recorded_with_another_offset_is_printed_in_utc():
    """Before, "2026-11-30T10:00:00+01:00" was printed as "2026-11-30 10:00 UTC", an hour off."""
    from bloodview.core.annotation import SignOffEvent
    from bloodview.gui.report import sign_off_text

    a, _ = _images()
    a.apply_sign_off(SignOffEvent(True, "ana", "2026-11-30T10:00:00+01:00"))
    assert sign_off_text(a) == "signed off by ana, 2026-11-30 09:00 UTC"
    a.apply_sign_off(SignOffEvent(True, "ana", "2026-11-30T09:00:00+00:00"))
    assert sign_off_text(a) == "signed off by ana, 2026-11-30 09:00 UTC"
