"""The report's suggested file name carries the date (and the image), so a second report does not
offer to overwrite the first one a lab filed."""

from __future__ import annotations

import datetime

import pytest

pytestmark = pytest.mark.gui


def test_the_suggested_report_name_carries_the_date_and_the_image(window, monkeypatch):
    from bloodview.gui.file_actions import report_file_name

    day = datetime.date(2026, 12, 7)
    assert report_file_name(True, None, day) == "differential-2026-12-07.html"
    image = window.session.current_image
    assert report_file_name(False, image, day) == f"differential-2026-12-07-{image.image_path.stem}.html"

    offered = []
    monkeypatch.setattr(window.prompts, "save_path", lambda *args: offered.append(args[3]) or None)
    window.files.export_report()
    assert offered and offered[0].name.startswith(f"differential-{datetime.date.today().isoformat()}")
