"""``bloodview predict`` stopped half-way through a folder, as a lab's overnight script meets it.

Regressions:
- Ctrl-C or ``kill`` after hours of work left nothing on disk, and the same command read every
  image again: the COCO file is written once, at the end;
- ``kill`` (SIGTERM) ended the process at once, without a word (exit 143 from the shell alone);
- two runs given the same ``--out`` (a cron job started while the last one still ran) both wrote
  it, the last one silently winning;
- an ``--out`` on a disk that cannot be written was found only at the end, after every image.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bloodview.cli.main import main
from bloodview.cli.predict_journal import PredictJournal, partial_folder
from tests.cli.stand_in import stand_in_predict_model

ROOT = Path(__file__).resolve().parents[2]


class _Fields:
    """Stands in for the Mask R-CNN: cells and a red-cell scale that depend on the image's pixels,
    so a result carried over can be compared with one made again. The field whose top-left pixel
    is 0 has no red cells of its own (model default scale), the camera pass reads it again.
    ``stop_after`` images: the next call is Ctrl-C."""

    class_names = ["neutrophil", "lymphocyte"]
    info = types.SimpleNamespace(class_colors=None, cell_classifier=None)
    config = types.SimpleNamespace(images_per_gpu=1, pixel_size_um=0.1)
    read: list[str] = []
    stop_after: int | None = None

    @classmethod
    def load(cls, model_dir, **options):
        return cls()

    def detect(self, images, batch_size=None, min_confidence=None, pixel_size=None, simplify=True,
               step_progress=None, progress=None):
        from bloodview.core.geometry import rectangle
        from bloodview.core.instance import Instance, Source
        from bloodview.core.scale import ScaleEstimate

        found = []
        for k, image in enumerate(images):
            if self.stop_after is not None and len(self.read) >= self.stop_after:
                raise KeyboardInterrupt
            array = np.asarray(Image.open(image)) if isinstance(image, (str, Path)) else image
            seed = int(array[0, 0, 0])
            self.read.append(str(seed))
            given = pixel_size[k] if isinstance(pixel_size, list) else pixel_size
            if given is not None:
                scale = ScaleEstimate(float(getattr(given, "um_per_pixel", given)), 60.0, 40, "same camera", "good")
            elif seed == 0:
                scale = ScaleEstimate(0.1, 75.0, 0, "model default", "weak")
            else:
                scale = ScaleEstimate(0.08 + seed / 10000, 90.0, 30 + seed, "red cells", "good", 0.05)
            cells = [Instance(rectangle(1 + j, 2, 9.5 + j, 11.25), self.class_names[j % 2],
                              score=round(0.5 + seed / 1000 + j / 97, 6), source=Source.MODEL)
                     for j in range(1 + seed % 3)]
            found.append(types.SimpleNamespace(instances=cells, scale=scale, glass_gains=None))
        return found


@pytest.fixture
def fields(tmp_path, monkeypatch):
    """Six camera fields of one size (one without red cells of its own) and a stand-in model."""
    _Fields.read = []
    _Fields.stop_after = None
    folder = tmp_path / "smears of day 1 ä"
    folder.mkdir()
    for k, seed in enumerate((10, 0, 20, 30, 40, 50)):
        pixels = np.full((40, 60, 3), (200, 150, 170), np.uint8)
        pixels[0, 0, 0] = seed
        Image.fromarray(pixels).save(folder / f"field {k} é.png")
    monkeypatch.chdir(tmp_path)
    return folder, stand_in_predict_model(monkeypatch, tmp_path, _Fields)


def _predict(folder: Path, model: Path, out: Path, *options: str) -> int:
    return main(["predict", str(folder), "--model", str(model), "--out", str(out), "--batch-size", "1", *options])


def _without_date_and_ids(path: Path) -> dict:
    """The file less what differs between any two runs: the date and each cell's random id."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data["info"].pop("date_created")
    for annotation in data["annotations"]:
        annotation["bloodview"].pop("id")
    return data


def test_a_stopped_run_keeps_its_finished_images_and_the_same_command_carries_on(fields, tmp_path, capsys):
    folder, model = fields
    whole = tmp_path / "whole.json"
    assert _predict(folder, model, whole) == 0
    assert not partial_folder(whole).exists(), "the kept images are removed once --out is written"
    capsys.readouterr()

    out = tmp_path / "cells.json"
    _Fields.read, _Fields.stop_after = [], 3
    assert _predict(folder, model, out) == 130
    err = capsys.readouterr().err
    assert f"3 of 6 image(s) done are kept in {partial_folder(out)}: run the same command again" in err
    assert err.endswith("bloodview: interrupted\n")
    assert not out.exists()

    _Fields.read, _Fields.stop_after = [], None
    assert _predict(folder, model, out) == 0
    err = capsys.readouterr().err
    assert "carrying on: 3 of 6 image(s) done by an earlier run of this command" in err
    assert _Fields.read == ["30", "40", "50", "0"], "the three left, then the field without red cells again"
    assert _without_date_and_ids(out) == _without_date_and_ids(whole), "carried on, the file is the one an unstopped run writes"
    assert not partial_folder(out).exists()


def test_other_options_or_restart_read_every_image_again(fields, tmp_path, capsys):
    folder, model = fields
    out = tmp_path / "cells.json"
    _Fields.stop_after = 2
    assert _predict(folder, model, out, "--min-confidence", "0.5") == 130
    _Fields.read, _Fields.stop_after = [], None
    assert _predict(folder, model, out, "--min-confidence", "0.6") == 0
    assert len(_Fields.read) == 7, "six fields and the camera pass: nothing carried over from other options"
    assert "2 batch(es) of an earlier run set aside (another model or other options); starting over" in \
        capsys.readouterr().err

    _Fields.read, _Fields.stop_after = [], 2
    assert _predict(folder, model, out) == 130
    _Fields.read, _Fields.stop_after = [], None
    assert _predict(folder, model, out, "--restart") == 0
    assert len(_Fields.read) == 7
    assert "set aside (--restart)" in capsys.readouterr().err


def test_an_image_changed_since_the_stop_is_read_again(fields, tmp_path, capsys):
    folder, model = fields
    out = tmp_path / "cells.json"
    _Fields.stop_after = 2
    assert _predict(folder, model, out) == 130
    first = folder / "field 0 é.png"
    pixels = np.asarray(Image.open(first)).copy()
    pixels[0, 0, 0] = 11
    Image.fromarray(pixels).save(first)
    os.utime(first, ns=(time.time_ns(), time.time_ns() + 10**9))
    _Fields.read, _Fields.stop_after = [], None
    assert _predict(folder, model, out) == 0
    assert _Fields.read[0] == "11" and "carrying on: 1 of 6" in capsys.readouterr().err
    names = {i["file_name"]: i["id"] for i in json.loads(out.read_text(encoding="utf-8"))["images"]}
    assert sorted(names) == [f"field {k} é.png" for k in range(6)]


def test_a_second_run_with_the_same_out_is_refused_while_the_first_runs(fields, tmp_path, capsys):
    folder, model = fields
    out = tmp_path / "cells.json"
    first, _ = PredictJournal.open(out, {"another": "run"})
    try:
        assert _predict(folder, model, out) == 1
    finally:
        first.close()
    err = capsys.readouterr().err
    assert err == (f"bloodview: error: {out}: another bloodview predict is writing this file now (its finished "
                   f"images are in {partial_folder(out)}); wait for it to end or give another --out\n")
    assert _Fields.read == [] and not out.exists()
    assert _predict(folder, model, out) == 0, "once the first has ended, the second runs"


def test_a_folder_for_the_kept_images_that_cannot_be_made_stops_before_any_image_is_read(fields, tmp_path, capsys):
    folder, model = fields
    out = tmp_path / "cells.json"
    partial_folder(out).write_text("in the way")
    assert _predict(folder, model, out) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"bloodview: error: {partial_folder(out)}: cannot be written (") and err.count("\n") == 1
    assert _Fields.read == []


@pytest.mark.skipif(not Path("/proc/self").is_dir() or os.name != "posix", reason="needs /proc (Linux)")
def test_an_out_on_a_disk_that_cannot_be_written_is_refused_before_the_model_loads(fields, tmp_path, capsys):
    folder, model = fields
    assert _predict(folder, model, Path("/proc/cells.json")) == 1
    err = capsys.readouterr().err
    assert err.startswith("bloodview: error: /proc/cells.json") and err.count("\n") == 1
    assert _Fields.read == []


SCRIPT = textwrap.dedent("""
    import sys, time
    from tests.cli.test_scripting_predict_carry_on import _Fields
    from tests.cli.stand_in import stand_in_predict_model

    class Slow(_Fields):
        def detect(self, images, **options):
            print("detect", flush=True)
            time.sleep(0.3)
            return super().detect(images, **options)

    class Patch:
        def setitem(self, mapping, key, value):
            mapping[key] = value

    from pathlib import Path
    stand_in_predict_model(Patch(), Path(sys.argv[1]), Slow)
    from bloodview.cli.main import main
    sys.exit(main(sys.argv[2:]))
""")


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM is a POSIX signal")
def test_sigterm_keeps_the_finished_images_says_so_and_exits_143(fields, tmp_path, capsys):
    folder, model = fields
    out = tmp_path / "cells.json"
    home = tmp_path / "run"  # the child's own stand-in model folder, left unused: it reads ``model``
    home.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(home), "predict", str(folder), "--model", str(model),
         "--out", str(out), "--batch-size", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, text=True,
    )
    try:
        for _ in range(3):  # three images under way: two of them finished
            assert process.stdout.readline() == "detect\n"
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143
    kept = int(err.split(" of 6 image(s) done are kept in ")[0].rsplit("\n", 1)[-1])
    assert kept >= 2 and err.endswith("run the same command again to carry on from there (--restart to read "
                                      "them all again)\nbloodview: terminated\n"), err
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))
    assert _predict(folder, model, out) == 0
    assert f"carrying on: {kept} of 6" in capsys.readouterr().err



def test_json_says_a_stopped_run_was_interrupted(fields, tmp_path, capsys):
    folder, model = fields
    _Fields.stop_after = 1
    assert _predict(folder, model, tmp_path / "cells.json", "--json") == 130
    assert json.loads(capsys.readouterr().out) == {"error": "interrupted", "kind": "interrupted"}
