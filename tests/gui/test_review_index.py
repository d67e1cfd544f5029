"""The Review panel's queue and overlap search, worked out again only for the cells an edit
replaced (bloodview.gui.review_index), must say exactly what a full recompute says."""

from __future__ import annotations

import random

import pytest

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.gui.review import is_checked, overlapping_cells, queue_group, queue_groups, review_queue
from bloodview.gui.review_index import OverlapIndex, QueueIndex

pytestmark = pytest.mark.gui

CLASSES = ("neutrophil", "lymphocyte", "erythroblast", "rbc", "platelet", "smudge")  # smudge: not catalogued


def _catalogue(platelets: bool = True) -> ClassCatalogue:
    classes = ClassCatalogue(c for c in ClassCatalogue.pbc() if platelets or c.name != "platelet")
    classes.add("rbc")
    return classes


def _cell(rng: random.Random, number: int) -> Instance:
    """A box on a coarse grid, so that many cells overlap (some found "twice")."""
    x, y = rng.randrange(0, 400, 20), rng.randrange(0, 300, 20)
    side = rng.choice((30, 40, 60))
    return Instance([rectangle(x, y, x + side, y + side)], rng.choice(CLASSES), id=f"c{number}",
                    score=rng.choice((None, 0.3, 0.6, 0.6, 0.9)), source=rng.choice((Source.MODEL, Source.HUMAN)))


def _edit(rng: random.Random, image: ImageAnnotation, counter: list[int]) -> None:
    """One edit as the commands make it: a cell replaced (class, confirmation, moved), deleted or added;
    "reclass" changes an unchecked cell's class and leaves it unchecked, moving it between the queue's
    groups."""
    cells = image.instances
    kind = rng.choice(("class", "reclass", "confirm", "move", "delete", "add", "several"))
    if kind == "add" or not cells:
        counter[0] += 1
        image.add(_cell(rng, counter[0]), rng.randrange(len(cells) + 1))
    elif kind == "delete":
        image.remove(rng.choice(cells).id)
    elif kind == "several":
        for cell in rng.sample(cells, min(5, len(cells))):
            image.replace(cell.copy(reviewed=True))
    else:
        cell = rng.choice(cells)
        if kind == "class":
            image.replace(cell.copy(class_name=rng.choice(CLASSES), corrected=True))
        elif kind == "reclass":  # as a new detection's call replacing an unchecked cell's: still unchecked
            image.replace(cell.copy(class_name=rng.choice(CLASSES)))
        elif kind == "confirm":
            image.replace(cell.copy(reviewed=True))
        else:
            moved = _cell(rng, 0)
            image.replace(cell.copy(polygons=moved.polygons))


def test_overlaps_and_queue_after_random_edits_equal_a_full_recompute():
    rng = random.Random(7)
    counter = [0]
    images = []
    for name in ("a.png", "b.png", "c.png"):
        cells = []
        for _ in range(80):
            counter[0] += 1
            cells.append(_cell(rng, counter[0]))
        images.append(ImageAnnotation(name, 460, 360, cells))
    overlaps, queue = OverlapIndex(), QueueIndex()
    moved_group = 0
    for step in range(120):
        edited = rng.choice(images)
        before = {cell.id: cell.class_name for cell in edited.instances}
        _edit(rng, edited, counter)
        threshold = 0.75 if step < 80 else 0.5  # the threshold changed on the way
        classes = _catalogue(platelets=not 50 <= step < 70)  # and the catalogue (platelets then "other")
        groups = queue_groups(classes)
        moved_group += any(cell.id in before and queue_group(groups, before[cell.id]) != queue_group(
            groups, cell.class_name) and not is_checked(cell) for cell in edited.instances)
        for image in (images if step % 10 == 0 else [edited]):
            assert overlaps.overlaps_of(image) == overlapping_cells(image), f"step {step}"
        assert queue.queue(images, threshold, classes, limit=40) == review_queue(images, threshold, classes, limit=40)
        assert queue.queue(images, threshold, classes) == review_queue(images, threshold, classes)
    assert any(overlaps.overlaps_of(image) for image in images)  # the test saw overlaps at all
    assert moved_group >= 3  # class changes moved unchecked cells between the queue's groups
    assert {queue_group(groups, e.class_name) for e in review_queue(images, 0.5, classes)} == {0, 1, 2}
    removed = images.pop(0)  # an image removed from the project: the others' numbers shift
    assert queue.queue(images, 0.5, classes) == review_queue(images, 0.5, classes)
    overlaps.keep_only(images)
    assert id(removed) not in overlaps._images


def test_the_review_panel_shows_what_a_fresh_panel_shows_after_edits(qtbot):
    """Rows are removed and inserted where the queue changed: the table must end up as a
    panel filled from scratch shows it."""
    from bloodview.gui.panels.review_queue import ReviewQueuePanel

    rng = random.Random(3)
    counter = [0]
    dataset = Dataset(images=[ImageAnnotation(name, 460, 360, [_cell(rng, n) for n in range(k, k + 100)])
                              for name, k in (("a.png", 0), ("b.png", 1000))])
    counter[0] = 5000
    panel = ReviewQueuePanel(0.75)
    qtbot.addWidget(panel)
    for version in range(25):
        _edit(rng, rng.choice(dataset.images), counter)
        panel.refresh(dataset, 0, version)
        fresh = ReviewQueuePanel(0.75)
        qtbot.addWidget(fresh)
        fresh.refresh(dataset, 0, version)
        assert _texts(panel) == _texts(fresh), f"after edit {version}"
        assert panel.entries() == fresh.entries() and panel.overlaps() == fresh.overlaps()


def _texts(panel) -> list[tuple]:
    table = panel.table
    return [tuple((table.item(r, c).text(), table.item(r, c).toolTip()) for c in range(table.columnCount()))
            for r in range(table.rowCount())]
