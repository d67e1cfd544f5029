"""The review queue says "–" for an imported cell whose file gave it no score, not "0.00"."""

from __future__ import annotations

import pytest

from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.commands import SetInstancesCommand

pytestmark = pytest.mark.gui


def test_an_unscored_import_shows_no_certainty_and_a_low_model_call_shows_its_score(window):
    image = window.session.current_image
    window.canvas.undo_stack.push(SetInstancesCommand(image, [
        Instance([rectangle(10, 10, 60, 60)], "neutrophil", source=Source.IMPORT),  # a VOC box: no score
        Instance([rectangle(100, 10, 150, 60)], "lymphocyte", score=0.42, source=Source.MODEL),
    ]))
    window.refresh_panels()
    table = window.queue.table
    shown = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert shown.get("Neutrophil") == "–", shown
    assert shown["Lymphocyte"] == "0.42"
