"""``bloodview predict`` says when the images look unlike the model's training images to its two networks."""

from __future__ import annotations

import shutil

import pytest

from bloodview.cli.main import main
from tests.conftest import REPO

DEFAULT_MODEL = REPO / "resources" / "models" / "default"
NOTE = "probably unlike its training images"


@pytest.mark.slow
@pytest.mark.skipif(not (DEFAULT_MODEL / "model.json").is_file(), reason="no default model in resources/models")
def test_another_labs_crops_get_the_note_and_pbc_crops_do_not(zheng_dir, pbc_dir, tmp_path, capsys):
    zheng = tmp_path / "zheng"
    zheng.mkdir()
    for number in range(1, 301, 20):  # 15 crops of Zheng's Dataset 1, another lab's stain
        shutil.copy(zheng_dir / f"{number:03d}.bmp", zheng / f"{number:03d}.bmp")
    assert main(["predict", str(zheng), "--out", str(tmp_path / "z.json"), "--device", "cpu",
                 "--pixel-size", "0.17"]) == 0
    err = capsys.readouterr().err
    assert NOTE in err and "bloodview train --init MODEL" in err

    pbc = tmp_path / "pbc"
    pbc.mkdir()
    for folder in ("neutrophil", "lymphocyte", "monocyte", "eosinophil", "basophil"):
        for image in sorted((pbc_dir / folder).glob("*.jpg"))[:3]:
            shutil.copy(image, pbc / image.name)
    assert main(["predict", str(pbc), "--out", str(tmp_path / "p.json"), "--device", "cpu"]) == 0
    assert NOTE not in capsys.readouterr().err
