"""CVAT's XML and Pascal VOC files open in the window as JSON files do (File → Open, the command
line, Import annotations): a CVAT export given to ``bloodview gui a.xml`` showed an empty window."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bloodview.gui.file_actions import open_filter

pytestmark = pytest.mark.gui

# shaped as Datumaro 1.13.12 writes "CVAT for images 1.1" (format ``cvat``)
CVAT_XML = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><labels><label><name>neutrophil</name></label><label><name>rbc</name></label></labels></task></meta>
  <image id="0" name="field.png" width="120" height="90" subset="default">
    <polygon label="neutrophil" occluded="0" points="10.00,10.00;50.00,10.00;50.00,50.00;10.00,50.00" z_order="0"/>
    <box label="rbc" occluded="0" xtl="60.00" ytl="20.00" xbr="90.00" ybr="50.00" z_order="0"/>
  </image>
</annotations>
"""


@pytest.fixture
def cvat_file(tmp_path):
    cv2.imwrite(str(tmp_path / "field.png"), np.full((90, 120, 3), 220, np.uint8))
    path = tmp_path / "annotations.xml"
    path.write_text(CVAT_XML, encoding="utf-8")
    return path


def test_a_cvat_xml_file_opens_with_its_cells(make_window, cvat_file):
    window = make_window()
    assert window.files.open([cvat_file]), window.prompts.messages
    (image,) = window.session.dataset.images
    assert sorted(c.class_name for c in image.instances) == ["neutrophil", "rbc"]
    assert "*.xml" in open_filter()


def test_a_cvat_xml_file_is_imported_into_open_images(make_window, cvat_file):
    window = make_window()
    assert window.files.open([cvat_file.parent / "field.png"])
    assert window.session.current_image.instances == []
    window.prompts.answers["open_paths"] = [str(cvat_file)]
    window.files.import_annotations()
    assert sorted(c.class_name for c in window.session.current_image.instances) == ["neutrophil", "rbc"]


def test_a_cvat_export_folder_opens_with_its_cells_and_its_other_images(make_window, tmp_path):
    """CVAT's and Datumaro's export folder: annotations.xml beside images/ (the images not annotated
    there opened too, named as the others)."""
    export = tmp_path / "export"
    (export / "images").mkdir(parents=True)
    cv2.imwrite(str(export / "images" / "field.png"), np.full((90, 120, 3), 220, np.uint8))
    cv2.imwrite(str(export / "images" / "other.png"), np.full((90, 120, 3), 200, np.uint8))
    (export / "annotations.xml").write_text(CVAT_XML, encoding="utf-8")
    window = make_window()
    assert window.files.open([export]), window.prompts.messages
    images = {i.image_path.name: i for i in window.session.dataset.images}
    assert sorted(images) == ["field.png", "other.png"]
    assert sorted(c.class_name for c in images["field.png"].instances) == ["neutrophil", "rbc"]
    assert all(window.session.dataset.resolve_image(i).is_file() for i in images.values())
