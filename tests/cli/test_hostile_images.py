"""Hostile image files: read right when they are images, skipped with one line when not, never a crash.

Good: JPEG, 16-bit grey PNG, RGBA PNG, 8-bit grey PNG, an EXIF-rotated JPEG, a
microscope-camera style TIFF. Bad: a decompression bomb (a 50,000 x 50,000 PNG
of a few hundred bytes), truncated JPEG and PNG, a PNG with a damaged chunk, an
empty file and a text file named ``.jpg``. ``predict`` writes the good ones and
names each bad one; ``bootstrap`` does the same; ``convert`` refuses a data set
whose image cannot be read, naming it; the bomb is refused from its header
(peak memory measured in a fresh process).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
import sys
import types
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bloodview.cli.main import main
from bloodview.errors import ImageError
from bloodview.io.images import load_image, read_image_size
from tests.cli.stand_in import stand_in_predict_model

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "default"
GOOD = ("camera.jpg", "grey16.png", "rgba.png", "grey.png", "exif_rotated.jpg", "microscope.tif")
BAD = ("bomb.png", "truncated.jpg", "cut_short.png", "damaged_chunk.png", "empty.jpg", "notes.jpg")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(path: Path, side: int = 50_000) -> None:
    """A valid-looking 8-bit grey PNG header claiming ``side`` x ``side`` pixels, with one row of data."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (side + 1), 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b""))


def _jpeg_bytes(array: np.ndarray, **options) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="JPEG", **options)
    return out.getvalue()


def write_hostile_images(folder: Path, smear: Path | None = None) -> Path:
    """The six good and six bad files of the module doc in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb = np.asarray(Image.open(smear).convert("RGB")) if smear else np.full((60, 80, 3), (200, 150, 170), np.uint8)
    (folder / "camera.jpg").write_bytes(_jpeg_bytes(rgb))
    grey16 = np.tile(np.linspace(0, 65535, rgb.shape[1]).astype(np.uint16), (rgb.shape[0], 1))
    Image.fromarray(grey16).save(folder / "grey16.png")
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    rgba[:5, :5, 3] = 0  # a transparent corner
    Image.fromarray(rgba, "RGBA").save(folder / "rgba.png")
    Image.fromarray(rgb).convert("L").save(folder / "grey.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    (folder / "exif_rotated.jpg").write_bytes(_jpeg_bytes(rgb, exif=exif.tobytes()))
    Image.fromarray(rgb).save(folder / "microscope.tif", compression="tiff_lzw")
    bomb_png(folder / "bomb.png")
    jpeg = _jpeg_bytes(rgb)
    (folder / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    png = (folder / "grey.png").read_bytes()
    (folder / "cut_short.png").write_bytes(png[: len(png) // 2])
    damaged = bytearray(png)
    start = png.index(b"IDAT") + 8
    damaged[start:start + 16] = b"\xff" * 16
    (folder / "damaged_chunk.png").write_bytes(bytes(damaged))
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.jpg").write_text("sample 12, stained 3 May\n", encoding="utf-8")
    return folder


@pytest.fixture
def hostile(tmp_path) -> Path:
    return write_hostile_images(tmp_path / "smears")


def test_good_images_read_as_shown(hostile):
    for name in GOOD:
        array = load_image(hostile / name)
        assert array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] == 3, name
        assert read_image_size(hostile / name) == (array.shape[1], array.shape[0]), name
    assert load_image(hostile / "exif_rotated.jpg").shape[:2] == (80, 60)  # stored 80 wide, shown 60 wide
    grey16 = load_image(hostile / "grey16.png")
    assert grey16[0, 0, 0] == 0 and grey16[0, -1, 0] == 255  # 16-bit full range scaled, not clipped
    assert tuple(load_image(hostile / "rgba.png")[0, 0]) == (255, 255, 255)  # transparent = background


@pytest.mark.parametrize("name", BAD)
def test_bad_images_raise_an_image_error_naming_the_file(hostile, name):
    with pytest.raises(ImageError, match=name.replace(".", r"\.")):
        load_image(hostile / name)


def test_bomb_is_refused_from_its_header_with_bounded_memory(hostile):
    """Peak RSS of a fresh process that tries to read the 50,000 x 50,000 PNG (2.5 GB decoded).

    Read as VmHWM, which starts afresh at exec: Linux carries ``ru_maxrss`` over from the forked
    parent, so after the TensorFlow tests the child reported pytest's own 1.1 GiB."""
    assert (hostile / "bomb.png").stat().st_size < 10_000
    script = (
        "import resource, sys\n"
        "from bloodview.errors import ImageError\n"
        "from bloodview.io.images import load_image\n"
        "try:\n"
        "    load_image(sys.argv[1])\n"
        "except ImageError as exc:\n"
        "    print('refused:', exc)\n"
        "try:\n"
        "    print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')))\n"
        "except OSError:\n"
        "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(hostile / "bomb.png")],
                          capture_output=True, text=True, timeout=120)
    refused, peak_kib = done.stdout.strip().splitlines()
    assert "decompression bomb" in refused and "2500000000 pixels" in refused
    assert int(peak_kib) < 1024 * 1024, f"peak RSS {int(peak_kib) / 1024:.0f} MiB"


class _StandInPredictor:
    """Stands in for the Mask R-CNN (no TensorFlow): one neutrophil per image, the size it was given."""

    class_names = ["neutrophil"]
    info = types.SimpleNamespace(class_colors=None, cell_classifier=None)
    config = types.SimpleNamespace(images_per_gpu=2)
    seen: list[tuple[int, int]] = []

    @classmethod
    def load(cls, model_dir, tile_size=None, **options):
        return cls()

    def detect(self, arrays, batch_size=None, min_confidence=None, pixel_size=None, simplify=True, step_progress=None):
        from bloodview.core.geometry import rectangle
        from bloodview.core.instance import Instance, Source

        found = []
        for array in arrays:
            assert array.dtype == np.uint8 and array.shape[2] == 3
            self.seen.append(array.shape[:2])
            cell = Instance(rectangle(1, 1, 10, 10), "neutrophil", score=0.9, source=Source.MODEL)
            found.append(types.SimpleNamespace(instances=[cell], scale=None, glass_gains=None))
        return found


@pytest.fixture
def stand_in_model(tmp_path, monkeypatch):
    _StandInPredictor.seen = []
    return stand_in_predict_model(monkeypatch, tmp_path, _StandInPredictor)


def test_predict_skips_each_unreadable_image_and_writes_the_others(hostile, stand_in_model, tmp_path, capsys):
    """One bad file used to stop predict for the whole folder (exit 1, nothing written)."""
    out = tmp_path / "cells.json"
    assert main(["predict", str(hostile), "--model", str(stand_in_model), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    skipped = re.findall(r"^skipped: (\S+): ", err, flags=re.MULTILINE)
    assert sorted(Path(path).name for path in skipped) == sorted(BAD)
    assert "6 image(s) skipped" in err and "Traceback" not in err
    data = json.loads(out.read_text())
    assert sorted(image["file_name"] for image in data["images"]) == sorted(GOOD)
    assert len(data["annotations"]) == len(GOOD)
    sizes = {image["file_name"]: (image["width"], image["height"]) for image in data["images"]}
    assert sizes["exif_rotated.jpg"] == (60, 80)


def test_predict_with_only_unreadable_images_fails_and_writes_nothing(hostile, stand_in_model, tmp_path, capsys):
    for name in GOOD:
        (hostile / name).unlink()
    out = tmp_path / "cells.json"
    assert main(["predict", str(hostile), "--model", str(stand_in_model), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "bloodview: error: none of the 6 image(s) could be read; nothing written" in err
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.skipif(not (DEFAULT_MODEL / "model.json").is_file(), reason="no default model in resources/models")
def test_predict_with_the_default_model_on_two_good_and_four_bad_images(tmp_path, capsys):
    folder = tmp_path / "smears"
    folder.mkdir()
    for sample in ("pbc_neutrophil_BNE_67131.jpg", "pbc_lymphocyte_LY_247228.jpg"):
        shutil.copy(SAMPLES / sample, folder / sample)
    bad = write_hostile_images(tmp_path / "bad")
    for name in ("bomb.png", "truncated.jpg", "empty.jpg", "notes.jpg"):
        shutil.copy(bad / name, folder / name)
    out = tmp_path / "cells.json"
    assert main(["predict", str(folder), "--model", str(DEFAULT_MODEL), "--out", str(out), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert err.count("skipped: ") == 4 and "4 image(s) skipped" in err
    data = json.loads(out.read_text())
    assert sorted(i["file_name"] for i in data["images"]) == ["pbc_lymphocyte_LY_247228.jpg",
                                                              "pbc_neutrophil_BNE_67131.jpg"]
    assert data["annotations"], "the default model finds the cells of the PBC samples"


def test_bootstrap_skips_unreadable_images(tmp_path, capsys):
    root = tmp_path / "pbc"
    write_hostile_images(root / "neutrophil", smear=SAMPLES / "pbc_neutrophil_BNE_67131.jpg")
    out = tmp_path / "masks.json"
    assert main(["bootstrap", str(root), "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    unreadable = [line for line in printed.splitlines() if line.startswith("unreadable: ")]
    assert sorted(name for name in BAD if any(name in line for line in unreadable)) == sorted(BAD)
    assert "6 image(s) skipped (unreadable)" in printed
    images = {i["file_name"] for i in json.loads(out.read_text())["images"]}
    assert images <= {f"neutrophil/{name}" for name in GOOD} and "neutrophil/camera.jpg" in images


@pytest.mark.parametrize("bad", ["bomb.png", "notes.jpg", "empty.jpg"])
def test_convert_refuses_a_data_set_whose_image_cannot_be_read(hostile, tmp_path, capsys, bad):
    """VIA files need their images' sizes: an unreadable image is named, nothing is written."""
    via = {bad: {"filename": bad, "size": -1, "file_attributes": {}, "regions": [
        {"shape_attributes": {"name": "rect", "x": 1, "y": 1, "width": 5, "height": 5},
         "region_attributes": {"label": "neutrophil"}}]}}
    (hostile / "via.json").write_text(json.dumps(via), encoding="utf-8")
    out = tmp_path / "out.json"
    assert main(["convert", str(hostile / "via.json"), str(out), "--to", "coco"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bloodview: error: ") and bad in err and err.count("\n") == 1
    assert not out.exists()
