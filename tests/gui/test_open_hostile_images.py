"""The editor opens a folder of hostile images and detects cells in the readable ones only."""

from __future__ import annotations

import pytest

from tests.cli.test_hostile_images import BAD, GOOD, write_hostile_images

pytestmark = pytest.mark.gui


def test_folder_of_hostile_images_opens_and_detection_skips_the_unreadable(make_window, qtbot, tmp_path):
    folder = write_hostile_images(tmp_path / "smears")
    seen = []

    class Recording:
        def predict(self, images, min_confidence=None, **_kw):
            seen.extend(image.shape for image in images)
            return [[] for _ in images]

    window = make_window()
    assert window.files.open([folder])
    names = [image.image_path.name for image in window.session.dataset.images]
    assert sorted(names) == sorted(GOOD + BAD)
    window.models.runner.predictor_factory = lambda _d: Recording()
    with qtbot.waitSignal(window.detectionFinished, timeout=20000):
        assert window.models.detect("all")
    broken = {names[i] for i in window.session.broken}
    assert broken == set(BAD)
    assert all(window.image_list.is_marked_broken(names.index(name)) for name in BAD)
    assert len(seen) == len(GOOD) and all(len(shape) == 3 and shape[2] == 3 for shape in seen)
    assert (80, 60, 3) in seen  # the EXIF-rotated JPEG as shown
    assert "6 unreadable image(s) skipped" in window.status_label.text()


def test_opening_a_folder_of_png_pictures_in_the_app_gives_pictures_without_cells(tmp_path):
    import numpy as np
    from PIL import Image

    from bloodview.gui.opening import open_folder

    folder = tmp_path / "camera"
    folder.mkdir()
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(folder / "field.png")
    result = open_folder(folder)
    (image,) = result.dataset.images
    assert image.instances == [], "a picture is not its own mask"
