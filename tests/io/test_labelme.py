"""LabelMe files: one JSON per image, relative imagePath, imageData null."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.errors import FormatError
from bloodview.io.labelme import load_labelme, save_labelme


def _labelme(shapes, image_path="a.jpg", w=80, h=60):
    return {"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": image_path,
            "imageData": None, "imageHeight": h, "imageWidth": w}


def _shape(label, points, kind="polygon", group=None):
    return {"label": label, "points": points, "group_id": group, "description": "", "shape_type": kind, "flags": {}}


def test_reads_polygons_rectangles_circles_and_groups(tmp_path):
    shapes = [
        _shape("Neutrophil", [[10, 10], [30, 10], [30, 30]]),
        _shape("lymphocyte", [[50, 40], [40, 30]], kind="rectangle"),
        _shape("monocyte", [[60, 20], [60, 28]], kind="circle"),
        _shape("ig", [[1, 40], [5, 40], [5, 45]], group=3),
        _shape("ig", [[10, 40], [15, 40], [15, 45]], group=3),
        _shape("ig", [[1, 1]], kind="point"),
    ]
    (tmp_path / "a.json").write_text(json.dumps(_labelme(shapes)))
    (image,) = load_labelme(tmp_path / "a.json")
    names = [i.class_name for i in image]
    assert names == ["neutrophil", "lymphocyte", "monocyte", "ig"]
    rect, circle, grouped = image.instances[1:]
    assert rect.box_only and rect.bbox == (40, 30, 50, 40)
    assert circle.area == pytest.approx(np.pi * 64, rel=0.02)
    assert len(grouped.polygons) == 2


def test_round_trip_through_files_beside_the_images(tmp_path):
    for name in ("a.png", "sub/b.png"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        Image.new("RGB", (40, 30)).save(tmp_path / name)
    cell = Instance([rectangle(1, 1, 9, 9), rectangle(12, 1, 20, 9)], "eosinophil", score=0.7,
                    source=Source.MODEL, reviewed=True)
    dataset = Dataset([ImageAnnotation("a.png", 40, 30, [cell]),
                       ImageAnnotation("sub/b.png", 40, 30, [Instance(rectangle(2, 2, 8, 8), "platelet")]),
                       ImageAnnotation("c.png", 40, 30)], root=tmp_path)
    written = save_labelme(dataset, tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == ["a.json", "sub/b.json"]
    data = json.loads((tmp_path / "sub" / "b.json").read_text())
    assert data["imagePath"] == "b.png" and data["imageData"] is None
    assert (data["imageWidth"], data["imageHeight"]) == (40, 30)
    assert data["shapes"][0]["points"] == [[2, 2], [8, 2], [8, 8], [2, 8]]
    back = load_labelme(tmp_path)
    assert [i.image_path.as_posix() for i in back] == ["a.png", "sub/b.png"]
    (restored,) = back.images[0].instances
    assert restored.same_as(cell) and restored.id == cell.id


def test_export_to_other_folder_points_back_at_images(tmp_path):
    (tmp_path / "imgs").mkdir()
    Image.new("RGB", (40, 30)).save(tmp_path / "imgs" / "a.png")
    dataset = Dataset([ImageAnnotation("a.png", 40, 30, [Instance(rectangle(2, 2, 8, 8), "platelet")])],
                      root=tmp_path / "imgs")
    save_labelme(dataset, tmp_path / "out")
    assert json.loads((tmp_path / "out" / "a.json").read_text())["imagePath"] == "../imgs/a.png"
    (image,) = load_labelme(tmp_path / "out", images_root=tmp_path)
    assert image.image_path.as_posix() == "imgs/a.png"
    (image,) = load_labelme(tmp_path / "out", images_root=tmp_path / "imgs")
    assert image.image_path.as_posix() == "a.png"


def test_export_beside_the_smears_folder_loads_back_the_same_cells(tmp_path):
    """Bug: save_labelme into tmp/out wrote imagePath "../smears/x.png", which load_labelme then
    refused ("points outside the data folder"), so an export could not be read back."""
    smears = tmp_path / "smears"
    smears.mkdir()
    for name in ("x.png", "y.png"):
        Image.new("RGB", (40, 30), "white").save(smears / name)
    cells = [Instance([rectangle(1, 1, 9, 9), rectangle(12, 1, 20, 9)], "eosinophil", score=0.7,
                      source=Source.MODEL, reviewed=True),
             Instance(rectangle(22, 10, 30, 20), "platelet")]
    dataset = Dataset([ImageAnnotation("x.png", 40, 30, cells),
                       ImageAnnotation("y.png", 40, 30, [Instance(rectangle(2, 2, 8, 8), "ig")])], root=smears)
    save_labelme(dataset, tmp_path / "out")
    back = load_labelme(tmp_path / "out")
    assert [dataset.resolve_image(i) for i in back] == [(smears / "x.png").resolve(), (smears / "y.png").resolve()]
    for before, after in zip(dataset.images, back.images):
        assert len(after.instances) == len(before.instances)
        assert all(a.same_as(b) and a.id == b.id for a, b in zip(after.instances, before.instances))
    # the images moved: found under the folder given, by the tail of imagePath
    moved = tmp_path / "elsewhere"
    (smears).rename(moved)
    with pytest.raises(FormatError, match="points outside the data folder and no image is there"):
        load_labelme(tmp_path / "out")
    back = load_labelme(tmp_path / "out", images_root=moved)
    assert [i.image_path.as_posix() for i in back] == ["x.png", "y.png"]
    assert back.images[0].instances[0].same_as(cells[0])


def test_a_climbing_image_path_never_makes_an_export_write_outside_its_folder(tmp_path):
    (tmp_path / "smears").mkdir()
    Image.new("RGB", (40, 30)).save(tmp_path / "smears" / "x.png")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.json").write_text(json.dumps(_labelme(
        [_shape("ig", [[1, 1], [5, 1], [5, 5]])], image_path="../smears/x.png", w=40, h=30)))
    loaded = load_labelme(tmp_path / "in")
    written = save_labelme(loaded, tmp_path / "out")
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["out/x.json"]
    assert json.loads(written[0].read_text())["imagePath"] == "../smears/x.png"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_labelme([_shape("ig", [[1, 1], [2, 2]])]), r"shape 0: outline has 2 point"),
        (_labelme([_shape("ig", [[1, 1], [5, 1], [5, 5]])], image_path="../../no/a.jpg"),
         "points outside the data folder and no image is there"),
        (_labelme([_shape("ig", [[1, 1], [5, 1], [5, 5]])], w=None), "needs positive integer 'imageWidth'"),
        (_labelme([_shape("rbc", [[1, 1], [5, 1], [5, 5]])]), "unknown cell class 'rbc'"),
        (_labelme([_shape("ig", [[1, 1], [5, 5]], kind="rectangle")])["shapes"], "is not a LabelMe file"),
    ],
)
def test_bad_input(tmp_path, content, message):
    (tmp_path / "a.json").write_text(json.dumps(content))
    with pytest.raises(Exception, match=message) as info:
        load_labelme(tmp_path / "a.json")
    assert "a.json" in str(info.value)


def test_a_folder_without_labelme_files_is_an_error_not_an_empty_data_set(tmp_path, capsys):
    """Regression: ``convert VOC_FOLDER out.json --from labelme`` wrote '0 images, 0 cells' and exited 0."""
    from bloodview.cli.main import main

    (tmp_path / "voc").mkdir()
    (tmp_path / "voc" / "a.xml").write_text("<annotation><filename>a.jpg</filename></annotation>")
    out = tmp_path / "out.json"
    assert main(["convert", str(tmp_path / "voc"), str(out), "--from", "labelme", "--to", "coco"]) == 1
    assert capsys.readouterr().err == f"bloodview: error: {tmp_path / 'voc'}: is not a LabelMe folder: it holds no .json files\n"
    for name in ("coco.json", "via.json"):
        (tmp_path / "voc" / name).write_text('{"images": [], "annotations": []}')
    assert main(["convert", str(tmp_path / "voc"), str(out), "--from", "labelme", "--to", "coco"]) == 1
    assert "is not a LabelMe folder: none of its 2 .json files is a LabelMe file" in capsys.readouterr().err
    assert not out.exists()
