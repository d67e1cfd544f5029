"""The image scale in the editor: status bar, Model → Pixel size…, cell sizes in µm, kept in the project."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from PyQt6.QtWidgets import QDialogButtonBox, QLabel

from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.core.measure import PixelSize
from bloodview.core.scale import ScaleEstimate, scale_from_pixel_size
from bloodview.io.project import load_project

pytestmark = pytest.mark.gui

MEASURED = ScaleEstimate(0.1, 75.0, 41, "red cells", "good")
FALLBACK = ScaleEstimate(0.109, 68.8, 0, "model default", "weak")


@dataclass
class Found:
    """Like bloodview.model.predict.ImageDetections."""

    instances: list
    scale: ScaleEstimate | None
    tiles: int = 1
    resize_factor: float = 1.0
    glass_gains: tuple[float, float, float] | None = None


class ScalePredictor:
    """One 60 x 60 px neutrophil per image; read at the pixel size given, else as ``measured`` says."""

    def __init__(self, measured: ScaleEstimate | None = MEASURED, glass_gains=None):
        self.measured = measured
        self.glass_gains = glass_gains  # as the predictor reports another lab's glass colour balanced
        self.asked: list = []

    def predict(self, images, min_confidence=None, **_kw):
        raise AssertionError("detect() should be used when the predictor has it")

    def detect(self, images, min_confidence=None, pixel_size=None, **_kw):
        self.asked.append(pixel_size)
        cell = Instance([rectangle(100, 100, 160, 160)], "neutrophil", score=0.95, source=Source.MODEL)
        scale = scale_from_pixel_size(pixel_size) if pixel_size else self.measured
        return [Found([cell.copy()], scale, glass_gains=self.glass_gains) for _ in images]


def scale_text(window) -> str:
    return window.statusBar().findChild(QLabel, "scaleLabel").text()


def size_column(window) -> list[str]:
    table = window.instances
    return [table.item(row, table.columnCount() - 1).text() for row in range(table.rowCount())]


@pytest.fixture
def scaled(make_window, smears):
    predictor = ScalePredictor()
    window = make_window(predictor=lambda _d: predictor)
    assert window.files.open([smears])
    return window, predictor


def set_pixel_size_in_dialog(window, qtbot, value: float) -> None:
    window.acts["pixel_size"].trigger()
    dialog = window.scale.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=2000)
    dialog.spin.setValue(value)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.wait(5)


def test_detection_shows_the_measured_scale_and_each_cells_size(scaled, detect_current, tmp_path):
    window, predictor = scaled
    assert scale_text(window) == "Scale: unknown (Model → Pixel size…)"
    assert size_column(window) == []
    detect_current(window)
    assert predictor.asked == [None]  # auto: the model measures the red cells
    assert scale_text(window) == "Scale 0.1 µm/px (red cells, 41 measured)"
    diameter = 2 * math.sqrt(60 * 60 * 0.01 / math.pi)  # 3600 px² at 0.1 µm/px
    assert size_column(window) == [f"{diameter:.1f}"]
    assert window.isWindowModified()
    window.session.save_project(tmp_path / "proj")
    reopened = load_project(tmp_path / "proj").dataset.images[window.session.current_index]
    assert reopened.pixel_size == PixelSize(0.1, "red cells", 41)


def test_switching_images_shows_each_ones_scale(scaled, detect_current, qtbot):
    window, _ = scaled
    detect_current(window)
    window.session.set_current(2)
    qtbot.wait(5)
    assert scale_text(window) == "Scale: unknown (Model → Pixel size…)"
    window.session.set_current(0)
    qtbot.wait(5)
    assert scale_text(window) == "Scale 0.1 µm/px (red cells, 41 measured)"


def test_project_pixel_size_is_given_to_the_model_and_saved(scaled, detect_current, qtbot, tmp_path):
    window, predictor = scaled
    window.session.save_project(tmp_path / "proj")
    assert not window.isWindowModified()
    set_pixel_size_in_dialog(window, qtbot, 0.25)
    assert window.isWindowModified()  # a project change
    assert scale_text(window) == "Scale 0.25 µm/px (given)"
    detect_current(window)
    assert predictor.asked == [0.25]
    assert size_column(window) == [f"{2 * math.sqrt(3600 * 0.0625 / math.pi):.1f}"]
    window.files.save()
    project = load_project(tmp_path / "proj")
    assert project.settings["pixel_size_um"] == 0.25
    assert project.dataset.images[0].pixel_size == PixelSize(0.25, "given")

    set_pixel_size_in_dialog(window, qtbot, 0.0)  # back to auto: the old value no longer holds
    assert scale_text(window) == "Scale: unknown (Model → Pixel size…)"
    assert size_column(window) == [""]
    detect_current(window)
    assert predictor.asked == [0.25, None]
    assert scale_text(window) == "Scale 0.1 µm/px (red cells, 41 measured)"


def test_no_red_cells_says_so_and_gives_no_sizes(make_window, smears, detect_current):
    predictor = ScalePredictor(measured=FALLBACK)
    window = make_window(predictor=lambda _d: predictor)
    assert window.files.open([smears])
    detect_current(window)
    assert scale_text(window) == "Scale 0.109 µm/px (model default — no red cells found)"
    assert size_column(window) == [""]  # a guess is not a measurement


def test_a_predictor_without_scales_still_detects(window, detect_current):
    """Predictors with only .predict (older models' stand-ins) work as before; no scale is invented."""
    detect_current(window)
    assert len(window.session.current_image.instances) == 3
    assert window.session.current_image.pixel_size is None
    assert scale_text(window) == "Scale: unknown (Model → Pixel size…)"
    assert set(size_column(window)) == {""}


ARGV_CLI = """
import json, sys
from pathlib import Path
Path(%(seen)r).write_text(json.dumps(sys.argv[1:]))
out = Path(sys.argv[sys.argv.index("--out") + 1]); out.mkdir(parents=True)
(out / "report.md").write_text("# Evaluation")
"""


def test_retrain_and_evaluate_get_the_projects_pixel_size(scaled, review_current, qtbot, tmp_path):
    import json
    import sys

    window, _ = scaled
    review_current(window)
    set_pixel_size_in_dialog(window, qtbot, 0.25)
    window.models.retrain()
    request = window.models.retrain_dialog.request(tmp_path / "train")
    assert request.args()[-2:] == ["--pixel-size", "0.25"]
    seen = tmp_path / "argv.json"
    (tmp_path / "cli.py").write_text(ARGV_CLI % {"seen": str(seen)})
    window.models.cli_command = [sys.executable, str(tmp_path / "cli.py")]
    window.models.evaluate()
    dialog = window.models.evaluate_dialog
    with qtbot.waitSignal(dialog.finishedReport, timeout=20000):
        dialog.start()
    argv = json.loads(seen.read_text())
    assert argv[0] == "evaluate" and argv[argv.index("--pixel-size") + 1] == "0.25"


def test_crash_recovery_brings_back_the_scale_detection_found(make_window, smears, detect_current, qtbot):
    predictor = ScalePredictor()
    crashed = make_window(predictor=lambda _d: predictor, autosave_interval_s=0)
    crashed.files.open([smears])
    detect_current(crashed)
    crashed.session.autosave(wait=True)
    again = make_window()  # the program "crashed": nothing saved; the same folder opens again
    assert again.files.open([smears])
    assert again.session.dataset.images[0].pixel_size == PixelSize(0.1, "red cells", 41)
    qtbot.wait(5)
    assert scale_text(again) == "Scale 0.1 µm/px (red cells, 41 measured)"


@pytest.mark.parametrize("gains", [None, (1.0, 0.9, 1.17)])
def test_status_bar_says_when_another_labs_glass_colour_was_balanced(make_window, smears, detect_current, gains):
    """A technician whose lamp the model never saw is told the detector balanced the glass colour
    (as `bloodview predict` says it); an image inside the model's range says nothing of it."""
    window = make_window(predictor=lambda _d: ScalePredictor(glass_gains=gains))
    assert window.files.open([smears])
    detect_current(window)
    message = window.status_label.text()
    assert message.startswith("Detection finished: 1 cells found in 1 image(s)")
    said = "glass colour of 1 image(s) outside the model's training range, balanced for detection"
    assert (said in message) == (gains is not None)


class CameraPredictor(ScalePredictor):
    """Images whose top-left pixel is dark have no usable red cell: read at the model default."""

    def detect(self, images, min_confidence=None, pixel_size=None, **_kw):
        self.asked.append(pixel_size)
        cell = Instance([rectangle(100, 100, 160, 160)], "neutrophil", score=0.95, source=Source.MODEL)
        out = []
        for k, image in enumerate(images):
            given = pixel_size[k] if isinstance(pixel_size, list) else pixel_size
            if isinstance(given, ScaleEstimate):
                scale = given
            elif given:
                scale = scale_from_pixel_size(given)
            else:
                scale = FALLBACK if image[0, 0].sum() < 30 else MEASURED
            out.append(Found([cell.copy()], scale))
        return out


def camera_window(make_window, qtbot, folder, shapes, crowded: int):
    """Images of ``shapes`` in ``folder`` (image ``crowded`` with no red cells), opened and detected all."""
    import numpy as np
    from PIL import Image

    folder.mkdir()
    for k, shape in enumerate(shapes):
        pixels = np.full((*shape, 3), 220, np.uint8)
        if k == crowded:
            pixels[0, 0] = 0  # the predictor's sign of an image without a usable red cell
        Image.fromarray(pixels).save(folder / f"img_{k}.png")
    predictor = CameraPredictor()
    window = make_window(predictor=lambda _d: predictor)
    assert window.files.open([folder])
    with qtbot.waitSignal(window.detectionFinished, timeout=10000):
        assert window.models.detect("all")
    qtbot.wait(5)
    return window, predictor, {image.image_path.name: image.pixel_size for image in window.session.dataset.images}


@pytest.mark.parametrize("crowded", [3, 0])  # first in the run: held back until the others measured it
def test_an_image_without_red_cells_takes_the_scale_its_camera_gave_the_others(make_window, tmp_path, qtbot, crowded):
    """Detect all on one camera's fields: the crowded one is read again at the others' scale."""
    window, predictor, scales = camera_window(make_window, qtbot, tmp_path / "camera", [(120, 160)] * 4,
                                              crowded=crowded)
    assert all(scales[f"img_{k}.png"] == PixelSize(0.1, "red cells", 41) for k in range(4) if k != crowded)
    assert scales[f"img_{crowded}.png"] == PixelSize(0.1, "same camera", 123)
    # asked once plainly, and once more for the crowded field at the camera's scale
    camera = predictor.asked[-1][0]
    assert len(predictor.asked) == 5 and camera.source == "same camera" and camera.um_per_pixel == pytest.approx(0.1)
    cells = window.session.dataset.images[crowded].instances
    assert len([c for c in cells if c.source == Source.MODEL]) == 1  # its cells once, not twice
    window.session.set_current(crowded)
    qtbot.wait(5)
    assert "same camera" in scale_text(window) and size_column(window)[0] != ""  # sized in µm: measured


def test_the_cameras_scale_needs_three_agreeing_images_of_the_same_size(make_window, tmp_path, qtbot):
    _, predictor, scales = camera_window(make_window, qtbot, tmp_path / "two", [(120, 160), (120, 160), (100, 100)],
                                         crowded=2)
    assert scales["img_2.png"].source == "model default" and len(predictor.asked) == 3


def test_a_folder_whose_camera_never_gets_a_scale_is_still_shown_image_by_image(make_window, tmp_path, qtbot):
    """Crops without red cells (another lab's): at most MAX_WAITING are held back, the rest come at once."""
    from bloodview.gui.workers.detect_worker import MAX_WAITING

    count = MAX_WAITING + 3
    predictor = CameraPredictor()
    window = make_window(predictor=lambda _d: predictor)
    done: list[int] = []
    window.models.runner.imageDone.connect(lambda index, _cells: done.append(index))
    _make_crops(tmp_path / "crops", count)
    assert window.files.open([tmp_path / "crops"])
    with qtbot.waitSignal(window.detectionFinished, timeout=10000):
        assert window.models.detect("all")
    qtbot.wait(5)
    assert sorted(done) == list(range(count)) and len(predictor.asked) == count  # none read twice, none lost
    assert done[: count - MAX_WAITING] == list(range(MAX_WAITING, count))  # the later ones came as they were read
    assert {image.pixel_size.source for image in window.session.dataset.images} == {"model default"}


def _make_crops(folder, count):
    import numpy as np
    from PIL import Image

    folder.mkdir()
    for k in range(count):
        pixels = np.full((100, 100, 3), 220, np.uint8)
        pixels[0, 0] = 0
        Image.fromarray(pixels).save(folder / f"crop_{k:02d}.png")


@pytest.mark.parametrize("um, warned", [(0.1, False), (0.008, True)])
def test_status_bar_names_images_magnified_beyond_the_models_reach(make_window, smears, detect_current, um, warned):
    """A field enlarged 12.5x beyond the model's pixel size is read clipped (its cells 1.7x larger than the
    model learnt them): the technician is told to check its cells, as `predict` says."""
    window = make_window(predictor=lambda _d: ScalePredictor(measured=ScaleEstimate(um, 7.5 / um, 30, "red cells", "good")))
    window.models.detection._safe_info = lambda: type("Info", (), {"config": {"pixel_size_um": 0.1}})()
    assert window.files.open([smears])
    detect_current(window)
    message = window.status_label.text()
    assert message.startswith("Detection finished: 1 cells found in 1 image(s)")
    assert ("1 image(s) magnified beyond what the model reads: check their cells" in message) == warned


def test_a_pixel_size_typed_over_auto_is_taken(scaled, qtbot):
    """Click into Model → Pixel size… (it says "auto") and type 0.17: Qt's own box kept "auto" and made
    "auto0.17", no number, so the typed size was silently dropped."""
    from PyQt6.QtCore import Qt

    window, _ = scaled
    window.acts["pixel_size"].trigger()
    dialog = window.scale.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=2000)
    assert dialog.spin.text() == "auto"
    qtbot.mouseClick(dialog.spin.lineEdit(), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.spin.lineEdit(), "0.17")
    assert dialog.spin.value() == pytest.approx(0.17)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.wait(5)
    assert scale_text(window) == "Scale 0.17 µm/px (given)"
