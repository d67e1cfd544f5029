"""``bloodview evaluate --model ... 2>> eval.log``: the log got the progress bar's every redraw,
joined by carriage returns into one unreadable line; now whole lines, as ``predict`` writes."""

from __future__ import annotations

import cv2
import numpy as np

from bloodview.cli import log_progress
from bloodview.cli.main import main
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.io.coco import save_coco
from tests.cli.stand_in import use_stand_in_predictor


class _OneNeutrophil:
    """Stands in for the Mask R-CNN (no TensorFlow): one neutrophil per image, reported image by image."""

    @classmethod
    def load(cls, model_dir, **options):
        return cls()

    def predict(self, images, progress=None):
        found = []
        for done, _ in enumerate(images, start=1):
            found.append([Instance([rectangle(0, 10, 20, 30)], "neutrophil", score=0.9, source=Source.MODEL)])
            if progress is not None:
                progress(done, len(images))
        return found


def test_evaluate_with_a_model_writes_whole_progress_lines_into_a_log(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(log_progress, "EVERY_S", 0.0)
    use_stand_in_predictor(monkeypatch, _OneNeutrophil)
    images = []
    for k in range(3):
        cv2.imwrite(str(tmp_path / f"{k}.png"), np.zeros((100, 100, 3), np.uint8))
        cell = Instance([rectangle(0, 10, 20, 30)], "neutrophil", source=Source.HUMAN)
        images.append(ImageAnnotation(f"{k}.png", 100, 100, [cell]))
    save_coco(Dataset(images, ClassCatalogue.pbc()), tmp_path / "gt.json")
    assert main(["evaluate", "--gt", str(tmp_path / "gt.json"), "--model", str(tmp_path / "m"),
                 "--out", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err, "no bar redraws in a log"
    assert "evaluate: 1 of 3 images, " in err and "evaluate: 2 of 3 images, " in err
