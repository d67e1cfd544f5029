"""Exit codes and output channels a lab's scripts depend on (docs/formats.md, "Command line").

Regressions:
- ``bloodview count x.json | head -1`` (the reader gone before bloodview wrote all) printed
  ``bloodview: error: Broken pipe`` and exited 1, as if the count had failed;
- ``count --out`` (and ``bootstrap --out``, ``predict --out``) on a read-only disk was refused
  only when the file was written, after the work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bloodview.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
RUN = "import sys; from bloodview.cli.main import main; sys.exit(main())"


@pytest.fixture
def cells(tmp_path) -> Path:
    """A one-image COCO file with two cells, as predict writes it."""
    path = tmp_path / "cells.json"
    path.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}],
        "annotations": [{"id": k, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 100,
                         "bbox": [10 * k, 10, 10, 10], "segmentation": [[10 * k, 10, 10 * k + 10, 10, 10 * k + 10, 20,
                                                                          10 * k, 20]]} for k in (1, 2)],
        "categories": [{"id": 1, "name": "neutrophil"}],
    }))
    return path


@pytest.mark.skipif(os.name != "posix", reason="SIGPIPE and EPIPE are POSIX")
@pytest.mark.parametrize("command", [["count"], ["info", "--json"]])
def test_a_reader_that_has_gone_ends_the_command_quietly_with_141(cells, command):
    read, write = os.pipe()
    os.close(read)  # the reader (`head -1`) has gone before bloodview writes
    try:
        done = subprocess.run([sys.executable, "-c", RUN, command[0], str(cells), *command[1:]], stdout=write,
                              stderr=subprocess.PIPE, cwd=ROOT, timeout=120)
    finally:
        os.close(write)
    assert done.returncode == 141, "as cat or grep: 128 + SIGPIPE"
    assert done.stderr.decode() == "", "no 'Broken pipe' error, no 'Exception ignored' from the exit"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc (Linux), a folder that takes no file")
def test_count_out_in_a_folder_that_takes_no_file_is_refused_before_counting(cells, capsys):
    assert main(["count", str(cells), "--out", "/proc/counts.csv"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "", "nothing counted, nothing printed as if it had been"
    assert captured.err.startswith("bloodview: error: /proc/counts.csv: cannot be written: its folder /proc takes "
                                   "no new file (") and captured.err.count("\n") == 1


def test_the_probe_leaves_nothing_behind(cells, tmp_path):
    out = tmp_path / "counts.csv"
    assert main(["count", str(cells), "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.json", "counts.csv"]


@pytest.mark.parametrize("damage", ["missing", "damaged"])
def test_a_model_folder_missing_or_damaged_is_refused_before_tensorflow_starts(tmp_path, capsys, damage):
    """A typo in a script's --model used to cost TensorFlow's start-up (seconds) and a 'device:' line first."""
    model = tmp_path / "model"
    if damage == "damaged":
        model.mkdir()
        (model / "model.json").write_text("{")
    image = tmp_path / "a.png"
    from PIL import Image

    Image.new("RGB", (40, 30), (200, 150, 170)).save(image)
    assert main(["predict", str(image), "--model", str(model), "--out", str(tmp_path / "cells.json")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"bloodview: error: {model}"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "model"][: 2 if damage == "damaged" else 1]
