"""The differential dock reads as a lab report: white cells per 100 white cells, platelets apart."""

from __future__ import annotations

import pytest

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance
from bloodview.gui.panels.differential import DifferentialPanel

pytestmark = pytest.mark.gui


def _cell(name: str, x: float) -> Instance:
    return Instance([rectangle(x, 0, x + 10, 10)], name)


def test_percent_of_all_and_per_100_white_cells_are_told_apart(qtbot):
    image = ImageAnnotation("smear.png", 200, 50)
    image.instances += [_cell("neutrophil", 0), _cell("neutrophil", 20), _cell("lymphocyte", 40),
                        _cell("erythroblast", 60), _cell("platelet", 80), _cell("platelet", 100)]
    panel = DifferentialPanel()
    qtbot.addWidget(panel)
    panel.show_count(Dataset([image]), [image], threshold=0.75)

    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(4)]
    assert headers == ["Class", "Count", "% all", "/100 WBC"]
    assert "platelets" in panel.table.horizontalHeaderItem(2).toolTip()
    # 2 of 3 white cells are neutrophils; 2 of 6 counted cells in all
    assert panel.value("neutrophil", 3) == "66.7" and panel.value("neutrophil", 2) == "33.3"
    assert panel.value("erythroblast", 3) == "33.3"  # NRBC per 100 white cells
    assert panel.value("platelet", 3) == "–"
    assert "6 counted · 3 white cells" in panel.totals.text()
