"""Cells brought into the open project from outside: Import annotations, a crash recovery, Detect.

Regressions:

* import and recovery put cells of a class the project lacks in unchanged. They had no legend
  row, were left out of the differential altogether (not even "not in the %"), and once saved,
  the project could not be opened again ("unknown cell class 'smudge cell'"): a day's review
  locked out of the app. Detection already added the classes it found (the first red cells);
  import and recovery now do the same;
* a field that a detection crowded with red cells showed them all until the image was left and
  shown again (the crowding rule ran only when an image was shown).
"""

from __future__ import annotations

import json

import pytest

from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source

from tests.gui.conftest import FakePredictor, new_window

pytestmark = pytest.mark.gui


def legend_names(window) -> list[str]:
    table = window.legend.table
    return [table.item(r, 0).text() for r in range(table.rowCount())]


def test_an_imported_class_the_project_lacks_is_added_counted_saved_and_reopened(window, detect_current,
                                                                                  tmp_path, qtbot):
    detect_current(window)
    coco = json.loads(window.files.export("export_coco", tmp_path / "ours.json").read_text(encoding="utf-8"))
    coco["categories"].append({"id": 99, "name": "smudge cell", "supercategory": "cell"})
    for annotation in coco["annotations"][0::2]:  # another lab's reader called two cells smudge cells
        annotation["category_id"] = 99  # (the fake model's 0.95 and 0.85 cells: both counted)
    (tmp_path / "theirs.json").write_text(json.dumps(coco), encoding="utf-8")
    window.session.undo_group.undo()  # back to no cells
    window.prompts.answers["open_paths"] = [str(tmp_path / "theirs.json")]
    window.files.import_annotations()
    qtbot.wait(5)

    image = window.session.current_image
    assert sorted(c.class_name for c in image.instances).count("smudge cell") == 2
    assert "smudge cell" in window.session.dataset.classes
    assert any(name.lower() == "smudge cell" for name in legend_names(window))
    window.refresh_panels()
    counted = window.differential.table
    rows = {counted.item(r, 0).text().lower(): counted.item(r, 3).text() for r in range(counted.rowCount())}
    assert rows.get("smudge cell") == "2"  # the two cells are in the count

    window.prompts.answers["project_folder"] = str(tmp_path / "project")
    assert window.files.save()
    window.close()
    again = new_window(qtbot, tmp_path)
    assert again.files.open([tmp_path / "project"]), again.prompts.messages
    reopened = again.session.dataset.images[0]
    assert sorted(c.class_name for c in reopened.instances) == sorted(c.class_name for c in image.instances)


class _RedCells(FakePredictor):
    """The fake cells plus one red cell: the first detection adds the red-cell class."""

    def predict(self, images, min_confidence=None, **kw):
        found = super().predict(images, min_confidence, **kw)
        return [cells + [Instance([rectangle(400, 300, 460, 360)], "rbc", score=0.9, source=Source.BOOTSTRAP)]
                for cells in found]


def test_crash_recovery_brings_back_the_classes_the_lost_session_added(make_window, smears, detect_current,
                                                                       tmp_path, qtbot):
    crashed = make_window(predictor=_RedCells, autosave_interval_s=0)
    assert crashed.files.open([smears])
    detect_current(crashed)
    assert "rbc" in crashed.session.dataset.classes  # added by the detection, in memory only
    crashed.session.autosave(wait=True)
    # the program "crashes": nothing saved; a new window opens the same folder and restores
    again = make_window()
    again.prompts.answers["recover"] = True
    assert again.files.open([smears])
    restored = again.session.dataset.images[0]
    assert "rbc" in [c.class_name for c in restored.instances]
    assert "rbc" in again.session.dataset.classes and "Red cell" in legend_names(again)
    again.prompts.answers["project_folder"] = str(tmp_path / "project")
    assert again.files.save()
    again.prompts.answers["unsaved"] = "Discard"
    third = make_window()
    assert third.files.open([tmp_path / "project"]), third.prompts.messages
    assert "rbc" in [c.class_name for c in third.session.dataset.images[0].instances]


class _CrowdedRedCells(FakePredictor):
    """The fake cells plus 80 red cells: a crowded field."""

    def predict(self, images, min_confidence=None, **kw):
        found = super().predict(images, min_confidence, **kw)
        red = [Instance([rectangle(x, y, x + 20, y + 20)], "rbc", score=0.9, source=Source.BOOTSTRAP)
               for x in range(360, 620, 26) for y in range(250, 470, 28)]
        return [cells + red for cells in found]


def test_a_field_that_detection_crowds_with_red_cells_hides_them_as_opening_it_would(make_window, smears,
                                                                                    detect_current):
    """Regression: the crowding rule (more than 60 red cells: hidden until the user shows them) was applied
    only when an image was shown, so right after Detect the field was covered in red outlines and
    labels, and hid them only after going to another image and back."""
    window = make_window(predictor=_CrowdedRedCells)
    assert window.files.open([smears])
    detect_current(window)  # the first detection adds the class, the second finds the project has it
    window.session.set_current(1)
    detect_current(window)
    red = [c for c in window.session.current_image.instances if c.class_name == "rbc"]
    assert len(red) == 80
    assert "rbc" in window.legend.hidden_classes()
    assert not any(window.canvas.instance_item(c.id).isVisible() for c in red)
    assert not window.acts["toggle_red_cells"].isChecked()


def test_undoing_an_import_takes_the_class_it_added_back_out(window, detect_current, tmp_path, qtbot):
    """Bug: after undoing an import, the class it had added stayed in the legend (empty, holding a
    key, saved with the project)."""
    detect_current(window)
    coco = json.loads(window.files.export("export_coco", tmp_path / "ours.json").read_text(encoding="utf-8"))
    coco["categories"].append({"id": 99, "name": "smudge cell", "supercategory": "cell"})
    coco["annotations"][0]["category_id"] = 99
    (tmp_path / "theirs.json").write_text(json.dumps(coco), encoding="utf-8")
    before = window.session.dataset.classes.names
    window.prompts.answers["open_paths"] = [str(tmp_path / "theirs.json")]
    window.files.import_annotations()
    qtbot.wait(5)
    assert "smudge cell" in window.session.dataset.classes
    added = window.session.dataset.classes["smudge cell"]

    window.acts["undo"].trigger()  # Ctrl+Z: the import
    qtbot.wait(5)
    assert window.session.dataset.classes.names == before
    assert not any(name.lower() == "smudge cell" for name in legend_names(window))
    assert window.canvas.style.classes is window.session.dataset.classes

    window.acts["redo"].trigger()
    qtbot.wait(5)
    assert window.session.dataset.classes["smudge cell"] == added  # same colour and key as before
    assert any(name.lower() == "smudge cell" for name in legend_names(window))
    assert sum(c.class_name == "smudge cell" for c in window.session.current_image.instances) == 1
