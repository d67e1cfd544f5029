"""What ``bloodview predict`` reads and how it names each image in the file it writes.

Regressions, each met by a lab on the command line:
- two days' folders with the camera's own names (``day1/Image001.jpg``, ``day2/Image001.jpg``)
  were written as two images both called ``Image001.jpg``: nobody could tell which cells were whose;
- an image given as ``../smears/a.jpg`` was written under that name, which bloodview then refused
  to read back ("points outside the data folder");
- a 1 x 1 px image stopped the whole run with a ValueError traceback from the red-cell measure;
- ``--batch-size -1`` read no image and reported every one unreadable;
- ``--out`` in a folder that does not exist, or naming a folder, failed only after every image had
  been predicted, naming a hidden temporary file;
- a WebP in a folder was not read ("folder holds no images"), and given by name was "not an image file";
- a grey camera's images came back with red cells and no white cell, without a word why.
"""

from __future__ import annotations

import json
import shutil
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bloodview.cli.main import main
from tests.cli.stand_in import stand_in_predict_model

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
NEUTROPHIL = SAMPLES / "pbc_neutrophil_BNE_67131.jpg"
LYMPHOCYTE = SAMPLES / "pbc_lymphocyte_LY_247228.jpg"


class _OneCellPerImage:
    """Stands in for the Mask R-CNN (no TensorFlow): one neutrophil per image; notes the sizes it saw."""

    class_names = ["neutrophil"]
    info = types.SimpleNamespace(class_colors=None, cell_classifier=None)
    config = types.SimpleNamespace(images_per_gpu=2)
    seen: list[tuple[int, int]] = []
    loaded = False

    @classmethod
    def load(cls, model_dir, **options):
        cls.loaded = True
        return cls()

    def detect(self, arrays, batch_size=None, min_confidence=None, pixel_size=None, simplify=True, step_progress=None):
        from bloodview.core.geometry import rectangle
        from bloodview.core.instance import Instance, Source

        found = []
        for array in arrays:
            self.seen.append(array.shape[:2])
            cell = Instance(rectangle(1, 1, 6, 6), "neutrophil", score=0.9, source=Source.MODEL)
            found.append(types.SimpleNamespace(instances=[cell], scale=None, glass_gains=None))
        return found


@pytest.fixture
def model(tmp_path, monkeypatch) -> Path:
    _OneCellPerImage.seen = []
    _OneCellPerImage.loaded = False
    return stand_in_predict_model(monkeypatch, tmp_path, _OneCellPerImage)


def _names(out: Path) -> list[str]:
    return sorted(image["file_name"] for image in json.loads(out.read_text(encoding="utf-8"))["images"])


def test_two_folders_with_the_same_file_names_are_told_apart(tmp_path, model, monkeypatch, capsys):
    for day, sample in (("day1", NEUTROPHIL), ("day2", LYMPHOCYTE)):
        (tmp_path / day).mkdir()
        shutil.copy(sample, tmp_path / day / "Image001.jpg")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "cells.json"
    assert main(["predict", "day1", "day2", "--model", str(model), "--out", str(out)]) == 0
    assert _names(out) == ["day1/Image001.jpg", "day2/Image001.jpg"]
    assert f"each is named relative to {tmp_path}" in capsys.readouterr().err
    # and the file reads back with each name on its own image
    assert main(["info", str(out), "--images", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["images"] == 2


def test_two_folders_are_named_relative_to_their_common_folder_even_when_no_names_collide(
    tmp_path, model, monkeypatch, capsys
):
    """Regression: ``predict day1 day2`` named ``a.jpg`` and ``b.jpg`` each relative to its own folder, so
    no single ``--images`` found both when the file was evaluated or converted."""
    (tmp_path / "runs" / "week 2").mkdir(parents=True)
    for day, sample, name in (("day1", NEUTROPHIL, "a.jpg"), ("day2", LYMPHOCYTE, "b.jpg")):
        (tmp_path / "slides" / day).mkdir(parents=True)
        shutil.copy(sample, tmp_path / "slides" / day / name)
    monkeypatch.chdir(tmp_path / "runs" / "week 2")
    out = tmp_path / "runs" / "week 2" / "cells.json"
    assert main(["predict", "../../slides/day1", str(tmp_path / "slides" / "day2"), "--model", str(model),
                 "--out", str(out)]) == 0
    assert _names(out) == ["day1/a.jpg", "day2/b.jpg"]
    assert f"images from 2 folders: each is named relative to {tmp_path / 'slides'}" in capsys.readouterr().err
    from bloodview.io.detect import load_annotations

    back = load_annotations(out, images=tmp_path / "slides")  # as evaluate and convert read it
    assert [back.resolve_image(i).is_file() for i in back.images] == [True, True]


def test_a_folder_alone_keeps_names_relative_to_it(tmp_path, model, monkeypatch):
    (tmp_path / "day1" / "slide 3").mkdir(parents=True)
    shutil.copy(NEUTROPHIL, tmp_path / "day1" / "slide 3" / "Image001.jpg")
    shutil.copy(LYMPHOCYTE, tmp_path / "day1" / "Image001.jpg")
    out = tmp_path / "cells.json"
    assert main(["predict", str(tmp_path / "day1"), "--model", str(model), "--out", str(out)]) == 0
    assert _names(out) == ["Image001.jpg", "slide 3/Image001.jpg"]


def test_the_same_image_reached_twice_is_predicted_once(tmp_path, model):
    (tmp_path / "day1").mkdir()
    shutil.copy(NEUTROPHIL, tmp_path / "day1" / "a.jpg")
    out = tmp_path / "cells.json"
    assert main(["predict", str(tmp_path / "day1"), str(tmp_path / "day1" / "a.jpg"),
                 "--model", str(model), "--out", str(out)]) == 0
    assert _names(out) == ["a.jpg"] and len(_OneCellPerImage.seen) == 1


def test_an_image_given_from_a_sibling_folder_is_named_so_that_it_reads_back(tmp_path, model, monkeypatch, capsys):
    (tmp_path / "smears").mkdir()
    (tmp_path / "results").mkdir()
    shutil.copy(NEUTROPHIL, tmp_path / "smears" / "a #1.jpg")
    monkeypatch.chdir(tmp_path / "results")
    assert main(["predict", "../smears/a #1.jpg", "--model", str(model), "--out", "cells.json"]) == 0
    assert _names(tmp_path / "results" / "cells.json") == ["a #1.jpg"]
    capsys.readouterr()
    assert main(["info", "cells.json", "--images", "../smears"]) == 0, capsys.readouterr().err


def test_an_image_too_small_to_hold_a_cell_is_skipped_with_its_name(tmp_path, model, capsys):
    folder = tmp_path / "smears"
    folder.mkdir()
    shutil.copy(NEUTROPHIL, folder / "field.jpg")
    Image.new("RGB", (1, 1), (200, 150, 170)).save(folder / "dot.png")
    Image.fromarray(np.full((7, 300, 3), 200, np.uint8)).save(folder / "strip.png")
    out = tmp_path / "cells.json"
    assert main(["predict", str(folder), "--model", str(model), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "dot.png: image of 1x1 px is too small to hold a cell" in err
    assert "strip.png: image of 300x7 px is too small to hold a cell" in err
    assert "2 image(s) skipped" in err and "Traceback" not in err
    assert _names(out) == ["field.jpg"]
    assert all(min(shape) >= 8 for shape in _OneCellPerImage.seen)


@pytest.mark.parametrize("size", ["0", "-1", "two"])
def test_a_batch_size_below_one_is_refused_by_the_parser(tmp_path, model, capsys, size):
    with pytest.raises(SystemExit) as stop:
        main(["predict", str(NEUTROPHIL), "--model", str(model), "--out", str(tmp_path / "c.json"),
              "--batch-size", size])
    assert stop.value.code == 2
    assert "--batch-size" in capsys.readouterr().err and not _OneCellPerImage.loaded


def test_an_output_that_cannot_be_written_is_refused_before_the_model_loads(tmp_path, model, capsys):
    missing = tmp_path / "no such folder" / "cells.json"
    assert main(["predict", str(NEUTROPHIL), "--model", str(model), "--out", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err == f"bloodview: error: {missing}: cannot be written: its folder {missing.parent} does not exist\n"
    assert main(["predict", str(NEUTROPHIL), "--model", str(model), "--out", str(tmp_path)]) == 1
    assert f"{tmp_path}: is a folder; give --out a file name" in capsys.readouterr().err
    assert not _OneCellPerImage.loaded and not _OneCellPerImage.seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_an_image_given_as_out_is_refused_and_kept(tmp_path, model, capsys):
    """Regression: ``predict a.jpg --out a.jpg`` (a slip for ``--out a.json``) wrote JSON over the picture."""
    picture = tmp_path / "a.jpg"
    shutil.copy(NEUTROPHIL, picture)
    assert main(["predict", str(picture), "--model", str(model), "--out", str(picture)]) == 1
    assert capsys.readouterr().err == (f"bloodview: error: {picture}: is an image file name; --out names the JSON "
                                       "file to write (e.g. cells.json)\n")
    assert picture.read_bytes() == NEUTROPHIL.read_bytes() and not _OneCellPerImage.loaded


def test_mask_pngs_beside_their_images_are_not_predicted(tmp_path, model, capsys):
    """Regression: predict on the Zheng folder (001.bmp + its mask 001.png) read 600 images for 300 crops."""
    folder = tmp_path / "Dataset 1"
    folder.mkdir()
    picture = np.asarray(Image.open(NEUTROPHIL).convert("RGB"))
    mask = np.zeros(picture.shape[:2], np.uint8)
    mask[100:200, 100:200] = 255
    for stem in ("001", "002"):
        Image.fromarray(picture).save(folder / f"{stem}.bmp")
        Image.fromarray(mask).save(folder / f"{stem}.png")
    Image.fromarray(picture).save(folder / "003.png")  # a picture saved as PNG, no mask of its own
    Image.fromarray(picture).save(folder / "004.jpg")
    Image.fromarray(mask).save(folder / "004_mask.png")
    out = tmp_path / "cells.json"
    assert main(["predict", str(folder), "--model", str(model), "--out", str(out)]) == 0
    assert f"3 mask file(s) beside their images left out (first: {folder / '001.png'})" in capsys.readouterr().err
    assert _names(out) == ["001.bmp", "002.bmp", "003.png", "004.jpg"]


DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "default"


@pytest.mark.slow
@pytest.mark.skipif(not (DEFAULT_MODEL / "model.json").is_file(), reason="no default model in resources/models")
@pytest.mark.parametrize("pixel_size", [[], ["--pixel-size", "0.1"]])
def test_the_real_model_skips_a_one_pixel_image_instead_of_crashing(tmp_path, capsys, pixel_size):
    """The crash itself: ValueError from core/scale.py (measured scale) or cv2.error from the
    red-cell finder (given scale), with a traceback, and nothing written for the good image."""
    folder = tmp_path / "smears"
    folder.mkdir()
    shutil.copy(NEUTROPHIL, folder / "field.jpg")
    Image.new("RGB", (1, 1), (200, 150, 170)).save(folder / "dot.png")
    out = tmp_path / "cells.json"
    assert main(["predict", str(folder), "--out", str(out), "--device", "cpu", *pixel_size]) == 0
    assert "dot.png: image of 1x1 px is too small to hold a cell" in capsys.readouterr().err
    assert _names(out) == ["field.jpg"]


def test_a_webp_is_read_from_a_folder_and_by_name(tmp_path, model):
    if not Image.registered_extensions().get(".webp"):
        pytest.skip("this Pillow has no WebP")
    (tmp_path / "smears").mkdir()
    Image.open(NEUTROPHIL).save(tmp_path / "smears" / "field.webp")
    out = tmp_path / "cells.json"
    assert main(["predict", str(tmp_path / "smears"), "--model", str(model), "--out", str(out)]) == 0
    assert _names(out) == ["field.webp"]
    assert main(["predict", str(tmp_path / "smears" / "field.webp"), "--model", str(model), "--out", str(out)]) == 0
    assert len(_OneCellPerImage.seen) == 2


def test_a_file_that_is_no_image_is_refused_naming_the_kinds_read(tmp_path, model, capsys):
    (tmp_path / "notes.txt").write_text("slide 3")
    assert main(["predict", str(tmp_path / "notes.txt"), "--model", str(model), "--out", str(tmp_path / "c.json")]) == 1
    err = capsys.readouterr().err
    assert "notes.txt: is not an image file (.bmp, .jpeg, .jpg, .png, .tif, .tiff, .webp)" in err
    assert not _OneCellPerImage.loaded


def test_grey_images_are_predicted_with_a_note_that_white_cells_need_colour(tmp_path, model, capsys):
    (tmp_path / "smears").mkdir()
    shutil.copy(NEUTROPHIL, tmp_path / "smears" / "colour.jpg")
    Image.open(NEUTROPHIL).convert("L").save(tmp_path / "smears" / "grey.png")
    out = tmp_path / "cells.json"
    assert main(["predict", str(tmp_path / "smears"), "--model", str(model), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"note: 1 image(s) have no colour (first: {tmp_path / 'smears' / 'grey.png'})" in err
    assert _names(out) == ["colour.jpg", "grey.png"]


def test_camera_files_are_read_as_shown_under_their_own_names(tmp_path, model):
    """EXIF-turned JPEG, upper-case suffix, spaces and non-ASCII names, a PNG named .jpg: each is read
    as every viewer shows it, and its size in the file written is that shown size."""
    folder = tmp_path / "lame 3 — é 中"
    folder.mkdir()
    picture = Image.open(NEUTROPHIL).convert("RGB").crop((0, 0, 60, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side, shown upright: 40 wide, 60 high
    picture.save(folder / "turned.jpg", exif=exif.tobytes())
    picture.save(folder / "CAMERA 01.JPG")
    picture.save(folder / "frottis é 中.jpg")
    picture.save(folder / "really a png.jpg", format="PNG")
    out = tmp_path / "cells.json"
    assert main(["predict", str(folder), "--model", str(model), "--out", str(out)]) == 0
    images = {i["file_name"]: (i["width"], i["height"]) for i in json.loads(out.read_text(encoding="utf-8"))["images"]}
    assert images == {"CAMERA 01.JPG": (60, 40), "frottis é 中.jpg": (60, 40), "really a png.jpg": (60, 40),
                      "turned.jpg": (40, 60)}
    assert sorted(_OneCellPerImage.seen) == [(40, 60)] * 3 + [(60, 40)]


class _ScaledPredictor(_OneCellPerImage):
    """Reads every image at the pixel size its name says (µm per pixel x 1000), as red cells would."""

    config = types.SimpleNamespace(images_per_gpu=2, pixel_size_um=0.1)

    def detect(self, arrays, batch_size=None, min_confidence=None, pixel_size=None, simplify=True, step_progress=None):
        from bloodview.core.scale import ScaleEstimate

        found = super().detect(arrays, batch_size, min_confidence, pixel_size, simplify)
        for one, um in zip(found, self.pixel_sizes):
            one.scale = ScaleEstimate(um, 7.5 / um, 12, "red cells", "good")
        return found


def test_images_magnified_beyond_the_models_reach_are_named(tmp_path, monkeypatch, capsys):
    """A field enlarged 12.5x is read clipped to the model's reach (8x): the user is told which."""
    _ScaledPredictor.pixel_sizes = [0.1, 0.008]  # the model's own scale; 12.5x beyond it
    model = stand_in_predict_model(monkeypatch, tmp_path, _ScaledPredictor)
    (tmp_path / "smears").mkdir()
    shutil.copy(NEUTROPHIL, tmp_path / "smears" / "a_normal.jpg")
    shutil.copy(NEUTROPHIL, tmp_path / "smears" / "b_enlarged.jpg")
    out = tmp_path / "cells.json"
    assert main(["predict", str(tmp_path / "smears"), "--model", str(model), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "note: 1 image(s) are magnified beyond what the model reads (first: b_enlarged.jpg, 0.008 µm" in err
    assert "a_normal.jpg" not in err
