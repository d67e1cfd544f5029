"""LabelMe 6 shapes that bloodview used to drop: AI masks and oriented rectangles.

The shapes below are as labelme 6.3.1 writes them (``labelme._label_file.write_label_file``
with the shape dicts its app builds): a ``mask`` shape (the AI mask tool) keeps a base64
PNG of the patch from ``points[0]`` to ``points[1]`` (pixel indices, both included:
``labelme.utils.shapes_to_label`` pastes it at ``[y1:y2 + 1, x1:x2 + 1]``), and an
``oriented_rectangle`` its four corners. Before, both were "not cell outlines; skipped":
every cell drawn with LabelMe's AI mask tool was lost on import.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from PIL import Image

from bloodview.core.geometry import polygons_to_mask
from bloodview.errors import FormatError
from bloodview.io.labelme import load_labelme

# written by labelme 6.3.1 for a 7 x 5 patch whose rows 1..3, columns 2..5 are the cell
MASK_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFCAAAAACs8akEAAAAGUlEQVR4nGNggABGBgZGBgaG/0xQPoyGAQAZnAEGws0nhAAAAABJRU5ErkJggg=="


def _shape(label, shape_type, points, mask=None):
    return {"label": label, "points": points, "group_id": None, "description": "", "shape_type": shape_type,
            "flags": {}, "mask": mask}


def _file(tmp_path, shapes):
    Image.new("RGB", (30, 20), "white").save(tmp_path / "a.png")
    data = {"version": "6.3.1", "flags": {}, "shapes": shapes, "imagePath": "a.png", "imageData": None,
            "imageHeight": 20, "imageWidth": 30}
    (tmp_path / "a.json").write_text(json.dumps(data, indent=2))
    return tmp_path / "a.json"


def test_ai_masks_and_oriented_rectangles_are_cells(tmp_path, caplog):
    path = _file(tmp_path, [_shape("neutrophil", "mask", [[5, 3], [11, 7]], MASK_PNG),
                            _shape("rbc", "oriented_rectangle", [[12, 8], [18, 10], [17, 13], [11, 11]]),
                            _shape("rbc", "point", [[1, 1]])])
    with caplog.at_level(logging.WARNING):
        (image,) = load_labelme(path, add_unknown_classes=True)
    mask_cell, turned_box = image.instances
    # the same pixels labelme.utils.shapes_to_label paints: rows 4..6, columns 7..10
    expected = np.zeros((20, 30), bool)
    expected[4:7, 7:11] = True
    assert mask_cell.class_name == "neutrophil" and not mask_cell.box_only
    assert np.array_equal(polygons_to_mask(mask_cell.polygons, 20, 30), expected)
    assert turned_box.box_only and turned_box.polygons[0].tolist() == [[12, 8], [18, 10], [17, 13], [11, 11]]
    assert "shape 2: point shapes are not cell outlines; skipped" in caplog.text
    assert "mask shapes" not in caplog.text


def test_a_mask_that_does_not_fit_its_points_is_refused(tmp_path):
    path = _file(tmp_path, [_shape("neutrophil", "mask", [[5, 3], [12, 7]], MASK_PNG)])
    with pytest.raises(FormatError, match=r"a.json: shape 0: mask is 7x5 pixels but its points span 8x5"):
        load_labelme(path)
    path = _file(tmp_path, [_shape("neutrophil", "mask", [[5, 3], [11, 7]], "not base64 at all")])
    with pytest.raises(FormatError, match=r"shape 0: 'mask' is not a base64 PNG"):
        load_labelme(path)
