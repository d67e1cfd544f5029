"""``bloodview bootstrap`` refuses an output it could not write before segmenting anything.

Regression: ``--out masks/pbc.json`` with no ``masks`` folder segmented all 17,000 PBC
images (hours) and then failed, naming a hidden temporary file
(``masks/.pbc.json.fjaqokng.tmp No such file or directory``); ``--limit 0`` said that
no cell could be segmented in any image.
"""

from __future__ import annotations

import pytest

from bloodview.bootstrap import runner
from bloodview.cli.main import main


@pytest.fixture
def no_segmenting(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("segmentation started although the output cannot be written")

    monkeypatch.setattr(runner, "run_items", refuse)


@pytest.mark.parametrize("option", ["--out", "--montage"])
def test_a_missing_output_folder_is_named_before_any_work(pbc_dir, tmp_path, capsys, no_segmenting, option):
    missing = tmp_path / "masks" / "pbc.png"
    args = ["bootstrap", str(pbc_dir), "--out", str(tmp_path / "pbc.json"), "--limit", "2", "--workers", "1"]
    args += [option, str(missing)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err == f"bloodview: error: {missing}: cannot be written: its folder {missing.parent} does not exist\n"
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_is_a_folder_is_refused_before_any_work(pbc_dir, tmp_path, capsys, no_segmenting):
    assert main(["bootstrap", str(pbc_dir), "--out", str(tmp_path), "--limit", "2"]) == 1
    assert f"{tmp_path}: is a folder; give --out a file name" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--limit", "--montage-per-class"])
def test_counts_below_one_are_refused_by_the_parser(pbc_dir, tmp_path, capsys, no_segmenting, option):
    with pytest.raises(SystemExit) as stop:
        main(["bootstrap", str(pbc_dir), "--out", str(tmp_path / "m.json"), option, "0"])
    assert stop.value.code == 2
    assert f"argument {option}: must be at least 1, got '0'" in capsys.readouterr().err
