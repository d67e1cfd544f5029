"""The report a lab lead exports from the window (Differential panel → Report…), as a PDF.

Real BCCD fields, detections by the fake predictor (tests/gui/conftest.py): the printout must
give the panel's figures, name the project folder, the model that made the calls and the time in
UTC, and say DRAFT, with every page clear of the printer's unprintable edge.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_the_exported_pdf_names_the_project_and_model_and_gives_the_panels_figures(window, qtbot, tmp_path):
    from PyQt6.QtPdf import QPdfDocument

    window.differential.scope.setCurrentIndex(1)  # whole project
    with qtbot.waitSignal(window.detectionFinished, timeout=10000):
        assert window.models.detect("all")
    qtbot.wait(5)
    panel = {}
    table = window.differential.table
    for row in range(table.rowCount()):
        panel[table.item(row, 0).text()] = table.item(row, 3).text()
    assert int(panel["Neutrophil"]) > 0

    path = window.files.export_report(tmp_path / "count.pdf")
    assert path is not None, window.prompts.messages
    document = QPdfDocument(None)
    assert document.load(str(path)) == QPdfDocument.Error.None_
    text = " ".join(document.getAllText(p).text() for p in range(document.pageCount()))
    flat = "".join(text.split())
    assert "Projectfolder" in flat and "smears" in flat
    assert "callsmadebyfake-model@test" in flat  # the model that made the calls, from the cells
    assert "UTCbybloodview" in flat
    for name in ("Neutrophil", "Platelet"):
        assert f"{name}0{panel[name]}{panel[name]}" in flat, name  # checked 0, unchecked (model), count
    assert flat.count("DRAFT—Differentialcount—page") == document.pageCount()
