"""Red cells in the window (issue #13): the differential panel's lab figures and platelet estimate,
the report's fields, and the quick red-cell toggle on a real canvas (View → Show red cells, R)."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance
from bloodview.gui.panels.differential import DifferentialPanel
from bloodview.gui.red_cell_view import CROWDED_RED_CELLS, SETTING_KEY
from bloodview.gui.report import report_html
from bloodview.io.coco import save_coco

pytestmark = pytest.mark.gui


def _cells(name: str, n: int, row: int = 0) -> list[Instance]:
    return [Instance([rectangle(12 * (k % 40), 12 * (k // 40 + row), 12 * (k % 40) + 10,
                                12 * (k // 40 + row) + 10)], name) for k in range(n)]


def _catalogue() -> ClassCatalogue:
    classes = ClassCatalogue.pbc()
    classes.add("rbc", display_name="RBC")
    return classes


def _three_fields() -> Dataset:
    """3 fields: 2 platelets, 150 red cells, 3 white cells (2 neutrophils, 1 lymphocyte)."""
    images = [
        ImageAnnotation("f1.png", 500, 100, _cells("rbc", 50) + _cells("platelet", 2, 6) + _cells("neutrophil", 1, 7)),
        ImageAnnotation("f2.png", 500, 100, _cells("rbc", 60) + _cells("neutrophil", 1, 7)),
        ImageAnnotation("f3.png", 500, 100, _cells("rbc", 40) + _cells("lymphocyte", 1, 7)),
    ]
    return Dataset(images, _catalogue())


def test_panel_gives_the_fields_cells_counted_and_the_platelet_estimate(qtbot):
    dataset = _three_fields()
    panel = DifferentialPanel()
    qtbot.addWidget(panel)
    panel.show_count(dataset, dataset.images, threshold=0.75)

    assert panel.estimate.text() == ("3 fields: 3 white cells, 150 red cells, 2 platelets\n"
                                     "Platelet estimate: 0.67 platelets per field, 13.3 per 1,000 red cells")
    assert panel.value("rbc") == "150" and panel.value("rbc", 4) == "–"  # a count, never in the %
    assert panel.value("neutrophil", 4) == "66.7" and panel.value("lymphocyte", 4) == "33.3"
    assert "% of 3 white cells" in panel.totals.text() and "150 rbc" in panel.totals.text()

    panel.show_count(dataset, dataset.images[1:2], threshold=0.75)  # "This image": one field
    assert panel.estimate.text().startswith("1 field: 1 white cells, 60 red cells, 0 platelets")
    assert "0.00 platelets per field, 0.0 per 1,000 red cells" in panel.estimate.text()


def test_an_old_project_without_red_cells_shows_what_it_showed_before(qtbot):
    image = ImageAnnotation("smear.png", 500, 100, _cells("neutrophil", 2) + _cells("lymphocyte", 1, 1)
                            + _cells("erythroblast", 1, 2) + _cells("platelet", 2, 3))
    dataset = Dataset([image])
    panel = DifferentialPanel()
    qtbot.addWidget(panel)
    panel.show_count(dataset, [image], threshold=0.75)

    names = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
    assert len(names) == 8 and not any("red" in n.lower() or "rbc" in n.lower() for n in names)
    assert panel.totals.text().splitlines()[:2] == [
        "% of 3 white cells: 3 checked, 0 unchecked",
        "Not in the %: 1 erythroblast, 2 platelet · 0 unidentified (not counted)"]
    assert "per 1,000" not in panel.estimate.text()
    assert panel.estimate.text().endswith("2.00 platelets per field, no red cells counted")

    text = report_html(dataset, [image], 0.75)
    assert "Platelets per 1,000 red cells</td><td class='n'>no red cells counted" in text
    assert "DRAFT" in text


def test_report_says_how_many_fields_it_rests_on_and_gives_the_estimate():
    dataset = _three_fields()
    empty = ImageAnnotation("not-yet-detected.png", 500, 100)
    dataset.images.append(empty)
    text = report_html(dataset, dataset.images, 0.75)

    assert "These figures rest on 3 field(s): the images with counted cells. 1 image(s) without " \
           "counted cells are left out." in text
    assert "3 field(s) counted" in text
    for label, value in (("Fields (images) counted", "3"), ("White cells counted", "3"),
                         ("Red cells counted", "150"), ("Platelets counted", "2"),
                         ("Platelets per field (mean)", "0.67"), ("Platelets per 1,000 red cells", "13.3")):
        assert f"<tr><td>{label}</td><td class='n'>{value}</td></tr>" in text, label
    assert "<title>DRAFT — Differential count</title>" in text  # nothing signed off: still a draft


def _coco_project(folder: Path, red_counts: list[int]) -> Path:
    """Real PNG fields and a COCO file: each field has ``n`` red cells, a neutrophil and a platelet."""
    folder.mkdir(parents=True, exist_ok=True)
    images = []
    for index, n in enumerate(red_counts):
        name = f"field{index}.png"
        Image.fromarray(np.full((120, 500, 3), 200, np.uint8)).save(folder / name)
        images.append(ImageAnnotation(name, 500, 120, _cells("rbc", n) + _cells("neutrophil", 1, 8)
                                      + _cells("platelet", 1, 9)))
    return save_coco(Dataset(images, _catalogue(), folder), folder / "cells.json", images_root=folder)


def _shown(window, class_name: str) -> list[bool]:
    image = window.session.current_image
    return [window.canvas.instance_item(i.id).isVisible() for i in image.instances if i.class_name == class_name]


def test_toggle_hides_red_cells_on_the_canvas_and_the_choice_is_remembered(make_window, tmp_path):
    crowded, sparse = CROWDED_RED_CELLS + 10, 5
    coco = _coco_project(tmp_path / "fields", [crowded, sparse])
    window = make_window()
    assert window.files.open([coco])
    action = window.acts["toggle_red_cells"]
    assert action.isCheckable() and action.shortcut().toString() == "R"
    assert action in window.menuBar().actions()[3].menu().actions()  # View menu

    # nothing chosen yet: the crowded field opens with its red cells hidden, and says so
    assert window.session.current_image.image_path.name == "field0.png"
    assert not action.isChecked() and _shown(window, "rbc") == [False] * crowded
    assert _shown(window, "neutrophil") == [True] and _shown(window, "platelet") == [True]
    assert f"{crowded} red cells hidden" in window.canvas.toast.text() and window.canvas.toast.isVisible()
    assert "rbc" in window.legend.hidden_classes()
    window.review.step_image(1)  # a sparse field shows them
    assert action.isChecked() and _shown(window, "rbc") == [True] * sparse

    action.trigger()  # the user hides them: every field, remembered
    assert _shown(window, "rbc") == [False] * sparse and _shown(window, "platelet") == [True]
    assert window.settings.value(SETTING_KEY) == "hidden"
    window.review.step_image(-1)
    assert _shown(window, "rbc") == [False] * crowded
    action.trigger()
    assert _shown(window, "rbc") == [True] * crowded and window.legend.hidden_classes() == []
    assert window.settings.value(SETTING_KEY) == "shown"
    window.close()

    again = make_window()  # the next session keeps the choice, crowded or not
    assert again.files.open([coco])
    assert again.acts["toggle_red_cells"].isChecked() and _shown(again, "rbc") == [True] * crowded


def test_unticking_red_cells_in_the_legend_is_the_same_choice(make_window, tmp_path):
    window = make_window()
    assert window.files.open([_coco_project(tmp_path / "fields", [3])])
    assert window.acts["toggle_red_cells"].isChecked()
    window.legend.set_class_visible("rbc", False)
    assert not window.acts["toggle_red_cells"].isChecked() and _shown(window, "rbc") == [False] * 3
    assert window.settings.value(SETTING_KEY) == "hidden"


def test_toggle_in_a_project_without_red_cells_says_so_and_hides_nothing(window):
    action = window.acts["toggle_red_cells"]  # three BCCD pictures, no annotations: PBC classes only
    action.trigger()
    assert action.isChecked() and window.legend.hidden_classes() == []
    assert "no red-cell class" in window.status_label.text()
    assert window.settings.value(SETTING_KEY) is None


def test_a_real_bccd_field_gives_red_cells_and_platelets_in_the_panel(make_window, bccd_dir, tmp_path):
    """Two BCCD fields with their VOC boxes, opened as a folder through the app's VOC reader."""
    folder = tmp_path / "bccd"
    folder.mkdir()
    names = ("BloodImage_00005", "BloodImage_00012")
    expected = {"RBC": 0, "Platelets": 0, "WBC": 0}
    for name in names:
        xml = bccd_dir / "Annotations" / f"{name}.xml"
        if not xml.is_file():
            pytest.skip(f"{xml} is not in this copy of BCCD")
        shutil.copy(bccd_dir / "JPEGImages" / f"{name}.jpg", folder)
        shutil.copy(xml, folder)
        for obj in ET.parse(xml).getroot().iter("object"):
            expected[obj.findtext("name").strip()] += 1
    window = make_window()
    assert window.files.open([folder])
    classes = window.session.dataset.classes
    assert classes.red_cell_names == ["rbc"] and not classes["rbc"].white_cell
    window.differential.scope.setCurrentIndex(1)  # whole project
    window.refresh_panels()
    panel = window.differential
    # Imported boxes carry no score: no machine call, so they count at once (unchecked until confirmed).
    assert "0 unidentified" in panel.totals.text()
    assert panel.value("rbc") == str(expected["RBC"]) and panel.value("platelet") == str(expected["Platelets"])
    per_field = expected["Platelets"] / len(names)
    per_1000 = 1000 * expected["Platelets"] / expected["RBC"]
    assert panel.estimate.text() == (
        f"2 fields: {expected['WBC']} white cells, {expected['RBC']} red cells, {expected['Platelets']} "
        f"platelets\nPlatelet estimate: {per_field:.2f} platelets per field, {per_1000:.1f} per 1,000 red cells")
    assert _shown(window, "rbc") and all(_shown(window, "rbc"))  # BCCD boxes: under 60 red cells a field


def test_unscored_imports_are_unreviewed_not_unidentified_in_the_sign_off_check():
    from bloodview.core.annotation import ImageAnnotation
    from bloodview.core.geometry import rectangle
    from bloodview.core.instance import Instance, Source
    from bloodview.gui.review import sign_off_check

    image = ImageAnnotation(Path("f.png"), 100, 100, instances=[
        Instance([rectangle(0, 0, 20, 20)], "rbc", source=Source.IMPORT),
        Instance([rectangle(40, 40, 60, 60)], "neutrophil", source=Source.MODEL, score=0.3),
    ])
    check = sign_off_check(image, 0.75)
    assert (check.unidentified, check.unchecked) == (1, 2)
    assert check.reason == "1 unidentified and 1 unreviewed cell(s) remain"


class _RedCellPredictor:
    """The fake predictor's cells plus the real classical red-cell finder, as the app's detection runs it."""

    def __init__(self, model_dir: Path):
        from tests.gui.conftest import FakePredictor

        self.fake = FakePredictor(model_dir)

    def predict(self, images, min_confidence=None, **kw):
        from bloodview.core.red_cells import red_cell_instances

        found = self.fake.predict(images, min_confidence, **kw)
        return [cells + red_cell_instances(image, 0.08, cells) for image, cells in zip(images, found)]


def test_detection_brings_red_cells_into_a_project_without_a_red_cell_class(make_window, smears, detect_current):
    """A folder of bare BCCD fields has the PBC classes only; the first detection that finds red cells adds the
    red-cell class (legend, toggle, differential) instead of failing on an unknown class."""
    window = make_window(predictor=_RedCellPredictor)
    assert window.files.open([smears])
    assert window.session.dataset.classes.red_cell_names == []
    detect_current(window)
    classes = window.session.dataset.classes
    assert classes.red_cell_names == ["rbc"] and classes["rbc"].display_name == "Red cell"  # not "rbc" beside "Lymphocyte"
    image = window.session.current_image
    red = [c for c in image.instances if c.class_name == "rbc"]
    assert len(red) >= 10 and {c.source.value for c in red} == {"bootstrap"}
    assert "Red cell" in [window.legend.table.item(r, 0).text() for r in range(window.legend.table.rowCount())]
    window.refresh_panels()
    counted = int(window.differential.value("Red cell"))
    assert 0 < counted <= len(red)  # red cells below the review threshold wait, uncounted
    assert f"{counted} red cells" in window.differential.estimate.text()
    assert "per 1,000 red cells" in window.differential.estimate.text()
    detect_current(window)  # detecting again replaces the red cells, never doubles them
    assert len([c for c in window.session.current_image.instances if c.class_name == "rbc"]) == len(red)


def test_after_detect_the_review_queue_puts_the_white_cells_before_the_doubtful_red_cells(
        make_window, smears, detect_current):
    """A camera field's red-cell finder outlines are doubtful (certainty 0.13-0.54); least certain first
    alone, they filled the top of the Review panel's queue and buried the white cells a technician must
    check for the differential. White cells come first, then platelets, then red cells."""
    window = make_window(predictor=_RedCellPredictor)
    assert window.files.open([smears])
    detect_current(window)
    window.refresh_panels()
    entries = window.queue.entries()
    red = [e for e in entries if e.class_name == "rbc"]
    assert len(red) >= 10 and min(e.certainty for e in red) < 0.6  # doubtful red cells below the white ones
    assert [e.class_name for e in entries[:3]] == ["lymphocyte", "neutrophil", "platelet"]  # 0.60, 0.95, 0.85
    assert {e.class_name for e in entries[3:]} == {"rbc"}
    assert [e.certainty for e in red] == sorted(e.certainty for e in red)  # least certain first within a group
    first = len(window.queue.overlaps())  # overlap rows stay on top of the table
    assert window.queue.table.item(first, 0).text() == "Lymphocyte"
    assert window.queue.table.item(first + 3, 0).text() == "Red cell"


def test_the_retrain_dialog_says_what_checked_red_cells_teach(make_window, smears, review_current):
    window = make_window(predictor=_RedCellPredictor)
    assert window.files.open([smears])
    image = review_current(window)  # every cell confirmed, red cells included
    red = sum(c.class_name == "rbc" for c in image.instances)
    assert red >= 10
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert dialog.start_from.currentData() == "adapt"
    assert (f"{red} of them are red cells: fake-model has no red-cell class, so they train as background"
            in dialog.summary.text())
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("new"))
    assert f"{red} of them are red cells, which the new model learns as a class." in dialog.summary.text()
