"""Fixtures for the main-window tests (bloodview.gui): a window with test settings and a fake predictor.

The fake predictor stands in for ``bloodview.model.predict.Predictor`` (same
``predict(images, min_confidence=…)`` contract) so detection tests need no
TensorFlow and no trained model; it finds three square "cells" per image with
scores 0.95, 0.60 and 0.85 (boxes scaled to the image size).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PyQt6.QtCore import QSettings

from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.main_window import MainWindow
from bloodview.gui.prompts import Prompts

FAKE_CELLS = (((40, 40, 100, 100), "neutrophil", 0.95), ((200, 60, 250, 110), "lymphocyte", 0.60),
              ((300, 200, 340, 240), "platelet", 0.85))


class FakePredictor:
    def __init__(self, model_dir: Path):
        self.model_dir = Path(model_dir)
        self.calls = 0

    def predict(self, images, min_confidence=None, **_kw):
        self.calls += 1
        out = []
        for image in images:  # boxes are for a 640 x 480 BCCD field, scaled to the image
            sx, sy = image.shape[1] / 640, image.shape[0] / 480
            out.append([
                Instance([rectangle(box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)], cls, score=score,
                         source=Source.MODEL, origin=f"{self.model_dir.name}@test")
                for box, cls, score in FAKE_CELLS
                if min_confidence is None or score >= min_confidence
            ])
        return out


def make_fake_model(folder: Path, name: str = "fake-model") -> Path:
    """A model folder with only model.json (enough for the TF-free store listing)."""
    from bloodview.model.store import ModelInfo, write_model_info

    model_dir = folder / name
    model_dir.mkdir(parents=True, exist_ok=True)
    write_model_info(ModelInfo(name=name, backbone="resnet50",
                               class_names=["basophil", "eosinophil", "erythroblast", "ig",
                                            "lymphocyte", "monocyte", "neutrophil", "platelet"],
                               config={}, date="2026-11-25"), model_dir)
    return model_dir


def smear_folder(bccd_dir: Path, target: Path, count: int = 3, corrupt: bool = True) -> Path:
    """``count`` real BCCD fields copied into ``target`` (+ a corrupt ``broken.jpg``)."""
    target.mkdir(parents=True, exist_ok=True)
    for source in sorted((bccd_dir / "JPEGImages").glob("*.jpg"))[:count]:
        shutil.copy(source, target / source.name)
    if corrupt:
        (target / "broken.jpg").write_bytes(b"this is not a jpeg at all")
    return target


def new_window(qtbot, tmp_path: Path, predictor=FakePredictor, **kw) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, prompts=Prompts(non_interactive=True),
                        predictor_factory=predictor, recovery_dir=tmp_path / "recovery", **kw)
    # Unsaved cells would make the window refuse to close; a window left open stays the
    # active top-level over the screen and swallows later tests' mouse events.
    qtbot.addWidget(window, before_close_func=_discard_on_close)
    window.show()
    return window


def _discard_on_close(window: MainWindow) -> None:
    window.prompts.answers["unsaved"] = "Discard"


def read_json(path: Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


@pytest.fixture
def model_store(tmp_path, monkeypatch) -> Path:
    """A user model store holding one fake model; no default model."""
    monkeypatch.setenv("BLOODVIEW_MODEL_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("BLOODVIEW_DEFAULT_MODEL", str(tmp_path / "no-default"))
    make_fake_model(tmp_path / "store")
    return tmp_path / "store"


@pytest.fixture
def make_window(qtbot, tmp_path, model_store):
    """``make_window(**kw)`` -> a shown MainWindow using the fake predictor."""
    return lambda **kw: new_window(qtbot, tmp_path, **kw)


@pytest.fixture
def smears(tmp_path, bccd_dir) -> Path:
    """A folder of 3 real BCCD fields and one corrupt JPEG."""
    return smear_folder(bccd_dir, tmp_path / "smears")


@pytest.fixture
def window(make_window, smears):
    window = make_window()
    assert window.files.open([smears])
    return window


@pytest.fixture
def detect_current(qtbot):
    def run(window):
        with qtbot.waitSignal(window.detectionFinished, timeout=10000):
            assert window.models.detect("current")
        qtbot.wait(5)  # the panels refresh on the next turn of the event loop
    return run


@pytest.fixture
def fake_cells():
    return FAKE_CELLS


@pytest.fixture
def review_current(detect_current):
    """Detect cells in the current image and confirm them all, like a technician would."""
    def run(window):
        detect_current(window)
        image = window.session.current_image
        window.select_cells([i.id for i in image.instances], center=False)
        window.review.accept_and_next()
        return image
    return run


@pytest.fixture
def app_font(qapp):
    """``app_font(points)`` sets the application font as a desktop's "larger text" setting does;
    the usual font comes back after the test."""
    from PyQt6.QtGui import QFont
    from PyQt6.QtWidgets import QApplication

    before = QFont(qapp.font())

    def set_points(points: float) -> None:
        font = QFont(before)
        font.setPointSizeF(points)
        QApplication.setFont(font)

    yield set_points
    QApplication.setFont(before)
