"""Where a sign-off is shown (the report's list, the Review panel), the name given and the login
under which it was given both appear: "A. Smith (login labuser)"."""

from __future__ import annotations

from pathlib import Path

import pytest

from bloodview.core.annotation import ImageAnnotation, SignOffEvent
from bloodview.gui.report import sign_off_text

pytestmark = pytest.mark.gui


def test_the_report_names_the_signer_and_the_login():
    image = ImageAnnotation(Path("a.png"), 10, 10)
    image.sign_off_history.append(SignOffEvent(True, "A. Smith", "2026-12-07T09:00:00+00:00", "labuser"))
    image.signed_off = True
    assert sign_off_text(image) == "signed off by A. Smith (login labuser), 2026-12-07 09:00 UTC"
    image.sign_off_history.append(SignOffEvent(False, "B. Jones", "2026-12-07T10:00:00+00:00", "labuser"))
    image.signed_off = False
    assert sign_off_text(image) == "not signed off (sign-off withdrawn by B. Jones (login labuser), 2026-12-07 10:00 UTC)"
    old = ImageAnnotation(Path("b.png"), 10, 10)  # a record from before the login was kept
    old.sign_off_history.append(SignOffEvent(True, "ana", "2026-11-30T09:00:00+00:00"))
    old.signed_off = True
    assert sign_off_text(old) == "signed off by ana, 2026-11-30 09:00 UTC"
