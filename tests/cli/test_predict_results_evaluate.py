"""``bloodview predict --format results`` then ``bloodview evaluate`` against a lab's own ground truth.

Regression: predict numbers its images 1..N in the order it reads them (and the model's classes
1..K); evaluate paired results with the ground truth by id, so against a ground truth numbered
otherwise (almost any real one) it scored each image's cells against another image's, and printed
plausible, wrong figures.
"""

from __future__ import annotations

import json
import shutil
import types
from pathlib import Path

import pytest
from PIL import Image

from bloodview.cli.main import main
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance
from bloodview.io.coco import save_coco
from tests.cli.stand_in import stand_in_predict_model

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
NEUTROPHIL = SAMPLES / "pbc_neutrophil_BNE_67131.jpg"
LYMPHOCYTE = SAMPLES / "pbc_lymphocyte_LY_247228.jpg"
CELL = (40, 40, 120, 120)


class _NamesByReadOrder:
    """Stands in for the Mask R-CNN: one cell per image, a neutrophil in the first image read, then lymphocytes."""

    class_names = ["neutrophil", "lymphocyte"]
    info = types.SimpleNamespace(class_colors=None, cell_classifier=None)
    config = types.SimpleNamespace(images_per_gpu=1)
    read = 0

    @classmethod
    def load(cls, model_dir, **options):
        cls.read = 0
        return cls()

    def detect(self, arrays, batch_size=None, min_confidence=None, pixel_size=None, simplify=True, step_progress=None):
        from bloodview.core.instance import Source

        found = []
        for _ in arrays:
            name = "neutrophil" if type(self).read == 0 else "lymphocyte"
            type(self).read += 1
            cell = Instance(rectangle(*CELL), name, score=0.9, source=Source.MODEL)
            found.append(types.SimpleNamespace(instances=[cell], scale=None, glass_gains=None))
        return found


@pytest.fixture
def model(tmp_path, monkeypatch) -> Path:
    return stand_in_predict_model(monkeypatch, tmp_path, _NamesByReadOrder)


def test_predicted_results_are_scored_against_the_right_images_of_a_ground_truth_numbered_otherwise(
    tmp_path, model, capsys
):
    smears = tmp_path / "smears"
    smears.mkdir()
    shutil.copy(NEUTROPHIL, smears / "a.jpg")  # read first: the stand-in calls its cell a neutrophil
    shutil.copy(LYMPHOCYTE, smears / "b.jpg")
    results = tmp_path / "results.json"
    assert main(["predict", str(smears), "--model", str(model), "--format", "results", "--no-red-cells",
                 "--pixel-size", "0.1", "--out", str(results)]) == 0
    entries = json.loads(results.read_text())
    assert {(e["image_id"], e["file_name"]) for e in entries} == {(1, "a.jpg"), (2, "b.jpg")}

    # the lab's ground truth lists b.jpg first, with ids of its own
    width, height = Image.open(NEUTROPHIL).size
    assert Image.open(LYMPHOCYTE).size == (width, height)
    truth = Dataset([
        ImageAnnotation("b.jpg", width, height, [Instance([rectangle(*CELL)], "lymphocyte")]),
        ImageAnnotation("a.jpg", width, height, [Instance([rectangle(*CELL)], "neutrophil")]),
    ], ClassCatalogue.pbc())
    save_coco(truth, smears / "gt.json")
    assert [i["id"] for i in json.loads((smears / "gt.json").read_text())["images"]] == [1, 2]

    out = tmp_path / "report"
    assert main(["evaluate", "--gt", str(smears / "gt.json"), "--pred", str(results), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["classification"]["accuracy"] == pytest.approx(1.0)
    assert report["mask"]["mAP50"] == pytest.approx(1.0)
    assert report["warnings"] == []

    # the same file without names is read by its ids, as such files always were: here they fit (ids 1, 2,
    # sizes right) but number the images and classes predict's way, which is why predict writes the names
    nameless = [{k: v for k, v in e.items() if k not in ("file_name", "category_name")} for e in entries]
    (tmp_path / "nameless.json").write_text(json.dumps(nameless))
    assert main(["evaluate", "--gt", str(smears / "gt.json"), "--pred", str(tmp_path / "nameless.json"),
                 "--out", str(tmp_path / "by_id")]) == 0
    by_id = json.loads((tmp_path / "by_id" / "report.json").read_text())
    assert by_id["classification"]["accuracy"] == pytest.approx(0.0)
