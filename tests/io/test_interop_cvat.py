"""CVAT's own XML ("CVAT for images 1.1"), as CVAT and Datumaro write it.

The files below are shaped like what Datumaro 1.13.12's ``cvat`` exporter wrote
for our detections of BCCD fields (``<mask>`` over the whole image from
``left="0" top="0"``, a ``<box>`` with ``rotation``, the polygon and the box of one
COCO object sharing a ``group_id``), plus CVAT 2.x's own marks (``source``,
``subset``, a ``<mask>`` patch at ``left``/``top``, ``<ellipse>``, ``<polyline>``).
Before bloodview read CVAT XML, such a file was refused as "not a Pascal VOC
annotation (root element <annotations>)".
"""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from bloodview.core.geometry import polygons_to_mask
from bloodview.errors import FormatError
from bloodview.io.cvat import load_cvat
from bloodview.io.detect import detect_format, load_annotations

HEAD = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <name>smears</name>
      <labels>
        <label><name>neutrophil</name><attributes></attributes></label>
        <label><name>RBC</name><attributes></attributes></label>
      </labels>
    </task>
  </meta>
"""

FIELD = HEAD + """  <image id="0" name="field.png" subset="Train" task_id="3" width="30" height="20">
    <polygon label="neutrophil" source="manual" occluded="0" points="1.00,1.00;4.00,1.00;4.00,5.00" z_order="0">
      <attribute name="maturity">band</attribute>
    </polygon>
    <box label="RBC" source="manual" occluded="1" xtl="11.00" ytl="8.00" xbr="19.00" ybr="12.00" rotation="90.00" z_order="0">
    </box>
    <mask label="neutrophil" source="manual" occluded="0" rle="0, 7, 1, 7, 1, 7, 1, 7, 1, 7, 1" left="5" top="3" width="8" height="5" z_order="0">
    </mask>
    <ellipse label="RBC" source="manual" occluded="0" cx="24.00" cy="10.00" rx="3.00" ry="2.00" z_order="0">
    </ellipse>
    <polyline label="RBC" source="manual" occluded="0" points="0.00,0.00;5.00,5.00" z_order="0">
    </polyline>
    <polygon label="RBC" occluded="0" outside="0" keyframe="0" points="20.00,14.00;26.00,14.00;26.00,19.00" z_order="0" group_id="120">
    </polygon>
    <box label="RBC" occluded="0" outside="0" keyframe="0" xtl="20.00" ytl="14.00" xbr="26.00" ybr="19.00" z_order="0" group_id="120">
    </box>
    <tag label="neutrophil" source="manual">
    </tag>
  </image>
</annotations>
"""


@pytest.fixture
def cvat_export(tmp_path):
    """A CVAT export unpacked: ``annotations.xml`` beside ``images/``."""
    (tmp_path / "images").mkdir()
    Image.new("RGB", (30, 20), "white").save(tmp_path / "images" / "field.png")
    (tmp_path / "annotations.xml").write_text(FIELD, encoding="utf-8")
    return tmp_path


def test_every_cvat_shape_that_outlines_a_cell_is_read(cvat_export, caplog):
    with caplog.at_level(logging.WARNING):
        dataset = load_cvat(cvat_export / "annotations.xml", add_unknown_classes=True)
    (image,) = dataset.images
    assert dataset.resolve_image(image) == cvat_export / "images" / "field.png"
    assert (image.width, image.height, image.split, image.image_label) == (30, 20, "train", "neutrophil")
    polygon, box, mask, ellipse, grouped = image.instances
    assert [i.class_name for i in image.instances] == ["neutrophil", "rbc", "neutrophil", "rbc", "rbc"]
    assert polygon.polygons[0].tolist() == [[1, 1], [4, 1], [4, 5]]
    assert polygon.extra == {"attributes": {"maturity": "band"}}
    assert not polygon.reviewed and polygon.source.value == "import"
    # an 8 x 4 box turned 90 degrees about its centre (15, 10): 4 wide, 8 tall
    assert box.box_only and box.extra == {"occluded": True}
    assert np.allclose(box.bbox, (13, 6, 17, 14))
    # the 8 x 5 patch at (5, 3): each row 7 cell pixels then one background pixel
    expected = np.zeros((20, 30), bool)
    expected[3:8, 5:12] = True
    assert np.array_equal(polygons_to_mask(mask.polygons, 20, 30), expected)
    assert np.allclose(ellipse.bbox, (21, 8, 27, 12), atol=0.05)
    assert not ellipse.box_only
    # Datumaro writes a COCO object's polygon and its box with one group_id: one cell, not two
    assert not grouped.box_only and len(image.instances) == 5
    assert "polyline shapes are not cell outlines; skipped" in caplog.text


def test_cvat_xml_is_detected_by_its_root_and_converted(cvat_export, tmp_path):
    assert detect_format(cvat_export / "annotations.xml") == "cvat"
    assert detect_format(cvat_export) == "cvat"
    dataset = load_annotations(cvat_export)  # a file read on its own brings its classes
    assert dataset.instance_count == 5 and "rbc" in dataset.classes
    out = tmp_path / "out.json"
    done = subprocess.run([sys.executable, "-m", "bloodview", "convert", str(cvat_export / "annotations.xml"),
                           str(out), "--to", "coco"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "(cvat)" in done.stdout and "1 images, 5 cells" in done.stdout


def test_voc_files_are_still_voc(tmp_path):
    (tmp_path / "a.xml").write_text("<annotation><filename>a.jpg</filename><size><width>9</width>"
                                    "<height>9</height></size></annotation>")
    assert detect_format(tmp_path / "a.xml") == "voc"
    assert detect_format(tmp_path) == "voc"


def test_video_export_and_bad_shapes_are_refused_with_a_sentence(tmp_path):
    video = tmp_path / "video.xml"
    video.write_text(HEAD + '<track id="0" label="RBC"><box frame="0" xtl="1" ytl="1" xbr="5" ybr="5" '
                            'outside="0" occluded="0" keyframe="1"/></track></annotations>')
    with pytest.raises(FormatError, match='video.xml: is a "CVAT for video" file.*"CVAT for images 1.1"'):
        load_cvat(video)
    bad = tmp_path / "bad.xml"
    bad.write_text(HEAD + '<image id="0" name="a.png" width="30" height="20"><mask label="RBC" rle="3, 2" '
                          'left="0" top="0" width="3" height="2"/></image></annotations>')
    with pytest.raises(FormatError, match=r"bad.xml: image 'a.png' mask 0: mask run lengths add up to 5, not its "
                                          r"3 x 2 = 6 pixels"):
        load_cvat(bad, add_unknown_classes=True)
    bad.write_text(HEAD + '<image id="0" name="a.png" width="" height="20"></image></annotations>')
    with pytest.raises(FormatError, match="image 'a.png' needs positive integer width and height"):
        load_cvat(bad)
    bad.write_text(HEAD + '<image id="0" name="../a.png" width="30" height="20"></image></annotations>')
    with pytest.raises(FormatError, match="outside the data folder"):
        load_cvat(bad)


def test_a_cvat_file_among_many_images_is_found(tmp_path):
    for index in range(30):
        Image.new("RGB", (30, 20), "white").save(tmp_path / f"Field_{index:02d}.png")
    (tmp_path / "annotations.xml").write_text(FIELD.replace('name="field.png"', 'name="Field_00.png"'))
    assert detect_format(tmp_path) == "cvat"
    dataset = load_annotations(tmp_path)
    assert dataset.resolve_image(dataset.images[0]) == tmp_path / "Field_00.png"


def test_an_empty_box_is_skipped_not_the_whole_file(tmp_path, caplog):
    """BCCD's two empty boxes, carried into CVAT XML by Datumaro 1.13.12, refused the whole file."""
    path = tmp_path / "default.xml"
    path.write_text(HEAD + '<image id="338" name="BloodImage_00338.jpg" width="640" height="480">'
                           '<box label="RBC" occluded="0" outside="0" keyframe="0" xtl="504.00" ytl="337.00" '
                           'xbr="504.00" ybr="337.00" z_order="0"></box>'
                           '<box label="RBC" occluded="0" outside="0" keyframe="0" xtl="10.00" ytl="20.00" '
                           'xbr="60.00" ybr="70.00" z_order="0"></box></image></annotations>')
    with caplog.at_level(logging.WARNING):
        (image,) = load_cvat(path, add_unknown_classes=True)
    assert [i.bbox for i in image.instances] == [(10, 20, 60, 70)]
    assert "box 0: empty box (504, 337, 504, 337) skipped" in caplog.text
