"""``bloodview predict``'s bar moves within a big field as its tiles run (it sat at 0/1 for the whole
field, ~28 s here and a minute or more on a lab PC, and could not be told from a hung command)."""

from __future__ import annotations

import json
import shutil
import types

import pytest
import tqdm

from bloodview.cli.main import main
from tests.cli.stand_in import stand_in_predict_model
from tests.cli.test_predict_inputs import LYMPHOCYTE, NEUTROPHIL


class _FourTiles:
    """Stands in for the Mask R-CNN: every image is a field of four tiles, reported one by one."""

    class_names = ["neutrophil"]
    info = types.SimpleNamespace(class_colors=None, cell_classifier=None)
    config = types.SimpleNamespace(images_per_gpu=1)

    @classmethod
    def load(cls, model_dir, **options):
        return cls()

    def detect(self, arrays, batch_size=None, min_confidence=None, pixel_size=None, simplify=True, step_progress=None):
        for done in range(5 if step_progress else 0):
            step_progress(done, 4)
        return [types.SimpleNamespace(instances=[], scale=None, glass_gains=None) for _ in arrays]


class _ShownBar(tqdm.tqdm):
    """The command's bar, drawn although stderr is not a terminal here."""

    def __init__(self, *args, **kwargs):
        kwargs["disable"] = False
        super().__init__(*args, **kwargs)


@pytest.fixture
def fields(tmp_path, monkeypatch):
    monkeypatch.setattr(tqdm, "tqdm", _ShownBar)
    folder = tmp_path / "fields"
    folder.mkdir()
    shutil.copy(NEUTROPHIL, folder / "a.jpg")
    shutil.copy(LYMPHOCYTE, folder / "b.jpg")
    return folder, stand_in_predict_model(monkeypatch, tmp_path, _FourTiles)


def test_the_bar_moves_through_each_image_as_its_tiles_run(fields, tmp_path, capsys):
    folder, model = fields
    out = tmp_path / "cells.json"
    assert main(["predict", str(folder), "--model", str(model), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    for shown in ("0.25/2", "0.5/2", "0.75/2", "1.25/2", "1.75/2", " 2/2"):
        assert shown in err, f"{shown} missing from the bar"
    assert "2.0/2" not in err and "2.5/2" not in err, "whole images counted once, as before"
    assert len(json.loads(out.read_text(encoding="utf-8"))["images"]) == 2
