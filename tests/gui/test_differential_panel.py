"""The differential dock reads as a lab report: white-cell % over white cells only, NRBC per 100
white cells, platelets as a count; person-checked cells told apart from unchecked ones, these named by
origin (model, segmenter, imported) as the report and ``bloodview count`` name them."""

from __future__ import annotations

import pytest

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.panels.differential import DifferentialPanel

pytestmark = pytest.mark.gui


def _cell(name: str, x: float, **kw) -> Instance:
    return Instance([rectangle(x, 0, x + 10, 10)], name, **kw)


def _model(name: str, x: float, score: float = 0.9) -> Instance:
    return _cell(name, x, source=Source.MODEL, score=score)


def _unchecked_tip(panel: DifferentialPanel, name: str) -> str:
    rows = [panel.table.item(r, 0).text().lower() for r in range(panel.table.rowCount())]
    return panel.table.item(rows.index(name), 2).toolTip()


def test_white_cell_percent_leaves_platelets_and_nrbc_out_of_the_denominator(qtbot):
    image = ImageAnnotation("smear.png", 200, 50)
    image.instances += [_cell("neutrophil", 0), _cell("neutrophil", 20), _cell("lymphocyte", 40),
                        _cell("erythroblast", 60), _cell("platelet", 80), _cell("platelet", 100)]
    panel = DifferentialPanel()
    qtbot.addWidget(panel)
    panel.show_count(Dataset([image]), [image], threshold=0.75)

    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(5)]
    assert headers == ["Class", "✓", "Unch.", "n", "% WBC"]  # not "Model": imported cells count there too
    assert "Checked" in panel.table.horizontalHeaderItem(1).toolTip()
    tip = panel.table.horizontalHeaderItem(2).toolTip()
    assert "Unchecked" in tip and "segmenter: outlined by the classical segmenter" in tip
    assert "white cells only" in panel.table.horizontalHeaderItem(4).toolTip()
    # 2 of 3 white cells are neutrophils (platelets and the NRBC are not in the denominator)
    assert panel.value("neutrophil", 4) == "66.7" and panel.value("lymphocyte", 4) == "33.3"
    assert panel.value("erythroblast", 4) == "33.3/100"  # NRBC per 100 white cells
    assert panel.value("platelet", 4) == "–" and panel.value("platelet") == "2"
    white = [panel.table.item(r, 4).text() for r in range(panel.table.rowCount())
             if "/" not in panel.table.item(r, 4).text() and panel.table.item(r, 4).text() != "–"]
    assert sum(float(v) for v in white) == pytest.approx(100.0)
    assert "% of 3 white cells" in panel.totals.text()
    assert "1 erythroblast, 2 platelet" in panel.totals.text()


def test_checked_and_unchecked_cells_and_signed_off_images_are_counted_apart(qtbot):
    a = ImageAnnotation("a.png", 200, 50, [_model("neutrophil", 0), _model("neutrophil", 20),
                                           _model("lymphocyte", 40, score=0.3)])  # last: unidentified
    a.instances.append(_model("monocyte", 60).copy(reviewed=True))
    b = ImageAnnotation("b.png", 200, 50, [_cell("neutrophil", 0)], signed_off=True)
    panel = DifferentialPanel()
    qtbot.addWidget(panel)
    panel.show_count(Dataset([a, b]), [a, b], threshold=0.75)

    assert (panel.value("neutrophil", 1), panel.value("neutrophil", 2)) == ("1", "2")
    assert (panel.value("monocyte", 1), panel.value("monocyte", 2)) == ("1", "0")
    assert panel.value("lymphocyte") == "0"  # the unidentified cell is not counted
    text = panel.totals.text()
    assert "% of 4 white cells: 2 checked, 2 unchecked (2 model)" in text
    assert _unchecked_tip(panel, "neutrophil") == "Unchecked: 2 model"
    assert "1 unidentified" in text
    assert "1 of 2 images signed off — a draft count" in text

    panel.show_count(Dataset([a, b]), [b], threshold=0.75)
    assert "Image signed off" in panel.totals.text() and "draft" not in panel.totals.text()


def test_unchecked_cells_are_named_by_origin_not_all_called_the_models(qtbot):
    """Before, segmented and imported cells were counted under "Model" and "unchecked (model)": an auditor
    read another tool's outlines or the classical segmenter's as the trained model's calls."""
    image = ImageAnnotation("a.png", 300, 50, [
        _model("neutrophil", 0), _model("neutrophil", 20),
        _cell("neutrophil", 40, source=Source.BOOTSTRAP, quality=0.9),
        _cell("lymphocyte", 60, source=Source.IMPORT),  # no score: counts, unchecked
        _cell("platelet", 80, source=Source.BOOTSTRAP, quality=0.9), _cell("monocyte", 100)])
    panel = DifferentialPanel()
    qtbot.addWidget(panel)
    panel.show_count(Dataset([image]), [image], threshold=0.75)

    assert panel.value("neutrophil", 2) == "3"
    assert _unchecked_tip(panel, "neutrophil") == "Unchecked: 2 model, 1 segmenter"
    assert _unchecked_tip(panel, "monocyte") == ""  # all checked: nothing to split
    assert "5 white cells: 1 checked, 4 unchecked (2 model, 1 segmenter, 1 imported)" in panel.totals.text()

    imported = ImageAnnotation("b.png", 300, 50, [_cell("lymphocyte", 0, source=Source.IMPORT)])
    panel.show_count(Dataset([imported]), [imported], threshold=0.75)
    assert "1 white cells: 0 checked, 1 unchecked (1 imported)" in panel.totals.text()


def test_class_names_stay_readable_in_a_dock_as_narrow_as_the_window_gives_it(qtbot):
    image = ImageAnnotation("smear.png", 200, 50, [_model("neutrophil", 0)])
    panel = DifferentialPanel()
    qtbot.addWidget(panel)
    panel.resize(290, 400)  # the left dock's width in the main window
    panel.show()
    panel.show_count(Dataset([image]), [image], threshold=0.75)
    qtbot.wait(10)
    metrics = panel.table.fontMetrics()
    assert panel.table.columnWidth(0) >= metrics.horizontalAdvance("Lymphocyte") + 20


def test_without_white_cells_the_panel_shows_no_percent_and_no_nrbc_figure(qtbot):
    image = ImageAnnotation("nrbc.png", 200, 50)
    image.instances += [_cell("erythroblast", 0), _cell("erythroblast", 20), _cell("platelet", 40)]
    panel = DifferentialPanel()
    qtbot.addWidget(panel)
    panel.show_count(Dataset([image]), [image], threshold=0.75)
    # before: "0.0/100" beside two erythroblasts and "0.0" for every white class
    assert panel.value("erythroblast") == "2" and panel.value("erythroblast", 4) == "–"
    assert panel.value("neutrophil", 4) == "–" and panel.value("platelet", 4) == "–"
    assert "No white cells counted" in panel.table.item(
        [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())].index("Erythroblast"), 4).toolTip()


@pytest.mark.parametrize("size", [(1280, 720), (1400, 900)])
def test_a_laptop_screen_shows_every_row_of_the_count_and_its_totals_below_it(make_window, smears, qtbot, size):
    """Seen at 1280 x 720: the table was squeezed to two rows under nine lines of totals text (and
    a minimum height alone made the text overlap the table)."""
    window = make_window()
    window.resize(*size)
    assert window.files.open([smears])
    window.refresh_panels()
    qtbot.wait(50)
    panel = window.differential
    table = panel.table
    assert table.rowCount() >= 8  # the white classes, erythroblasts and platelets
    view = table.viewport().rect()
    for row in range(table.rowCount()):
        assert view.contains(table.visualItemRect(table.item(row, 0))), table.item(row, 0).text()
    assert panel.text.geometry().top() >= table.geometry().bottom()  # under it, not over it
    assert panel.text.viewport().height() >= 3 * panel.fontMetrics().lineSpacing()  # lines to read
    assert panel.text.geometry().bottom() <= panel.height()
