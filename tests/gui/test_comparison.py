"""The before/after table and verdict, filled from real `bloodview evaluate` report folders.

The reports come from the real evaluate command (tests/gui/evaluation_reports.py):
a "current model" whose every cell has the wrong class and a "new model" with
the true classes, on the same ground truth.
"""

from __future__ import annotations

import json

import pytest

from bloodview.errors import FormatError
from bloodview.gui.comparison import clear_margin, compare, too_few_cells_text
from bloodview.gui.dialogs.model_comparison import ModelComparisonView
from tests.gui.evaluation_reports import report_folder, write_gt

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """(wrong-class report, right-class report) on 4 images with 12 cells."""
    folder = tmp_path_factory.mktemp("reports")
    gt = write_gt(folder / "gt.json", images=4, cells_per_image=3)
    return report_folder(gt, folder / "current", wrong=True), report_folder(gt, folder / "new", wrong=False)


def test_the_table_shows_both_models_figures_from_the_reports(qtbot, reports):
    current, new = reports
    view = ModelComparisonView()
    qtbot.addWidget(view)
    comparison = view.show_reports(current, new)
    assert not view.isHidden() and not view.table.isHidden() and view.table.rowCount() == 5
    figures = json.loads((current / "report.json").read_text()), json.loads((new / "report.json").read_text())
    assert view.cell_text("held-out images", "current model") == "4"
    assert view.cell_text("held-out cells", "new model") == "12"
    assert view.cell_text("held-out cells", "difference") == "0"
    for label, section, key in (("classification accuracy", "classification", "accuracy"),
                                ("mask mAP@0.5", "mask", "mAP50"), ("mask mAP@0.5:0.95", "mask", "mAP50_95")):
        before, after = figures[0][section][key], figures[1][section][key]
        assert view.cell_text(label, "current model") == f"{before:.3f}"
        assert view.cell_text(label, "new model") == f"{after:.3f}"
        assert view.cell_text(label, "difference") == f"{after - before:+.3f}"
    assert figures[1]["classification"]["accuracy"] == pytest.approx(1.0)
    assert figures[0]["classification"]["accuracy"] == pytest.approx(0.0)
    assert comparison.kind == "better"
    assert view.verdict.text().startswith("The new model is better on 12 held-out cells")
    assert "classification accuracy 0.00 → 1.00 (+1.00)" in view.verdict.text()


def test_the_other_way_round_is_called_worse(reports):
    current, new = reports
    result = compare(new, current)
    assert result.kind == "worse" and "worse on 12 held-out cells" in result.verdict


def test_equal_models_show_no_clear_difference(reports):
    _current, new = reports
    result = compare(new, new)
    assert result.kind == "same"
    assert result.verdict.startswith("No clear difference on 12 held-out cells")
    assert f"±{clear_margin(12):.2f}" in result.verdict


def test_a_small_difference_on_few_cells_is_not_claimed(tmp_path):
    # 6 cells: one more right answer (+0.17) is under the margin 1/sqrt(6) = 0.41
    gt = write_gt(tmp_path / "gt.json", images=1, cells_per_image=6)
    good = report_folder(gt, tmp_path / "good", wrong=False)
    report = json.loads((good / "report.json").read_text())
    report["classification"]["accuracy"] = 5 / 6  # as if one cell of six were wrong
    (tmp_path / "almost").mkdir()
    (tmp_path / "almost" / "report.json").write_text(json.dumps(report))
    result = compare(tmp_path / "almost", good)
    assert result.kind == "same" and "(+0.17)" in result.verdict


def test_without_a_current_model_only_the_new_one_is_shown(qtbot, reports):
    _current, new = reports
    view = ModelComparisonView()
    qtbot.addWidget(view)
    result = view.show_reports(None, new)
    assert result.kind == "new only" and "no current model to compare with" in result.verdict
    assert view.cell_text("classification accuracy", "current model") == "—"
    assert view.cell_text("classification accuracy", "difference") == "—"


def test_a_folder_without_a_report_is_a_format_error_naming_it(tmp_path, reports):
    _current, new = reports
    with pytest.raises(FormatError, match="no evaluation report"):
        compare(tmp_path, new)


def test_the_refusal_sentence_names_the_cells():
    assert too_few_cells_text(3) == ("Too few held-out cells (3) to compare the models; "
                                     "judge the new model on your own images.")


def test_the_figures_are_explained_under_the_table(qtbot, reports):
    """Before, the table gave "classification accuracy" and "mask mAP@0.5" with no word on what they
    are or how large a difference must be to count."""
    current, new = reports
    view = ModelComparisonView()
    qtbot.addWidget(view)
    view.show_reports(current, new)
    legend = view.legend.text()
    assert not view.legend.isHidden()
    assert "found and named right" in legend and "not a share of cells" in legend
    assert f"On 12 cells a difference under ±{clear_margin(12):.2f} is noise" in legend
    row = next(r for r in range(view.table.rowCount()) if view.table.item(r, 0).text() == "mask mAP@0.5")
    assert "averaged over the classes" in view.table.item(row, 0).toolTip()
    view.show_message("Comparing…")
    assert view.legend.isHidden()
