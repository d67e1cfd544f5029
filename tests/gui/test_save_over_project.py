"""Save as… into a folder that already holds another project.

Regression: the other project's ``project.json`` was replaced without a word: its image list
and the cells reviewed in it no longer opened (only a one-deep ``.bak`` was left). Now the
window asks first, No being the default, and a No writes nothing.
"""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.gui


@pytest.fixture
def two_slides(window, review_current, tmp_path, pbc_dir):
    """A saved project of the BCCD smears in ``project``, then another slide opened and reviewed."""
    review_current(window)
    window.prompts.answers["project_folder"] = str(tmp_path / "project")
    assert window.files.save()
    other = tmp_path / "next-slide"
    other.mkdir()
    for path in sorted((pbc_dir / "basophil").glob("*.jpg"))[:2]:
        shutil.copy(path, other / path.name)
    assert window.files.open([other])
    review_current(window)
    return window


def project_images(window, folder) -> list[str]:
    window.prompts.answers["unsaved"] = "Discard"
    assert window.files.open([folder]), window.prompts.messages
    return sorted(i.image_path.name for i in window.session.dataset.images)


def test_saving_the_next_slide_into_the_first_ones_project_asks_and_no_keeps_it(two_slides, tmp_path):
    window = two_slides
    window.prompts.answers.update(project_folder=str(tmp_path / "project"), replace_project=False)
    assert not window.files.save()
    assert "holds another project" in window.status_label.text()
    assert window.session.is_dirty() and window.session.project_path is None
    first = project_images(window, tmp_path / "project")
    assert first == ["BloodImage_00000.jpg", "BloodImage_00001.jpg", "BloodImage_00002.jpg", "broken.jpg"]
    assert len(window.session.dataset.images[0].instances) == 3


def test_yes_replaces_it_and_the_open_project_saves_without_asking(two_slides, tmp_path):
    window = two_slides
    window.prompts.answers.update(project_folder=str(tmp_path / "project"), replace_project=True)
    assert window.files.save()
    del window.prompts.answers["replace_project"]
    window.review.select_all()
    window.review.set_class("monocyte")
    assert window.files.save()  # its own project now: no question (non-interactive default is No)
    assert project_images(window, tmp_path / "project") == sorted(
        p.name for p in (tmp_path / "next-slide").iterdir())
