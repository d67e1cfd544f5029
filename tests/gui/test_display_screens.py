"""The window on the screens lab PCs have: a 1366 x 768 or 1280 x 720 laptop, and a person who set a
larger system font (the application font Qt takes from the desktop)."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QSize
from PyQt6.QtWidgets import QTableWidget

from bloodview.gui.app import fit_to_screen
from bloodview.gui.canvas.labels import LabelItem
from bloodview.gui.panels.differential import MIN_ROWS, TITLE_BAR_PX

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("points", [14, 16])
def test_the_window_fits_its_screen_with_a_larger_font(app_font, make_window, smears, detect_current, qtbot,
                                                      points):
    """Seen at 14 pt on a 1366 x 768 laptop: the window could not be made shorter than 769 px (795 px
    after a detection), so its status bar and the bottom of the docks fell off the screen: the
    differential's table insisted on showing every class row (its minimum height), whatever the
    screen. (The offscreen test screen is 800 px high; a title bar takes ~40 px of it.)"""
    app_font(points)
    window = make_window()
    assert window.files.open([smears])
    detect_current(window)
    window.refresh_panels()
    qtbot.wait(20)  # the count fits itself to the screen once the layouts have settled
    free = window.screen().availableGeometry().height() - TITLE_BAR_PX
    window.resize(1366, free)
    qtbot.wait(20)
    assert window.minimumSizeHint().height() <= free
    assert window.height() <= free
    table = window.differential.table
    assert table.viewport().height() >= MIN_ROWS * table.row_height()  # still a count to read; the rest scrolls


def test_class_names_stay_readable_with_a_larger_font(app_font, make_window, smears, detect_current, qtbot):
    """Seen at 14 pt: the docks kept their width, the number columns grew with the font, and the
    stretching class column got what was left: the Cells list showed colour swatches with no class
    name at all, the differential "B…", "E…". The tables now ask for a class name's width, so their
    docks grow instead."""
    app_font(14)
    window = make_window()
    assert window.files.open([smears])
    detect_current(window)
    window.refresh_panels()
    window.resize(1366, window.screen().availableGeometry().height() - TITLE_BAR_PX)
    qtbot.wait(20)
    cells = window.findChild(QTableWidget, "instanceList")
    tables = [cells, window.differential.table, window.findChild(QTableWidget, "reviewQueue"),
              window.findChild(QTableWidget, "classLegend")]
    for table in tables:
        needed = table.fontMetrics().horizontalAdvance("Monocyte")
        assert table.columnWidth(0) >= needed, table.objectName()
    # the Cells list: swatch, margins and "Red cell" whole (it read "Red …" beside "bootstrap")
    assert cells.columnWidth(0) >= cells.fontMetrics().horizontalAdvance("Red cell") + cells.iconSize().width() + 16


def test_cell_tags_grow_with_a_larger_font(app_font, make_window, smears, detect_current):
    """Seen at 14 pt: the docks' text was 14 pt and the tags on the cells stayed 8 pt, the one text a
    person who needs larger text could not read."""
    app_font(14)
    window = make_window()
    assert window.files.open([smears])
    detect_current(window)
    tags = [item for item in window.canvas.scene().items() if isinstance(item, LabelItem)]
    assert tags
    assert all(tag.point_size() >= 12 for tag in tags)


@pytest.mark.parametrize(("screen", "expected"), [((1366, 728), (1350, 688)), ((1280, 680), (1264, 640)),
                                                  ((2560, 1400), (1400, 900))])
def test_the_window_opens_no_larger_than_the_screen(screen, expected):
    """Seen on a 1366 x 768 laptop (728 px above its taskbar): the window opened at 1400 x 900, its
    status bar and the bottom of the docks below the screen's edge. A big screen keeps 1400 x 900."""
    assert fit_to_screen((1400, 900), QSize(*screen)) == expected


def test_a_long_image_name_keeps_its_cell_count_in_view(make_window, bccd_dir, tmp_path, qtbot):
    """Seen with a camera's long file names (and at 14 pt with BCCD's): the Images list scrolled
    sideways and "checked/total" at the end of each row was out of view; the name is now shortened
    in its middle instead."""
    folder = tmp_path / "fields"
    folder.mkdir()
    source = sorted((bccd_dir / "JPEGImages").glob("*.jpg"))[0]
    (folder / ("2026-12-07_ward-4_patient-000123_slide-2_field-017_x100-oil.jpg")).write_bytes(source.read_bytes())
    window = make_window()
    assert window.files.open([folder])
    qtbot.wait(20)
    view = window.image_list.list
    assert view.visualItemRect(view.item(0)).right() <= view.viewport().rect().right()
    assert not view.horizontalScrollBar().isVisible()
