"""Saving, exporting and importing from the window: round trips and refusing disks."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def cells(image):
    return sorted((i.id, i.class_name, i.reviewed, i.corrected, i.source.value,
                   tuple(round(v) for v in i.bbox)) for i in image.instances)


@pytest.fixture
def edited(window, detect_current):
    """The first smear detected, one cell corrected to basophil, one confirmed."""
    detect_current(window)
    image = window.session.current_image
    window.select_cells([image.instances[0].id], center=False)
    window.review.set_class("basophil")
    window.select_cells([image.instances[1].id], center=False)
    window.review.accept_and_next()
    return window


@pytest.mark.parametrize("action", ["export_coco", "export_makesense_vgg", "export_makesense_coco",
                                    "export_labelme"])
def test_export_then_import_gives_the_same_cells(edited, tmp_path, action):
    window = edited
    # LabelMe files live beside their images: export into the smear folder itself
    smears = window.session.sources[0]
    target = smears if action == "export_labelme" else tmp_path / "out.json"
    written = window.files.export(action, target)
    assert written is not None and written.exists(), window.prompts.messages
    original = window.session.dataset.images[0]
    window.session.mark_saved()  # do not ask about unsaved work
    window.prompts.answers["recover"] = False
    window.prompts.answers["open_paths"] = [str(written)] if action != "export_labelme" else []
    window.files.open([smears])
    if action == "export_labelme":  # reopening the folder brings the LabelMe cells back
        image = window.session.dataset.find(original.image_path)
        assert [i.class_name for i in image.instances] == [i.class_name for i in original.instances]
        assert window.qimage is not None
        assert len(window.session.dataset.images) == 4  # images without LabelMe files are listed too
        return
    assert window.session.dataset.images[0].instances == []
    window.files.import_annotations()
    image = window.session.dataset.images[0]
    if action == "export_coco":  # COCO keeps every provenance field
        assert cells(image) == cells(original)
    else:  # MakeSense keeps outlines and classes
        assert sorted(i.class_name for i in image.instances) == sorted(i.class_name for i in original.instances)
        assert sorted(tuple(round(v) for v in i.bbox) for i in image.instances) == \
            sorted(tuple(round(v) for v in i.bbox) for i in original.instances)


def test_save_project_and_reopen_it(edited, tmp_path):
    window = edited
    window.queue.threshold.setValue(0.55)
    window.prompts.answers["project_folder"] = str(tmp_path / "project")
    original = cells(window.session.dataset.images[0])
    assert window.files.save()
    assert not window.session.is_dirty() and (tmp_path / "project" / "project.json").is_file()
    window.session.set_current(1)
    assert window.files.open([tmp_path / "project"])
    assert window.session.kind == "project"
    assert cells(window.session.dataset.images[0]) == original
    assert window.threshold == pytest.approx(0.55)
    assert window.qimage is not None  # images found through the project's relative paths
    assert window.image_list.is_marked_broken(
        [i.image_path.name for i in window.session.dataset.images].index("broken.jpg"))


def test_refused_save_keeps_edits_and_a_later_save_elsewhere_works(edited, tmp_path):
    window = edited
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the project folder should go")
    window.prompts.answers["project_folder"] = str(blocker / "project")
    window.prompts.answers["save_failed"] = "Cancel"
    before = cells(window.session.dataset.images[0])
    assert not window.files.save()
    assert window.prompts.messages == [] or "Could not save" not in window.prompts.messages[-1][0]
    assert window.session.is_dirty() and cells(window.session.dataset.images[0]) == before
    assert "Not saved" in window.status_label.text()
    assert window.session.recovery_file.exists()  # the edits also went to the recovery file
    window.prompts.answers["project_folder"] = str(tmp_path / "good")
    assert window.files.save()
    assert not window.session.is_dirty()


def test_report_html_and_pdf(edited, tmp_path):
    window = edited
    html = window.files.export_report(tmp_path / "count.html")
    text = html.read_text(encoding="utf-8")
    assert "Basophil" in text and "Unidentified (not counted)" in text
    pdf = window.files.export_report(tmp_path / "count.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_png_of_the_current_view(edited, tmp_path):
    from PyQt6.QtGui import QImage

    path = edited.files.export_view(tmp_path / "view.png")
    picture = QImage(str(path))
    assert not picture.isNull() and picture.width() == edited.canvas.viewport().width()


def test_annotation_file_away_from_its_images_then_locate_images(edited, tmp_path):
    window = edited
    elsewhere = tmp_path / "mail" / "from-colleague.json"
    elsewhere.parent.mkdir()
    window.files.export("export_coco", elsewhere)
    smears = window.session.sources[0]
    window.session.mark_saved()
    assert window.files.open([elsewhere])
    assert len(window.session.broken) == len(window.session.dataset.images) == 3
    assert "Locate images" in window.status_label.text()
    assert window.files.locate_images(smears) == 3
    assert window.qimage is not None and not window.image_list.is_marked_broken(0)
    assert len(window.session.dataset.images[0].instances) == 3


def test_pbc_class_folders_open_with_their_labels(make_window, pbc_dir, tmp_path):
    import shutil

    root = tmp_path / "pbc"
    for cls in ("basophil", "platelet"):
        (root / cls).mkdir(parents=True)
        for path in sorted((pbc_dir / cls).glob("*.jpg"))[:2]:
            shutil.copy(path, root / cls / path.name)
    window = make_window()
    assert window.files.open([root])
    labels = sorted(i.image_label for i in window.session.dataset.images)
    assert labels == ["basophil", "basophil", "platelet", "platelet"]
    assert "[basophil]" in window.image_list.item_text(0)
    assert window.qimage is not None and window.qimage.width() >= 360
