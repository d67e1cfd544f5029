"""A technician's whole session, scripted on the real window with the real default model and real
PBC smears: open → detect → correct a class and an outline → sign off → export VIA (MakeSense) →
reopen the export from another folder (answering where the images are) → the retrain data set.

What a lab needs at the end: the corrected class and outline survive the round trip, the
signed-off image stays signed off and the other does not, the counts are the same before and
after, the report is a DRAFT while an image is unreviewed, and the retrain data hold only cells a
person checked. About 25 s on a 2-core CPU (TensorFlow loads in the worker thread).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtTest import QTest

from bloodview.gui.review import is_checked

from tests.gui.conftest import new_window

pytestmark = [pytest.mark.gui, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "resources" / "samples"
DEFAULT_MODEL = REPO / "resources" / "models" / "default"
SMEARS = ("pbc_eosinophil_EO_744173.jpg", "pbc_neutrophil_BNE_67131.jpg")
LEFT = Qt.MouseButton.LeftButton
NO_MOD = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def real_window(qtbot, tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")
    if not (DEFAULT_MODEL / "model.json").is_file() or not all((SAMPLES / s).is_file() for s in SMEARS):
        pytest.skip("the default model or the PBC sample smears are not in resources/")
    from bloodview.gui.workers.detect_worker import load_predictor

    monkeypatch.setenv("BLOODVIEW_MODEL_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("BLOODVIEW_DEFAULT_MODEL", str(DEFAULT_MODEL))
    return new_window(qtbot, tmp_path, predictor=load_predictor)


def counts(window) -> list[tuple[str, ...]]:
    """The differential dock over the whole project: class, checked, unchecked, count, % WBC."""
    window.differential.scope.setCurrentIndex(1)
    window.refresh_panels()
    table = window.differential.table
    return [tuple(table.item(r, c).text() for c in range(table.columnCount())) for r in range(table.rowCount())]


def drag(window, start: QPoint, end: QPoint, steps: int = 6) -> None:
    port = window.canvas.viewport()
    QTest.mousePress(port, LEFT, NO_MOD, start)
    for k in range(1, steps + 1):
        QTest.mouseMove(port, start + (end - start) * (k / steps))
    QTest.mouseRelease(port, LEFT, NO_MOD, end)


def test_open_detect_correct_sign_off_export_reopen_elsewhere_and_retrain_data(real_window, qtbot, tmp_path):
    window = real_window
    smears = tmp_path / "smears"
    smears.mkdir()
    for name in SMEARS:
        shutil.copy(SAMPLES / name, smears / name)

    # --- open and detect with the shipped model --------------------------------------------
    assert window.models.model_dir() == DEFAULT_MODEL
    assert window.files.open([smears])
    with qtbot.waitSignal(window.detectionFinished, timeout=180_000):
        assert window.models.detect("all")
    assert window.prompts.messages == [], window.prompts.messages
    first, second = window.session.dataset.images
    assert first.instances and second.instances, "the default model found no cell in a PBC smear"
    assert not any(is_checked(c) for c in first.instances + second.instances)

    # --- correct the centre cell's class with its key, and an outline by dragging a vertex ---
    window.session.set_current(0)
    qtbot.wait(10)
    centre = max(first.instances, key=lambda c: c.area)
    target, key = ("basophil", Qt.Key.Key_1) if centre.class_name != "basophil" else ("monocyte", Qt.Key.Key_6)
    window.canvas.setFocus()
    window.select_cells([centre.id], center=False)
    QTest.keyClick(window.canvas, key)
    assert first.find(centre.id).class_name == target and first.find(centre.id).corrected

    window.select_cells([centre.id], center=False)
    vertex = first.find(centre.id).polygons[0][0].copy()
    start = window.canvas.mapFromScene(QPointF(*vertex))
    end = start + QPoint(6, 4)
    drag(window, start, end)
    moved = window.canvas.mapToScene(end)
    moved = np.array([moved.x(), moved.y()])
    outline = first.find(centre.id).polygons[0]
    assert np.abs(outline - moved).sum(axis=1).min() < 0.01, "the vertex drag did not change the outline"
    assert first.find(centre.id).class_name == target  # the outline edit kept the correction

    # --- confirm the rest and sign the image off (merging a cell found twice, if any) -------
    window.review.select_all()
    window.review.accept_and_next()
    window.prompts.answers["sign_off_overlaps"] = "Merge, then sign off"
    assert window.review.sign_off(), window.prompts.messages
    assert first.signed_off and not second.signed_off
    assert all(is_checked(c) for c in first.instances)
    corrected = [(c.class_name, tuple(np.round(c.bbox))) for c in first.instances if c.corrected]
    assert (target, tuple(np.round(first.find(centre.id).bbox))) in corrected
    before = counts(window)
    classes = window.session.dataset.classes
    checked = {c.class_name for c in first.instances}
    for name, n_checked, n_unchecked, *_ in before:  # checked cells: exactly the signed-off image's
        cls = next(c.name for c in classes if c.display_name == name)
        assert int(n_checked) == sum(c.class_name == cls for c in first.instances)
        assert int(n_unchecked) <= sum(c.class_name == cls for c in second.instances)
    assert sum(int(r[1]) for r in before) == len(first.instances)
    assert "1 of 2 images signed off — a draft count" in window.differential.totals.text()
    report = window.files.export_report(tmp_path / "draft.html").read_text(encoding="utf-8")
    assert "<title>DRAFT" in report and "1 of 2 image(s) not signed off" in report

    # --- export VIA (MakeSense) and reopen it from another folder ---------------------------
    (tmp_path / "export").mkdir()
    exported = window.files.export("export_makesense_vgg", tmp_path / "export" / "session.json")
    assert exported is not None and exported.is_file(), window.prompts.messages
    mailed = tmp_path / "inbox" / "from-the-lab" / "session.json"
    mailed.parent.mkdir(parents=True)
    shutil.copy(exported, mailed)
    window.prompts.answers.update(unsaved="Discard", recover=False, images_folder=str(smears))
    assert window.files.open([mailed]), window.prompts.messages
    assert window.session.kind == "annotations" and not window.session.broken
    assert window.files.remembered_images_folder(mailed) == smears

    again_first = window.session.dataset.find(first.image_path.name)
    again_second = window.session.dataset.find(second.image_path.name)
    assert again_first is not None and again_second is not None
    # the corrected class and outline survive
    survived = next(c for c in again_first.instances if c.class_name == target and c.corrected)
    assert np.abs(survived.polygons[0] - moved).sum(axis=1).min() < 0.05
    assert sorted(c.class_name for c in again_first.instances) == sorted(c.class_name for c in first.instances)
    # the signed-off state and who did it; model guesses stay unchecked
    assert again_first.signed_off and not again_second.signed_off
    assert again_first.sign_off_history and again_first.sign_off_history[-1].by
    assert all(is_checked(c) for c in again_first.instances)
    assert not any(is_checked(c) for c in again_second.instances)
    assert len(again_second.instances) == len(second.instances)
    # the counts are the same
    assert counts(window) == before

    # --- the data set the Retrain dialog would train on (training is not started) ----------
    window.models.retrain()
    dialog = window.models.retrain_dialog
    assert "1 images with" in dialog.summary.text()
    request = dialog.request(tmp_path / "training")
    dialog.close()
    coco = json.loads(Path(request.data).read_text(encoding="utf-8"))
    assert [Path(i["file_name"]).name for i in coco["images"]] == [first.image_path.name]
    assert (Path(request.images) / coco["images"][0]["file_name"]).is_file()
    names = {c["id"]: c["name"] for c in coco["categories"]}
    assert sorted(names[a["category_id"]] for a in coco["annotations"]) == \
        sorted(c.class_name for c in again_first.instances)
    assert target in checked and target in {names[a["category_id"]] for a in coco["annotations"]}
