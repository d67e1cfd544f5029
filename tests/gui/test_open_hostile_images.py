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


def _stacks(folder, count):
    """``count`` three-page TIFFs (z-stacks) and one plain JPEG field in ``folder``."""
    import numpy as np
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(2)
    pages = [Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)) for _ in range(3)]
    for i in range(count):
        pages[0].save(folder / f"stack{i}.tif", save_all=True, append_images=pages[1:])
    pages[0].save(folder / "field.jpg")
    return folder


def test_a_multi_page_tiff_is_said_once_when_opened_not_only_logged_at_each_decode(make_window, qtbot, tmp_path,
                                                                                  caplog):
    """Before, the only word was a log line, written for the canvas, each thumbnail and each detection."""
    import logging

    folder = _stacks(tmp_path / "stacks", 1)
    window = make_window()
    with caplog.at_level(logging.WARNING, logger="bloodview.io.images"):
        assert window.files.open([folder])
        window.session.set_current(1)  # stack0.tif on the canvas (field.jpg is first)
        with qtbot.waitSignal(window.detectionFinished, timeout=10000):
            assert window.models.detect("all")
        window.session.set_current(0)
        window.session.set_current(1)
    shown = [text for title, text in window.prompts.messages if title == "Opened with warnings"]
    assert len(shown) == 1 and "stack0.tif: has 3 full-size pages; only page 1 is read" in shown[0]
    logged = [r for r in caplog.records if r.name == "bloodview.io.images" and "full-size pages" in r.getMessage()]
    assert len(logged) <= 1  # decoded for the canvas (twice), the thumbnail and detection


def test_many_multi_page_tiffs_opened_together_are_said_in_one_warning(tmp_path):
    from bloodview.gui.opening import open_paths

    result = open_paths([_stacks(tmp_path / "stacks", 5)])
    (warning,) = result.warnings
    assert warning.startswith("5 images are multi-page TIFFs")
    assert "stack0.tif, stack1.tif, stack2.tif and 2 more" in warning
    plain = open_paths([tmp_path / "stacks" / "field.jpg", tmp_path / "stacks" / "stack3.tif"])
    assert [w.split(": has")[0] for w in plain.warnings] == [str(tmp_path / "stacks" / "stack3.tif")]
