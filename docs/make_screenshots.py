"""Render the GUI screenshots in docs/images/ (offscreen, no display needed).

    .venv/bin/python docs/make_screenshots.py [--bccd ../shared/data/bccd] [--out docs/images]

What is shown: two BCCD smear fields and the eight PBC sample cells of
resources/samples. Without a trained model the "detections" come from a *demo
predictor*: the classical bootstrap segmenter (bloodview.bootstrap) outlines the
centred PBC cell (class from its PBC folder) and the white cells and platelets
inside the BCCD boxes (white cells get PBC classes in turn); scores are seeded
random numbers. The outlines are real segmentations, the scores are not model
output, and neither are the BCCD white-cell classes. The retrain
dialog is fed the progress lines of a short sample run. With ``--model DIR`` the
real model detects instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BCCD_FIELDS = ["BloodImage_00156", "BloodImage_00044"]
SAMPLES = REPO / "resources" / "samples"
WHITE = ["neutrophil", "lymphocyte", "monocyte", "eosinophil"]


def _key(rgb) -> tuple:
    return rgb.shape[:2] + (int(rgb[::7, ::7].sum()),)


class DemoPredictor:
    """Bootstrap outlines with labels from the data sets (see module doc); Predictor's API.

    PBC samples: the centred cell, class from the PBC folder; BCCD fields: the
    white cells and platelets inside the BCCD boxes. Scores are seeded random.
    """

    def __init__(self, files: dict[str, Path], bccd: Path):
        from bloodview.io.images import load_image

        self.bccd = bccd
        self.by_key = {_key(load_image(path)): name for name, path in files.items()}

    def predict(self, images, min_confidence=None, **_kw):
        return [self._cells(rgb) for rgb in images]

    def _cells(self, rgb):
        import numpy as np

        from bloodview.bootstrap.segment_box import clip_box, segment_in_box
        from bloodview.bootstrap.segment_cell import segment_cell
        from bloodview.core.geometry import mask_to_polygons
        from bloodview.core.instance import Instance, Source

        name = self.by_key.get(_key(rgb), "")
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        found = []
        if name.startswith("pbc_"):
            cls = name.split("_")[1]
            found.append((cls, segment_cell(rgb, cls)))
        elif name.startswith("bccd_"):
            xml = self.bccd / "Annotations" / f"{name[5:].rsplit('.', 1)[0]}.xml"
            for obj in ET.parse(xml).getroot().iter("object"):
                kind = obj.findtext("name", "").strip().lower()
                if kind not in ("wbc", "platelets"):
                    continue
                box = [float(obj.find("bndbox").findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")]
                clipped = clip_box(tuple(box), rgb.shape[1], rgb.shape[0])
                if clipped.box is None:
                    continue
                cls = "platelet" if kind == "platelets" else WHITE[len(found) % len(WHITE)]
                found.append((cls, segment_in_box(rgb, clipped.box, cls)))
        cells = []
        for cls, segmentation in found:
            polygons = mask_to_polygons(segmentation.mask, tolerance=1.5) if segmentation.found else []
            if polygons:
                cells.append(Instance(polygons[:1], cls, score=float(rng.uniform(0.5, 0.99)),
                                      source=Source.MODEL, origin="demo@screenshots"))
        return cells


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bccd", type=Path, default=REPO.parent / "shared" / "data" / "bccd")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    parser.add_argument("--model", type=Path, help="a real model folder to detect with")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bloodview-shots-"))
    os.environ["BLOODVIEW_MODEL_STORE"] = str(work / "store")
    os.environ["BLOODVIEW_RECOVERY_DIR"] = str(work / "recovery")
    if args.model is None:
        os.environ["BLOODVIEW_DEFAULT_MODEL"] = str(work / "none")
        _demo_model(work / "store")
    else:
        os.environ["BLOODVIEW_DEFAULT_MODEL"] = str(args.model)
    smears = work / "smears"
    smears.mkdir()
    files = {}
    for name in BCCD_FIELDS:
        files[f"bccd_{name}.jpg"] = args.bccd / "JPEGImages" / f"{name}.jpg"
    for path in sorted(SAMPLES.glob("pbc_*.jpg")):
        files[path.name] = path
    for name, path in files.items():
        shutil.copy(path, smears / name)
    args.out.mkdir(parents=True, exist_ok=True)
    predictor = None if args.model else DemoPredictor(files, args.bccd)
    return shoot(smears, args.out, predictor, work)


def _demo_model(store: Path) -> None:
    from bloodview.core.classes import PBC_CLASSES
    from bloodview.model.store import ModelInfo, write_model_info

    folder = store / "resnet50-pbc-demo"
    folder.mkdir(parents=True)
    write_model_info(ModelInfo(name="resnet50-pbc-demo", backbone="resnet50",
                               class_names=[c.name for c in PBC_CLASSES], config={}, date="2026-11-25",
                               final_losses={"loss": 0.61}), folder)


def shoot(smears: Path, out: Path, predictor, work: Path) -> int:
    from PyQt6.QtCore import QSettings
    from PyQt6.QtTest import QTest

    from bloodview.gui.app import create_application
    from bloodview.gui.main_window import MainWindow
    from bloodview.gui.prompts import Prompts

    app = create_application()
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    factory = (lambda _d: predictor) if predictor is not None else None
    window = MainWindow(settings=settings, prompts=Prompts(non_interactive=True), predictor_factory=factory)
    window.resize(1500, 940)
    window.show()
    window.files.open([smears])
    done = []
    window.detectionFinished.connect(done.append)
    window.models.detect("all")
    while not done:
        QTest.qWait(50)
    window.session.set_current(0)
    # a technician has checked a few cells: confirm two, correct one
    image = window.session.current_image
    ids = [i.id for i in image.instances]
    window.select_cells(ids[:2], center=False)
    window.review.accept_and_next()
    QTest.qWait(50)
    save(window, out / "main_window.png")

    # editor: the largest cell selected, zoomed so its outline handles show
    window.docks["review"].raise_()
    biggest = max(window.session.current_image.instances, key=lambda i: i.area)
    window.select_cells([biggest.id], center=False)
    window.canvas.center_on(biggest.id)
    QTest.qWait(50)
    save(window, out / "editor.png")

    # gallery: every cell of every image as thumbnails, the platelets selected
    window.canvas.fit()
    window.docks["gallery"].raise_()
    window.gallery.set_all_images(True)
    QTest.qWait(50)
    for row in range(window.gallery.list.count()):
        item = window.gallery.list.item(row)
        item.setSelected("Platelet" in item.text())
    QTest.qWait(50)
    save(window, out / "gallery.png")

    # differential over the whole project + report
    window.differential.scope.setCurrentIndex(1)
    QTest.qWait(50)
    save(window, out / "differential.png")

    # the retrain dialog, fed the progress lines of a short sample run; three PBC cells confirmed
    from bloodview.gui.workers.progress import parse_progress_line

    for index in (2, 3, 4):
        window.session.set_current(index)
        window.select_cells([i.id for i in window.session.current_image.instances], center=False)
        window.review.accept_and_next()
    window.session.set_current(0)

    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.name.setText("resnet50-pbc-2026-11-25")
    dialog.plot.epochs = 10
    import json
    import math

    for epoch in range(1, 7):
        for step in range(1, 11):
            x = epoch - 1 + step / 10
            loss = 2.4 * math.exp(-x / 3.5) + 0.35 + 0.05 * math.sin(7 * x)
            dialog._on_event(parse_progress_line(json.dumps({
                "event": "step", "epoch": epoch, "epochs": 10, "step": step, "steps": 10,
                "losses": {"loss": loss}, "eta_s": (10 - x) * 95})))
        dialog._on_event(parse_progress_line(json.dumps({
            "event": "epoch", "epoch": epoch, "epochs": 10, "losses": {"loss": loss},
            "val_losses": {"loss": loss * 1.12 + 0.05}, "eta_s": (10 - epoch) * 95})))
    dialog.start_button.setEnabled(False)
    dialog.cancel_button.setEnabled(True)
    QTest.qWait(50)
    save(dialog, out / "retrain_dialog.png")
    dialog.hide()
    window.session.mark_saved()
    window.close()
    app.processEvents()
    return 0


def save(widget, path: Path) -> None:
    """Grab ``widget`` and write it as an optimised PNG."""
    from PIL import Image
    from PyQt6.QtWidgets import QApplication

    QApplication.processEvents()
    widget.grab().save(str(path))
    Image.open(path).convert("RGB").save(path, optimize=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
