"""Render every GUI picture in docs/images/ from a real run of the real program (offscreen).

One command does everything (measured on the busy 2-core CPU, niced, beside another
training run: 123–150 s wall, of which the retrain 80–100 s; peak memory 2.6 GB)::

    .venv/bin/python docs/make_screenshots.py [--model DIR] [--bccd ../shared/data/bccd] [--out docs/images]

What is real here: the main window is created as the program creates it, with no
predictor of our own, so "Detect" loads the model of ``--model`` (default: the
shipped default model, :func:`bloodview.model.store.default_model_dir`) exactly as a
user's click does; every outline, class and score shown is that model's output.
The pictures and what they show:

* ``app_detect.png``: the eight PBC sample cells of resources/samples after Detect.
* ``bccd_field.png``: the two BCCD sample fields of resources/samples after Detect
  (another lab's whole fields, read at their own scale; the first is shown).
* ``failure_bccd_field.png``: a whole BCCD field (``BloodImage_00156`` from ``--bccd``,
  else the first BCCD sample of resources/samples) after Detect (the model card's
  failure example).
* ``main_window.png``, ``editor.png``, ``gallery.png``, ``differential.png``: the
  PBC samples plus two BCCD fields after Detect; the only edit is "Confirm and next"
  on the PBC neutrophil image's cells whose class is that image's PBC label (what a
  technician would confirm); nothing else is changed.
* ``retrain_dialog.png``: the PBC sample images' detections confirmed as they are, then
  Model → Retrain… and "Start training" pressed in the dialog itself: the dialog
  writes the confirmed cells as COCO and its QProcess runs the real
  ``bloodview train … --init MODEL --progress jsonl`` (fine-tuning ``--model`` for
  ``--epochs`` x ``--steps`` steps, default 3 x 4, on the CPU). The picture is taken
  when that process has finished; the loss curve is its real progress lines. The
  trained model is thrown away with the temporary folder.
* ``adapt_dialog.png``: another lab's images as a technician would bring them after
  correcting them: ``--lab-images`` crops of Zheng Dataset 1 (every 10th of 300; their expert
  outlines and classes read with ``bloodview convert --from mask-png --reviewed``), the project
  pixel size set to ``--lab-pixel-size`` (0.17 µm), then Model → Retrain… in its default mode,
  "Adapt the current model", and "Start training" pressed: the real trainer runs the adapt
  recipe on the images not held out, then the dialog's ``bloodview evaluate`` processes score
  the current and the new model on the held-out images; the picture is taken when that
  comparison is on screen. Nothing in it is typed in by this script.
* ``adapt_classes_dialog.png``: the same images and steps with the dialog's "Adapt … cell
  classes only" (``bloodview train --classes-only``): the cell classifier's last layer learns the
  corrected classes, the detector is kept; the picture is taken when the comparison is on screen.

``--only-adaptation`` makes the last two pictures alone (about 5 minutes instead of 15).

``bootstrap_montage.png`` is not made here: ``bloodview bootstrap … --montage`` writes
it (command in docs/bootstrap.md). The model card's plots come from
``bloodview evaluate`` (docs/model-card.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BCCD_FIELDS = ["BloodImage_00156", "BloodImage_00044"]
SAMPLES = REPO / "resources" / "samples"
WINDOW_SIZE = (1500, 940)
TRAIN_TIMEOUT_S = 30 * 60
SHOWN_FIRST = "pbc_neutrophil"  # the image main_window.png and editor.png show


def build_parser() -> argparse.ArgumentParser:
    from bloodview.model.store import default_model_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=default_model_dir(),
                        help="the model folder that detects and is fine-tuned (default: the shipped one)")
    parser.add_argument("--bccd", type=Path, default=REPO.parent / "shared" / "data" / "bccd")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the retrain shown in the dialog")
    parser.add_argument("--steps", type=int, default=4, help="steps per epoch of that retrain")
    parser.add_argument("--lab-images", type=Path, default=REPO.parent / "shared" / "data" / "zheng_wbc" / "Dataset 1",
                        help="another lab's crops with expert masks (Zheng Dataset 1) for adapt_dialog.png")
    parser.add_argument("--lab-pixel-size", type=float, default=0.17, help="µm per pixel of those crops")
    parser.add_argument("--only-adaptation", action="store_true",
                        help="make adapt_dialog.png and adapt_classes_dialog.png only")
    return parser


def main() -> int:
    from bloodview.model.predict import Predictor
    from bloodview.model.store import is_model_dir

    args = build_parser().parse_args()
    model = args.model.resolve()
    if not is_model_dir(model):
        print(f"error: {model} is not a model folder (no model.json)", file=sys.stderr)
        return 2
    Predictor.load(model)  # fails here, with the model's own message, before any window opens
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bloodview-shots-"))
    os.environ["BLOODVIEW_MODEL_STORE"] = str(work / "store")
    os.environ["BLOODVIEW_DEFAULT_MODEL"] = str(model)
    os.environ["BLOODVIEW_RECOVERY_DIR"] = str(work / "recovery")
    bccd_samples = sorted(SAMPLES.glob("bccd_*.jpg"))
    pbc_samples = sorted(SAMPLES.glob("pbc_*.jpg"))
    fields = [args.bccd / "JPEGImages" / f"{name}.jpg" for name in BCCD_FIELDS]
    fields = [path for path in fields if path.is_file()] or bccd_samples
    if fields == bccd_samples:
        print(f"note: {args.bccd} not found; the BCCD samples of resources/samples stand in")
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        shoot(args, work, pbc_samples, bccd_samples, fields)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


def folder_of(work: Path, name: str, files: list[Path]) -> Path:
    folder = work / name
    folder.mkdir()
    for path in files:
        target = path.name if path.name.startswith(("bccd_", "pbc_")) else f"bccd_{path.name}"
        shutil.copy(path, folder / target)
    return folder


def open_and_detect(window, folder: Path) -> None:
    from PyQt6.QtTest import QTest

    window.session.mark_saved()
    if not window.files.open([folder]):
        raise SystemExit(f"could not open {folder}")
    done = []
    window.detectionFinished.connect(done.append)
    window.models.detect("all")
    while not done:
        QTest.qWait(50)
    window.detectionFinished.disconnect(done.append)
    window.session.set_current(0)
    QTest.qWait(50)


def confirm_all(window, indices) -> None:
    """Select every cell of each image and press "Confirm and next", as a technician would."""
    for index in indices:
        window.session.set_current(index)
        window.select_cells([i.id for i in window.session.current_image.instances], center=False)
        window.review.accept_and_next()


def shoot(args, work: Path, pbc_samples: list[Path], bccd_samples: list[Path], fields: list[Path]) -> None:
    from PyQt6.QtCore import QSettings
    from PyQt6.QtTest import QTest

    from bloodview.gui.app import create_application
    from bloodview.gui.main_window import MainWindow
    from bloodview.gui.prompts import Prompts

    out = args.out
    app = create_application()
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, prompts=Prompts(non_interactive=True))
    window.resize(*WINDOW_SIZE)
    window.show()

    if args.only_adaptation:
        shoot_adaptations(args, window, work, out)
        window.session.mark_saved()
        window.close()
        app.processEvents()
        return
    open_and_detect(window, folder_of(work, "pbc", pbc_samples))
    save(window, out / "app_detect.png")
    open_and_detect(window, folder_of(work, "bccd_samples", bccd_samples))
    save(window, out / "bccd_field.png")
    open_and_detect(window, folder_of(work, "bccd_field", fields[:1]))
    save(window, out / "failure_bccd_field.png")

    open_and_detect(window, folder_of(work, "smears", fields + pbc_samples))
    # a technician has checked one PBC image: confirms the cells whose class is the PBC label
    names = [Path(image.image_path).name for image in window.session.dataset.images]
    shown = next((i for i, name in enumerate(names) if name.startswith(SHOWN_FIRST)), 0)
    label = names[shown].split("_")[1]
    window.session.set_current(shown)
    right = [cell.id for cell in window.session.current_image.instances if cell.class_name == label]
    if right:
        window.select_cells(right, center=False)
        window.review.accept_and_next()
    window.session.set_current(shown)
    window.select_cells([], center=False)
    window.canvas.fit()
    QTest.qWait(50)
    save(window, out / "main_window.png")

    # editor: the largest cell selected, zoomed so its outline handles show
    window.docks["review"].raise_()
    image = window.session.current_image
    if image.instances:
        biggest = max(image.instances, key=lambda i: i.area)
        window.select_cells([biggest.id], center=False)
        window.canvas.zoom_by(1.6)
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

    # retrain: the PBC samples' detections confirmed, then the dialog's own Start button
    open_and_detect(window, folder_of(work, "retrain", pbc_samples))
    confirm_all(window, range(len(window.session.dataset.images)))
    window.session.set_current(0)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.name.setText(f"{args.model.name}-finetuned-on-samples")
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("finetune"))
    dialog.epochs.setValue(args.epochs)
    dialog.steps.setValue(args.steps)
    QTest.qWait(50)
    print(f"retrain: {dialog.summary.text()}", flush=True)
    dialog.start_button.click()
    started = time.monotonic()
    while dialog.outcome is None:
        if time.monotonic() - started > TRAIN_TIMEOUT_S:
            dialog.process.cancel()
            raise SystemExit("the retrain did not finish in time; no picture written")
        QTest.qWait(200)
    print(f"retrain finished in {time.monotonic() - started:.0f} s: {dialog.outcome.message}", flush=True)
    if not dialog.outcome.ok:
        raise SystemExit("the retrain failed; no picture written")
    QTest.qWait(50)
    save(dialog, out / "retrain_dialog.png")
    dialog.hide()
    while dialog.is_busy():  # its before/after step (refused or run) ends before the next picture
        QTest.qWait(200)
    shoot_adaptations(args, window, work, out)
    window.session.mark_saved()
    window.close()
    app.processEvents()


def another_labs_images(folder: Path, work: Path) -> Path:
    """Every 10th Zheng crop with its expert outline and class, as a reviewed COCO beside copies."""
    from bloodview.cli.main import main as bloodview
    from bloodview.io.coco import load_coco, save_coco

    lab = work / "lab"
    lab.mkdir()
    if bloodview(["convert", "--from", "mask-png", "--to", "coco", "--reviewed", str(folder), str(work / "all.json")]):
        raise SystemExit(f"could not read {folder} as mask-png")
    dataset = load_coco(work / "all.json", folder)
    dataset.images = sorted(dataset.images, key=lambda image: str(image.image_path))[::10]
    for image in dataset.images:
        shutil.copy(folder / image.image_path, lab / Path(image.image_path).name)
    dataset.root = lab
    return save_coco(dataset, lab / "corrected.json", lab)


def shoot_adaptations(args, window, work: Path, out: Path) -> None:
    """adapt_dialog.png (the default mode) and adapt_classes_dialog.png (classes only)."""
    if not args.lab_images.is_dir():
        print(f"note: {args.lab_images} not found; adapt_dialog.png and adapt_classes_dialog.png not made")
        return
    coco = another_labs_images(args.lab_images, work)
    shoot_adaptation(args, window, coco, "adapt", "adapted-to-another-lab", out / "adapt_dialog.png")
    shoot_adaptation(args, window, coco, "classes", "classes-of-another-lab", out / "adapt_classes_dialog.png")


def shoot_adaptation(args, window, coco: Path, mode: str, suffix: str, picture: Path) -> None:
    from PyQt6.QtTest import QTest

    window.session.mark_saved()
    if not window.files.open([coco]):
        raise SystemExit(f"could not open {coco}")
    window.scale.set_project_pixel_size(args.lab_pixel_size)
    index = window.models.selector.findData(str(args.model))
    if index >= 0:  # the shipped model, not one fine-tuned before
        window.models.selector.setCurrentIndex(index)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.name.setText(f"{args.model.name}-{suffix}")
    mode_index = dialog.start_from.findData(mode)
    if mode_index < 0:
        raise SystemExit(f"the Retrain dialog offers no {mode!r} start for {args.model}; {picture.name} not made")
    dialog.start_from.setCurrentIndex(mode_index)
    QTest.qWait(50)
    print(f"{mode}: model {window.models.model_dir()}; {dialog.summary.text()}", flush=True)
    verdicts: list = []
    dialog.modelTrained.connect(lambda _folder, verdict: verdicts.append(verdict))
    dialog.start_button.click()
    started = time.monotonic()
    while not verdicts:
        if time.monotonic() - started > TRAIN_TIMEOUT_S:
            dialog.process.cancel()
            raise SystemExit("the adaptation did not finish in time; no picture written")
        if dialog.outcome is not None and not dialog.outcome.ok:
            raise SystemExit(f"the adaptation failed ({dialog.outcome.message}); no picture written")
        QTest.qWait(200)
    print(f"{mode} finished in {time.monotonic() - started:.0f} s: {verdicts[0]}", flush=True)
    QTest.qWait(50)
    save(dialog, picture)
    dialog.hide()
    while dialog.is_busy():
        QTest.qWait(200)


def save(widget, path: Path) -> None:
    """Grab ``widget`` and write it as an optimised PNG."""
    from PIL import Image
    from PyQt6.QtWidgets import QApplication

    QApplication.processEvents()
    widget.grab().save(str(path))
    Image.open(path).convert("RGB").save(path, optimize=True)
    print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
