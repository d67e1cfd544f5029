"""The gallery panel alone: captions and thumbnails a technician can read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtGui import QImage

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.instance import Instance, Source
from bloodview.gui.canvas.sample import ellipse
from bloodview.gui.panels.gallery import INDEX_ROLE, THUMB, GalleryPanel
from bloodview.gui.qt_image import qimage_to_numpy, to_qimage

pytestmark = pytest.mark.gui


def _gallery(qtbot, cells) -> GalleryPanel:
    grey = np.full((200, 300, 3), 215, dtype=np.uint8)
    picture = to_qimage(grey)
    dataset = Dataset([ImageAnnotation("field.png", 300, 200, cells)], ClassCatalogue.pbc())
    panel = GalleryPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 400)
    panel.set_classes(dataset.classes)
    panel.show()
    panel.show_cells(dataset, 0, lambda _i: picture, 0.75)
    return panel


def test_captions_give_the_whole_class_name_and_the_score_on_their_own_lines(qtbot):
    """Clumsy: captions were cut to 10 letters plus the score and elided ("Lymphocy…", "Neutrophil…")."""
    cells = [Instance([ellipse(20, 20, 80, 80)], "lymphocyte", score=0.91, source=Source.MODEL),
             Instance([ellipse(120, 20, 180, 80)], "ig", score=0.62, source=Source.MODEL),
             Instance([ellipse(200, 20, 260, 80)], "neutrophil")]
    panel = _gallery(qtbot, cells)
    texts = [panel.list.item(r).text() for r in range(panel.list.count())]
    assert texts == ["Lymphocyte\n0.91", "Immature\n0.62", "Neutrophil"]
    metrics = panel.list.fontMetrics()
    widest = max(metrics.horizontalAdvance(line) for text in texts for line in text.split("\n"))
    assert panel.list.gridSize().width() >= widest + 8  # the names are not elided


def test_a_platelet_thumbnail_shows_its_outline(qtbot):
    """Clumsy: a platelet a few pixels wide was a blur of background in its thumbnail."""
    platelet = Instance([ellipse(150, 100, 157, 106)], "platelet", score=0.8, source=Source.MODEL)
    big = Instance([ellipse(10, 10, 90, 90)], "monocyte", score=0.8, source=Source.MODEL)
    panel = _gallery(qtbot, [big, platelet])
    olive = np.array(ClassCatalogue.pbc()["platelet"].color)
    icons = [panel.list.item(r).icon().pixmap(THUMB, THUMB).toImage().convertToFormat(QImage.Format.Format_RGB32)
             for r in range(panel.list.count())]
    inner = [qimage_to_numpy(icon)[8:-8, 8:-8].astype(int) for icon in icons]  # inside the class frame
    near = [int((np.abs(pixels - olive).sum(axis=2) < 60).sum()) for pixels in inner]
    assert near[1] > 20  # the platelet's outline in its class colour
    assert near[0] == 0  # a big cell speaks for itself: no outline drawn over it


# --- thumbnails of other images, decoded off the GUI thread --------------------------------------
PALE_RED, PALE_BLUE = (230, 150, 150), (150, 150, 230)  # RGB


def _field(folder: Path, name: str, rgb) -> Path:
    """A real 600 x 400 image file of one colour."""
    import cv2

    path = folder / name
    cv2.imwrite(str(path), np.full((400, 600, 3), rgb[::-1], dtype=np.uint8))  # cv2 writes BGR
    return path


def _cells(count: int = 3) -> list:
    return [Instance([ellipse(40 + 150 * (k % 3), 40 + 150 * (k // 3), 140 + 150 * (k % 3), 140 + 150 * (k // 3))],
                     "neutrophil", score=0.9, source=Source.MODEL) for k in range(count)]


def _all_images(qtbot, paths, cells_per_image: int = 3, decode=None, height: int = 400):
    """A shown gallery in "All images" scope over ``paths``; image 0 is on screen (grey)."""
    dataset = Dataset([ImageAnnotation(p, 600, 400, _cells(cells_per_image)) for p in paths], ClassCatalogue.pbc())
    asked = []
    grey = to_qimage(np.full((400, 600, 3), 215, dtype=np.uint8))
    panel = GalleryPanel(decode=decode)
    qtbot.addWidget(panel)
    panel.resize(320, height)
    panel.set_classes(dataset.classes)
    panel.show()
    panel.set_all_images(True)
    panel.show_cells(dataset, 0, lambda index: (asked.append(index), grey)[1], 0.75)
    return panel, dataset, asked


def _centre(panel, row: int) -> np.ndarray:
    """The mean RGB of the middle of a thumbnail."""
    icon = panel.list.item(row).icon().pixmap(THUMB, THUMB).toImage().convertToFormat(QImage.Format.Format_RGB32)
    return qimage_to_numpy(icon)[THUMB // 2 - 6:THUMB // 2 + 6, THUMB // 2 - 6:THUMB // 2 + 6].reshape(-1, 3).mean(0)


def _shows(panel, row: int, rgb) -> bool:
    return bool(np.abs(_centre(panel, row) - np.array(rgb)).max() < 12)


def test_another_images_thumbnails_are_decoded_off_the_gui_thread_and_replace_their_placeholders(qtbot, tmp_path):
    """Known weakness: thumbnails of other images were decoded on the GUI thread as they scrolled
    into view (0.1-0.3 s a camera field), so scrolling a slide's gallery froze the window."""
    import threading
    import time

    from bloodview.io.images import load_image

    decoded_in = []  # the thread each decode ran in

    def slow_load(path):
        decoded_in.append(threading.current_thread())
        time.sleep(0.4)  # a camera field
        return load_image(path)

    paths = [_field(tmp_path, "a.png", (215, 215, 215)), _field(tmp_path, "b.png", PALE_RED)]
    panel, _dataset, asked = _all_images(qtbot, paths, decode=slow_load)
    qtbot.wait(100)  # the event loop turns while image b is decoded
    assert decoded_in and not _shows(panel, 3, PALE_RED)  # its placeholder (the frame) until then
    qtbot.waitUntil(lambda: _shows(panel, 3, PALE_RED), timeout=5000)
    assert all(_shows(panel, row, PALE_RED) for row in (3, 4, 5))  # each image decoded once, all its cells
    assert decoded_in and all(thread is not threading.main_thread() for thread in decoded_in)
    assert len(decoded_in) == 1
    assert 1 not in asked  # the window's picture (decoded on the GUI thread) only for the image on screen


def test_the_event_loop_keeps_turning_while_a_thumbnail_decodes(qtbot, tmp_path):
    """The window answers (timers fire, repaints happen) during a slow decode: no gap near its length."""
    import threading

    from PyQt6.QtCore import QElapsedTimer, QTimer

    from bloodview.io.images import load_image

    release = threading.Event()
    finished = threading.Event()

    def held_load(path):
        release.wait(5)
        finished.set()
        return load_image(path)

    paths = [_field(tmp_path, "a.png", (215, 215, 215)), _field(tmp_path, "b.png", PALE_RED)]
    panel, _dataset, _asked = _all_images(qtbot, paths, decode=held_load)
    clock, gaps, last = QElapsedTimer(), [], [0]
    clock.start()

    def tick():
        gaps.append(clock.elapsed() - last[0])
        last[0] = clock.elapsed()

    ticker = QTimer()
    ticker.timeout.connect(tick)
    ticker.start(10)
    QTimer.singleShot(300, release.set)  # the decode takes 300 ms
    qtbot.waitUntil(lambda: _shows(panel, 3, PALE_RED), timeout=5000)
    ticker.stop()
    assert finished.is_set()
    assert len(gaps) > 10 and max(gaps[1:]) < 150, gaps  # on the GUI thread it was one gap of 300 ms


def test_the_thumbnails_in_view_are_decoded_first_and_those_never_in_view_not_at_all(qtbot, tmp_path):
    """Scrolled straight to the end, the images at the end are decoded first; those only passed over
    are not decoded (the laziness of "All images": a slide of 40 camera fields stays cheap)."""
    import threading

    from bloodview.io.images import load_image

    lock, order = threading.Lock(), []

    def recording_load(path):
        with lock:
            order.append(path.name)
        return load_image(path)

    paths = [_field(tmp_path, f"f{k:02d}.png", PALE_RED if k == 11 else PALE_BLUE) for k in range(12)]
    panel, _dataset, _asked = _all_images(qtbot, paths, cells_per_image=6, decode=recording_load, height=300)
    panel.list.scrollToBottom()  # before the event loop turned: nothing asked for yet
    last = panel.list.count() - 1
    qtbot.waitUntil(lambda: _shows(panel, last, PALE_RED), timeout=5000)
    qtbot.wait(100)
    assert order and order[0] in ("f10.png", "f11.png"), order
    assert not {"f01.png", "f02.png", "f03.png"} & set(order), order  # never in view
    assert len(order) == len(set(order))  # each image decoded at most once


@pytest.mark.parametrize("change", ["new image set", "images removed"])
def test_a_decode_finishing_after_the_image_set_changed_is_ignored(qtbot, tmp_path, change):
    """Image 1 was red; the set changed (a project opened, or an image removed, so index 1 is
    another file, blue) while red was being decoded: red must not land on the new image's cells."""
    import threading

    from bloodview.io.images import load_image

    release = threading.Event()
    started = threading.Event()
    decoded = []

    def gated_load(path):
        decoded.append(path.name)
        if path.name == "red.png":
            started.set()
            release.wait(5)
        return load_image(path)

    grey_path = _field(tmp_path, "grey.png", (215, 215, 215))
    paths = [grey_path, _field(tmp_path, "red.png", PALE_RED)]
    panel, dataset, _asked = _all_images(qtbot, paths, decode=gated_load)
    qtbot.waitUntil(started.is_set, timeout=5000)  # red is being decoded
    blue = _field(tmp_path, "blue.png", PALE_BLUE)
    grey = to_qimage(np.full((400, 600, 3), 215, dtype=np.uint8))
    if change == "new image set":  # the same cells (ids, boxes) on image 1, but now another file
        moved = Dataset([dataset.images[0], ImageAnnotation(blue, 600, 400, dataset.images[1].instances)],
                        ClassCatalogue.pbc())
        panel.show_cells(moved, 0, lambda _i: grey, 0.75)
    else:
        dataset.images[1].image_path = blue
        panel.forget_pictures()  # what the window does when images are removed: indices moved
        panel.show_cells(dataset, 0, lambda _i: grey, 0.75)
    release.set()
    qtbot.waitUntil(lambda: _shows(panel, 3, PALE_BLUE), timeout=5000)
    qtbot.wait(100)  # red's result, if it were taken, would have landed by now
    assert all(_shows(panel, row, PALE_BLUE) for row in (3, 4, 5))
    assert decoded == ["red.png", "blue.png"]


def test_an_unreadable_image_gets_cannot_read_thumbnails_that_say_why(qtbot, tmp_path):
    """A corrupt camera file must not crash the gallery nor leave a blank frame that looks loading."""
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a jpeg at all")
    panel, _dataset, _asked = _all_images(qtbot, [_field(tmp_path, "a.png", (215, 215, 215)), broken])
    qtbot.waitUntil(lambda: "cannot read" in panel.list.item(3).toolTip(), timeout=5000)
    assert "broken.jpg" in panel.list.item(3).toolTip()
    light = (np.abs(qimage_to_numpy(panel.list.item(3).icon().pixmap(THUMB, THUMB).toImage())
                    [20:52, 8:64].astype(int) - 208).max(axis=2) < 30).sum()
    assert light > 20  # the words "cannot read" in the thumbnail
    assert panel.list.item(0).toolTip().find("cannot read") == -1  # the readable image is unaffected
    panel.set_filter("neutrophil")  # listed again: still marked, without decoding again
    assert "cannot read" in panel.list.item(3).toolTip()


def _slow_loader():
    """``(started, finished, load)``: the project's loader, held 0.3 s once it starts (events say when)."""
    import threading

    from bloodview.io.images import load_image

    started, finished = threading.Event(), threading.Event()

    def slow_load(path):
        started.set()
        threading.Event().wait(0.3)
        picture = load_image(path)
        finished.set()
        return picture

    return started, finished, slow_load


def test_closing_the_panel_while_a_thumbnail_decodes_is_clean(qtbot, tmp_path, qtlog):
    """Closing the window mid-decode: no crash, no exception from the pool thread, no Qt warning."""
    from PyQt6 import sip

    started, finished, slow_load = _slow_loader()

    paths = [_field(tmp_path, "a.png", (215, 215, 215)), _field(tmp_path, "b.png", PALE_RED)]
    panel, _dataset, _asked = _all_images(qtbot, paths, decode=slow_load)
    qtbot.waitUntil(started.is_set, timeout=5000)
    panel.close()
    sip.delete(panel)  # as the window's teardown deletes it; at once, without waiting for the decode
    assert not finished.is_set()
    qtbot.waitUntil(finished.is_set, timeout=5000)
    qtbot.wait(100)  # the finished decode's result is posted to nobody
    assert not [r for r in qtlog.records if "destroy" in r.message.lower() or "delete" in r.message.lower()]


def test_cut_squares_keeps_a_cell_at_the_edge_in_its_place():
    """A square reaching past the picture's edge is black there, as QImage.copy gave it."""
    from bloodview.gui.workers.thumbnails import cut_squares

    picture = np.full((100, 100, 3), 200, dtype=np.uint8)
    crops = cut_squares(picture, (("edge", (-50, 0, 100)), ("inside", (10, 10, 50))), THUMB)
    assert crops["edge"].shape == (THUMB, THUMB, 3) and crops["inside"].shape == (THUMB, THUMB, 3)
    assert crops["edge"][:, : THUMB // 2 - 2].max() == 0 and crops["edge"][:, THUMB // 2 + 2:].min() == 200
    assert (crops["inside"] == 200).all()


def test_closing_the_window_while_the_gallery_decodes_is_clean(make_window, smears, qtbot, monkeypatch, qtlog):
    """The real window: quitting while another image's thumbnails decode neither hangs nor warns."""
    from bloodview.gui.workers import thumbnails

    started, finished, slow_load = _slow_loader()

    monkeypatch.setattr(thumbnails, "load_image", slow_load)
    window = make_window()
    assert window.files.open([smears])
    for image in window.session.dataset.images:
        image.set_instances(_cells())
    window.docks["gallery"].raise_()
    window.gallery.set_all_images(True)
    window.refresh_panels()
    qtbot.waitUntil(started.is_set, timeout=5000)
    window.prompts.answers["unsaved"] = "Discard"
    assert window.close()  # at once: nothing waits for the decode under way
    assert not finished.is_set()
    qtbot.waitUntil(finished.is_set, timeout=5000)
    qtbot.wait(100)
    assert not [r for r in qtlog.records if "destroy" in r.message.lower() or "delete" in r.message.lower()]


# --- what the gallery tells the window, and what it takes from it ---------------------------------
def test_an_image_found_unreadable_is_reported_once_on_the_gui_thread(qtbot, tmp_path):
    """Regression: with decoding moved to the pool, the gallery drew "cannot read" but told nobody."""
    import threading

    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a jpeg at all")
    reports = []
    panel = GalleryPanel()
    qtbot.addWidget(panel)
    panel.imageUnreadable.connect(lambda index, why: reports.append(
        (index, why, threading.current_thread() is threading.main_thread())))
    dataset = Dataset([ImageAnnotation(p, 600, 400, _cells()) for p in
                       (_field(tmp_path, "a.png", (215, 215, 215)), broken)], ClassCatalogue.pbc())
    panel.resize(320, 400)
    panel.set_classes(dataset.classes)
    panel.show()
    panel.set_all_images(True)
    panel.show_cells(dataset, 0, lambda _i: None, 0.75)
    qtbot.waitUntil(lambda: bool(reports), timeout=5000)
    assert len(reports) == 1 and reports[0][0] == 1 and "broken.jpg" in reports[0][1]
    assert reports[0][2]  # delivered on the GUI thread, where the window may touch its widgets
    panel.set_filter("neutrophil")  # listed again: known unreadable, not reported again
    qtbot.wait(100)
    assert len(reports) == 1


def test_the_images_list_marks_an_image_the_gallery_cannot_read(make_window, smears, qtbot):
    """As before thumbnails moved off the GUI thread: a field that became unreadable after opening
    (a truncated copy, a share gone) is marked "cannot be read" in the Images list, with the reason."""
    import threading

    window = make_window()
    assert window.files.open([smears])
    for image in window.session.dataset.images:
        image.set_instances(_cells())
    names = [image.image_path.name for image in window.session.dataset.images]
    index = next(i for i, name in enumerate(names) if i > 0 and i not in window.session.broken)
    window.session.dataset.resolve_image(window.session.dataset.images[index]).write_bytes(b"not a jpeg any more")
    assert not window.image_list.is_marked_broken(index)
    threads = []
    window.session.imageChanged.connect(lambda _i: threads.append(threading.current_thread()))
    window.docks["gallery"].raise_()
    window.gallery.set_all_images(True)
    window.refresh_panels()
    qtbot.waitUntil(lambda: window.image_list.is_marked_broken(index), timeout=5000)
    assert names[index] in window.session.broken[index]
    assert set(threads) == {threading.main_thread()}


def test_thumbnails_of_an_image_the_window_holds_are_cut_from_it_without_decoding(qtbot, tmp_path):
    """Regression: the gallery decoded again, on the pool, a picture the window had decoded already."""
    decoded = []

    def recording_load(path):
        from bloodview.io.images import load_image

        decoded.append(path.name)
        return load_image(path)

    paths = [_field(tmp_path, "a.png", (215, 215, 215)), _field(tmp_path, "red.png", PALE_RED),
             _field(tmp_path, "blue.png", PALE_BLUE)]
    dataset = Dataset([ImageAnnotation(p, 600, 400, _cells()) for p in paths], ClassCatalogue.pbc())
    grey = to_qimage(np.full((400, 600, 3), 215, dtype=np.uint8))
    held_red = to_qimage(np.full((400, 600, 3), PALE_RED, dtype=np.uint8))  # as the window decoded it
    panel = GalleryPanel(decode=recording_load)
    qtbot.addWidget(panel)
    panel.resize(320, 800)
    panel.set_classes(dataset.classes)
    panel.show()
    panel.set_all_images(True)
    panel.show_cells(dataset, 0, lambda _i: grey, 0.75, held=lambda index: held_red if index == 1 else None)
    qtbot.waitUntil(lambda: all(_shows(panel, row, PALE_BLUE) for row in (6, 7, 8)), timeout=5000)
    assert all(_shows(panel, row, PALE_RED) for row in (3, 4, 5))
    assert decoded == ["blue.png"]  # the held picture was not decoded again


def test_the_window_lends_the_gallery_its_pictures_but_the_gallery_adds_none(make_window, smears, qtbot,
                                                                              monkeypatch):
    """Images already seen on the canvas are not decoded again for their thumbnails, and the others'
    pictures stay out of the window's cache (its memory budget is the canvas's)."""
    from bloodview.gui.workers import thumbnails
    from bloodview.io.images import load_image

    decoded = []

    def recording_load(path):
        decoded.append(path.name)
        return load_image(path)

    monkeypatch.setattr(thumbnails, "load_image", recording_load)
    window = make_window()
    assert window.files.open([smears])
    images = window.session.dataset.images
    readable = [i for i in range(len(images)) if i not in window.session.broken]
    assert len(readable) >= 3
    window.session.set_current(readable[1])  # seen on the canvas: its picture is in the window's cache
    window.session.set_current(readable[0])
    for image in images:  # cells found since (no thumbnail of them cut while their image was on screen)
        image.set_instances(_cells())
    window.docks["gallery"].raise_()
    window.gallery.set_all_images(True)
    window.refresh_panels()
    unseen = images[readable[2]].image_path.name
    qtbot.waitUntil(lambda: unseen in decoded and not window.gallery._loader.busy(), timeout=10000)
    qtbot.wait(50)
    assert images[readable[1]].image_path.name not in decoded
    assert images[readable[0]].image_path.name not in decoded
    assert window.pictures.held(readable[2]) is None  # decoded on the pool, never into the cache
    light = [_centre(window.gallery, row).mean() for row in range(window.gallery.list.count())
             if window.gallery.list.item(row).data(INDEX_ROLE) == readable[1]]
    assert light and min(light) > 60  # drawn from the held picture, not the dark frame


def test_quitting_after_qt_deleted_the_decode_pool_is_quiet(qapp, monkeypatch):
    """docs/make_screenshots.py ended with "RuntimeError: wrapped C/C++ object of type QThreadPool has been
    deleted" from the atexit hook: Qt had torn the pool down with the application first."""
    from PyQt6 import sip
    from PyQt6.QtCore import QThreadPool

    from bloodview.gui.workers import thumbnails

    pool = QThreadPool()
    monkeypatch.setattr(thumbnails._POOLS, "pool", pool)
    sip.delete(pool)
    assert thumbnails.stop_decoding() is True
