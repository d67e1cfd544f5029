"""File → Import annotations into an open *project* (MakeSense round trip: export, annotate there,
import back).

Regression: a MakeSense VGG (VIA) file needs its images for their sizes, and the import looked for
them in the project folder, not where the project's images are (``../smears/…``): "Cannot import:
…/project/BloodImage_00000.jpg: image file not found; … give the images folder", with no way to
give it. The import now looks in the open images' own folders too.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("action", ["export_makesense_vgg", "export_makesense_coco", "export_coco"])
def test_a_makesense_export_imports_back_into_the_saved_project(window, detect_current, tmp_path, action):
    detect_current(window)
    classes = sorted(c.class_name for c in window.session.current_image.instances)
    (tmp_path / "makesense").mkdir()
    exported = window.files.export(action, tmp_path / "makesense" / "labels.json")
    window.session.undo_group.undo()  # the project is saved without the cells
    window.prompts.answers["project_folder"] = str(tmp_path / "project")
    assert window.files.save()
    assert window.files.open([tmp_path / "project"]) and window.session.kind == "project"
    window.prompts.answers["open_paths"] = [str(exported)]
    window.files.import_annotations()
    assert window.prompts.messages == [], window.prompts.messages
    image = window.session.dataset.images[0]
    assert sorted(c.class_name for c in image.instances) == classes
    assert window.session.is_dirty()


def test_a_malformed_file_is_still_refused_at_once(window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": "not a list"}', encoding="utf-8")
    window.prompts.answers["open_paths"] = [str(bad)]
    window.files.import_annotations()
    title, _text = window.prompts.messages[-1]
    assert title == "Cannot import"
    assert all(image.instances == [] for image in window.session.dataset.images)
