"""What the window exports comes back whole: every cell, class, provenance and sign-off the
format can hold, and so the same differential as the project it came from.

The project is the hand-counted one of ``test_report_lab_figures.py`` (a lab's own white-cell
class "Zelle ä", an image named ``field 1 #a.png``, one image signed off by ana).
"""

from __future__ import annotations

import pytest

from bloodview.gui.report import report_html
from bloodview.io.project import save_project
from tests.gui.test_report_lab_figures import FIRST, OWN_CLASS, lab_figures, lab_project, row

pytestmark = pytest.mark.gui

FULL = ("export_coco", "export_makesense_vgg", "export_labelme")  # formats with room for our records


def cells(image, provenance: bool = True):
    if not provenance:
        return sorted((i.class_name.lower(), tuple(round(v) for v in i.bbox)) for i in image.instances)
    return sorted((i.id, i.class_name, i.source.value, i.reviewed, i.corrected, i.score, i.quality, i.origin,
                   i.extra, tuple(round(v) for v in i.bbox)) for i in image.instances)


def totals(cells_of_row: tuple[str, ...]) -> tuple[str, ...]:
    """A report row's (checked, unchecked, count, figure): its "Unchecked (origin)" columns summed."""
    checked, *unchecked, count, figure = cells_of_row
    return checked, str(sum(int(n) for n in unchecked)), count, figure


def by_name(dataset):
    return {image.image_path.name: image for image in dataset.images}


@pytest.fixture
def opened(make_window, tmp_path):
    """A window holding the lab project, opened from its folder."""
    dataset = lab_project(tmp_path / "smears")
    save_project(dataset, tmp_path / "project")
    window = make_window()
    assert window.files.open([tmp_path / "project"])
    return window, dataset


def _reopen(window, written, smears):
    window.session.mark_saved()
    window.prompts.answers["images_folder"] = str(smears)  # the export lies away from its images
    window.prompts.answers["recover"] = False
    assert window.files.open([written]), window.prompts.messages
    return window.session.dataset


@pytest.mark.parametrize("action", [*FULL, "export_makesense_coco"])
def test_an_export_opens_again_with_the_same_cells_classes_sign_off_and_count(opened, tmp_path, action):
    window, original = opened
    target = tmp_path / "export"
    target.mkdir()
    written = window.files.export(action, target if action == "export_labelme" else target / "cells.json")
    assert written is not None, window.prompts.messages
    back = by_name(_reopen(window, written, tmp_path / "smears"))
    dataset = window.session.dataset
    for name, image in by_name(original).items():
        if not image.instances and not image.signed_off:
            continue  # an empty field no one signed off: VIA and LabelMe have nothing to write for it
        if action in FULL:
            assert cells(back[name]) == cells(image), name
            assert back[name].signed_off == image.signed_off
            assert back[name].sign_off_history == image.sign_off_history
        else:  # MakeSense COCO: outlines and classes only, every cell an unchecked import
            assert cells(back[name], provenance=False) == cells(image, provenance=False), name
            assert not back[name].signed_off and all(i.source.value == "import" for i in back[name].instances)
    if action not in FULL:
        return
    # The lab's own class keeps its name and stays a white cell; before, VIA and LabelMe gave
    # "zelle ä", not a white cell: 6 white cells, neutrophils 66.7 % instead of 57.1 %.
    assert OWN_CLASS in dataset.classes and dataset.classes[OWN_CLASS].white_cell
    text = report_html(dataset, dataset.images, 0.75)
    assert totals(row(text, "Neutrophil")) == ("3", "1", "4", "57.1")
    assert totals(row(text, OWN_CLASS)) == ("1", "0", "1", "14.3")
    assert totals(row(text, "Erythroblast")) == ("0", "1", "1", "14.3 per 100 WBC")
    assert lab_figures(text)["White cells counted"] == "7"
    assert lab_figures(text)["Platelets per 1,000 red cells"] == "300.0"
    assert "b.png — 8 cells — signed off by ana, 2026-11-30 09:00 UTC" in text
    assert FIRST in back


def test_an_export_says_how_many_unreadable_images_it_left_out(window, detect_current, tmp_path):
    """The smear folder holds broken.jpg, which cannot be read: exports leave it out, and said
    nothing about it ("Exported coco to …")."""
    detect_current(window)
    written = window.files.export("export_coco", tmp_path / "cells.json")
    assert written is not None
    status = window.status_label.text()
    assert status.startswith(f"Exported coco to {written}")
    assert "1 image(s) that cannot be read left out (broken.jpg; 0 cell(s))" in status


def test_an_export_of_readable_images_says_nothing_of_left_out_images(opened, tmp_path):
    window, _ = opened
    written = window.files.export("export_makesense_vgg", tmp_path / "cells.json")
    assert window.status_label.text() == f"Exported makesense-vgg to {written}"


@pytest.mark.parametrize("action", FULL[:2])
def test_file_import_of_an_export_brings_the_cells_and_keeps_the_labs_class_a_white_cell(opened, tmp_path, action):
    """File → Import into the image folder opened afresh (no project classes beyond PBC's)."""
    window, original = opened
    written = window.files.export(action, tmp_path / "cells.json")
    window.session.mark_saved()
    assert window.files.open([tmp_path / "smears"])
    window.prompts.answers["open_paths"] = [str(written)]
    window.files.import_annotations()
    back = by_name(window.session.dataset)
    for name, image in by_name(original).items():
        assert cells(back[name]) == cells(image), name
    # before: "Zelle ä" came in as not a white cell, and the panel counted 6 white cells, not 7
    assert window.session.dataset.classes[OWN_CLASS].white_cell
    text = report_html(window.session.dataset, window.session.dataset.images, 0.75)
    assert lab_figures(text)["White cells counted"] == "7" and row(text, "Neutrophil")[-1] == "57.1"
