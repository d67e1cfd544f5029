"""File menu work: open, recent files, save (with retry), import, export, recovery.

Never lose work: a failed save leaves every edit in memory and the session dirty,
and offers to retry or pick another folder; a malformed file being opened or
imported loads nothing and changes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6.QtCore import QSettings
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QMenu

from bloodview.errors import BloodviewError
from bloodview.gui.opening import ImagesFolder, OpenResult, open_for_import, open_paths
from bloodview.gui.session import pending_recoveries, recovery_for, sized_dataset

if TYPE_CHECKING:
    from bloodview.gui.main_window import MainWindow

log = logging.getLogger(__name__)

RECENT_KEY = "recent"
IMAGES_FOLDERS_KEY = "images_folders"  # annotation file -> the folder its images were found in
RECENT_MAX = 10


def report_file_name(whole: bool, image, today=None) -> str:
    """The Report dialog's suggested name: the date, and the image for a one-image report.

    It was always ``differential.html``, so a second report offered to overwrite the first, which
    a lab files as its record ("differential-2026-12-07.html", "differential-2026-12-07-a.html")."""
    import datetime

    day = (today or datetime.date.today()).isoformat()
    if whole or image is None:
        return f"differential-{day}.html"
    return f"differential-{day}-{image.image_path.stem}.html"


def open_filter() -> str:
    """The Open dialog's filter: every image type the loader reads (``IMAGE_SUFFIXES``), JSON and XML."""
    from bloodview.io.images import IMAGE_SUFFIXES  # not at import: the window shows before the loaders load

    patterns = " ".join(f"*{suffix}" for suffix in sorted(IMAGE_SUFFIXES))
    return f"Images, projects and annotations ({patterns} *.json *.xml);;All files (*)"


# menu action -> (io.detect format name, file filter, is a folder)
EXPORTS: dict[str, tuple[str, str, bool]] = {
    "export_coco": ("coco", "COCO JSON (*.json)", False),
    "export_makesense_vgg": ("makesense-vgg", "MakeSense VGG JSON (*.json)", False),
    "export_makesense_coco": ("makesense-coco", "MakeSense COCO JSON (*.json)", False),
    "export_labelme": ("labelme", "", True),
}


class FileActions:
    def __init__(self, window: MainWindow, settings: QSettings):
        self.window = window
        self.settings = settings
        if window.prompts.settings is None:  # file dialogs start in the folder used last time
            window.prompts.settings = settings
        self.recent_menu = QMenu("Open &recent", window)
        self.recent_menu.aboutToShow.connect(self._fill_recent)

    # --- opening --------------------------------------------------------------------
    def ask_open(self) -> None:
        paths = self.window.prompts.open_paths(self.window, "Open", open_filter())
        if paths:
            self.open(paths)

    def ask_open_folder(self) -> None:
        folder = self.window.prompts.folder(self.window, "open_folder", "Open a folder of images",
                                            Path.home())
        if folder:
            self.open([folder])

    def open(self, paths: Sequence[str | Path]) -> bool:
        """Open ``paths`` replacing what is open (after asking about unsaved work)."""
        if not self.confirm_discard():
            return False
        try:
            result = open_paths(paths, ImagesFolder(self.remembered_images_folder, self._ask_images_folder))
        except BloodviewError as exc:
            self.window.prompts.error(self.window, "Cannot open", str(exc))
            return False
        self._load(result)
        if result.kind == "annotations" and result.dataset.root is not None:
            self.remember_images_folder(result.sources[0], result.dataset.root)
        return True

    def _ask_images_folder(self, annotation_file: Path, why: str) -> Path | None:
        return self.window.prompts.folder(
            self.window, "images_folder", f"{why} Where are the images of {annotation_file.name}?",
            self.remembered_images_folder(annotation_file) or annotation_file.parent)

    def remembered_images_folder(self, annotation_file: Path) -> Path | None:
        """The images folder last used for ``annotation_file`` when it is not the file's own."""
        value = self.settings.value(f"{IMAGES_FOLDERS_KEY}/{_settings_key(annotation_file)}")
        return Path(str(value)) if value and Path(str(value)).is_dir() else None

    def remember_images_folder(self, annotation_file: Path, folder: Path) -> None:
        key = f"{IMAGES_FOLDERS_KEY}/{_settings_key(annotation_file)}"
        if Path(folder).resolve() == Path(annotation_file).resolve().parent:
            self.settings.remove(key)
        else:
            self.settings.setValue(key, str(Path(folder).resolve()))

    def _load(self, result: OpenResult) -> None:
        window = self.window
        window.session.load(result)
        self.add_recent(result.sources[0] if len(result.sources) == 1 else result.sources[0].parent)
        broken = len(result.broken)
        note = f" — {broken} image(s) cannot be read (marked with a warning)" if broken else ""
        if broken and broken == len(result.dataset.images):
            note = " — none of the images was found: File → Locate images… to say where they are"
        window.show_status(f"Opened {len(result.dataset.images)} images{note}")
        if result.warnings:  # a class added, an image's annotation file missing: said, not hidden
            shown = "\n\n".join(result.warnings[:8])
            more = f"\n\n… and {len(result.warnings) - 8} more (see the log)" if len(result.warnings) > 8 else ""
            window.prompts.error(window, "Opened with warnings", f"{shown}{more}")
        if window.session.read_only:
            self.tell_read_only()
        self.offer_recovery()

    def tell_read_only(self) -> None:
        session = self.window.session
        holder = session.locked_by.describe() if session.locked_by is not None else "another bloodview"
        self.window.prompts.info(
            self.window, "Opened read-only",
            f"{session.project_path} is open in another bloodview ({holder}).\n\nIt is opened read-only "
            "so that neither of you overwrites the other's work: you can look, count and export, but "
            "saving into this project is refused. File → Save as… saves your changes in another folder.")
        self.window.show_status(f"Read-only: {holder} has this project open")

    def offer_recovery(self) -> None:
        session = self.window.session
        meta = recovery_for(session.recovery_dir, session.recovery_sources)
        if meta is None:
            return
        when = _age_text(meta.get("saved_at"))
        if self.window.prompts.ask(
            self.window, "recover", "Recover unsaved work?",
            f"bloodview found autosaved changes for these images from {when} that were never "
            "saved (the program may have closed unexpectedly). Restore them?", default=True,
        ):
            try:
                count = session.restore_recovery()
            except (BloodviewError, OSError, ValueError) as exc:
                self.window.prompts.error(self.window, "Cannot recover", str(exc))
                return
            self.window.install_classes()  # classes the lost session had added (the first red cells found)
            self.window.show_status(f"Restored autosaved cells in {count} image(s)")
        else:
            session.discard_recovery()

    def locate_images(self, folder: Path | None = None) -> int:
        """Point the open annotations at another image folder; return how many images now read."""
        session = self.window.session
        if folder is None:
            folder = self.window.prompts.folder(self.window, "locate_images", "Where are the images?",
                                                session.suggested_project_folder())
        if folder is None or not session.dataset.images:
            return 0
        from bloodview.gui.opening import check_images, relocate_images

        old_root = session.dataset.root
        rewritten = relocate_images(session.dataset, Path(folder))
        session.broken = check_images(session.dataset)
        if session.kind == "annotations" and len(session.sources) == 1:
            self.remember_images_folder(session.sources[0], Path(folder))
        elif session.kind == "project" and (rewritten or old_root != session.dataset.root):
            session.note_unsaved_change()  # the project file still names the old places until saved
        self.window.pictures.clear()
        self.window.image_list.rebuild()
        found = len(session.dataset.images) - len(session.broken)
        self.window.show_image(session.current_index)
        self.window.show_status(f"{found} of {len(session.dataset.images)} images found in {folder}")
        return found

    def offer_startup_recovery(self) -> bool:
        """At a start without paths: offer to reopen what was being edited when bloodview stopped."""
        pending = [m for m in pending_recoveries(self.window.session.recovery_dir)
                   if all(Path(s).exists() for s in m["sources"])]
        if not pending:
            return False
        meta = pending[0]
        sources = [Path(s) for s in meta["sources"]]
        names = ", ".join(s.name for s in sources[:3]) + (" …" if len(sources) > 3 else "")
        if not self.window.prompts.ask(
            self.window, "startup_recovery", "Unsaved work found",
            f"bloodview stopped on {_age_text(meta.get('saved_at'))} with unsaved changes to {names}. "
            "Open them again and restore the changes?", default=True,
        ):
            return False
        self.window.prompts.answers.setdefault("recover", True)
        try:
            return self.open(sources)
        finally:
            self.window.prompts.answers.pop("recover", None)

    def import_annotations(self) -> None:
        """Import an annotation file for the open images (or open it if nothing is open)."""
        paths = self.window.prompts.open_paths(
            self.window, "Import annotations", "Annotations (*.json *.xml);;All files (*)")
        if not paths:
            return
        session = self.window.session
        if not session.dataset.images:
            self.open(paths[:1])
            return
        try:
            imported = open_for_import(Path(paths[0]), session.dataset)
        except BloodviewError as exc:
            self.window.prompts.error(self.window, "Cannot import", str(exc))
            return
        from bloodview.gui.import_cells import ImportCellsCommand
        from bloodview.gui.project_classes import adopt_classes

        matched = locked = 0
        added: list = []  # the classes this import adds: undoing it takes them out again
        for index, image in enumerate(session.dataset.images):
            other = imported.dataset.find(image.image_path)
            if other is not None:
                if image.signed_off:  # refused below: its classes must not come in either
                    locked += 1
                    continue
                before = set(session.dataset.classes.names)
                if adopt_classes(session.dataset.classes, other.instances, imported.dataset.classes):
                    added += [c for c in session.dataset.classes if c.name not in before]
                    self.window.install_classes()
                command = ImportCellsCommand(image, other.instances, session.dataset, added, self._classes_changed)
                if session.push(index, command):
                    matched += 1
                else:
                    locked += 1  # signed off: its reviewed cells stay as they are
        message = f"Imported cells for {matched} of {len(session.dataset.images)} images"
        if locked:
            self.window.canvas.notify(f"{message}; {locked} signed-off image(s) left unchanged "
                                      "(withdraw their sign-off to import into them)")
        else:
            self.window.show_status(message)

    def _classes_changed(self) -> None:
        """Undo or redo of an import took classes out of the project or put them back (taking
        one out makes a new catalogue, so the canvas is handed it too)."""
        window = self.window
        classes = window.session.dataset.classes
        window.canvas.style.classes = classes
        if window.canvas.active_class not in classes and len(classes):
            window.canvas.set_active_class(classes.names[0])
        window.install_classes()
        window.schedule_refresh()

    # --- recent -------------------------------------------------------------------------
    def recent(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path: Path) -> None:
        items = [str(path)] + [p for p in self.recent() if p != str(path)]
        self.settings.setValue(RECENT_KEY, items[:RECENT_MAX])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent():
            action = QAction(path, self.recent_menu)
            action.triggered.connect(lambda _c=False, p=path: self.open([p]))
            self.recent_menu.addAction(action)
        if not self.recent_menu.actions():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    # --- saving ---------------------------------------------------------------------------
    def confirm_discard(self) -> bool:
        """True when it is fine to drop what is open (saved, or the user said so)."""
        session = self.window.session
        if not session.is_dirty():
            return True
        choice = self.window.prompts.choose(
            self.window, "unsaved", "Unsaved changes",
            "The open images have unsaved changes.", ["Save", "Discard", "Cancel"], "Cancel")
        if choice == "Save":
            return self.save()
        if choice == "Discard":
            session.discard_recovery()
            return True
        return False

    def save(self) -> bool:
        session = self.window.session
        if session.project_path is None:
            return self.save_as()
        return self._save_to(session.project_path)

    def save_as(self) -> bool:
        folder = self.window.prompts.folder(self.window, "project_folder",
                                            "Save the project in a folder",
                                            self.window.session.suggested_project_folder())
        return bool(folder) and self._may_replace(Path(folder)) and self._save_to(folder)

    def _may_replace(self, folder: Path) -> bool:
        """A folder holding another project is written over only when the user says so: saving there
        replaced its project.json without a word, and its images and cells no longer opened."""
        from bloodview.gui.opening import PROJECT_FILE

        session = self.window.session
        if not (folder / PROJECT_FILE).is_file() or (
                session.project_path is not None and Path(session.project_path).resolve() == folder.resolve()):
            return True
        try:
            count = f"{len(json.loads((folder / PROJECT_FILE).read_text(encoding='utf-8'))['images'])} images"
        except (OSError, ValueError, KeyError, TypeError):
            count = "a project file"
        if self.window.prompts.ask(
                self.window, "replace_project", "Replace another project?",
                f"{folder} already holds another bloodview project ({count}). Saving here replaces it: "
                "its images and their cells would no longer open. Replace it?", default=False):
            return True
        self.window.show_status(f"Not saved: {folder} holds another project — choose another folder")
        return False

    def _save_to(self, folder: Path) -> bool:
        """Save; on failure keep the edits in memory and offer retry / another folder."""
        session = self.window.session
        while True:
            try:
                session.save_project(folder)
            except (BloodviewError, OSError) as exc:
                log.warning("save failed: %s", exc)
                session.autosave(wait=True)  # the edits are in the recovery file before the dialog
                choice = self.window.prompts.choose(
                    self.window, "save_failed", "Could not save",
                    f"The project could not be saved to {folder}:\n{exc}\n\nYour changes are "
                    "still open and were not lost.", ["Retry", "Save elsewhere…", "Cancel"], "Cancel")
                if choice == "Retry":
                    continue
                if choice.startswith("Save elsewhere"):
                    return self.save_as()
                self.window.show_status("Not saved — your changes are still open")
                return False
            self.window.show_status(f"Saved project to {folder}")
            self.add_recent(folder)
            return True

    # --- export -------------------------------------------------------------------------------
    def export(self, action_name: str, path: Path | None = None) -> Path | None:
        fmt, file_filter, is_folder = EXPORTS[action_name]
        session = self.window.session
        if path is None:
            start = session.suggested_project_folder()
            if is_folder:
                path = self.window.prompts.folder(self.window, action_name, "Export into a folder", start)
            else:
                path = self.window.prompts.save_path(self.window, action_name, "Export annotations",
                                                     start / f"annotations-{fmt}.json", file_filter)
        if path is None:
            return None
        from bloodview.io.detect import save_annotations

        sized = sized_dataset(session.dataset)
        try:
            save_annotations(sized, path, fmt)
        except (BloodviewError, OSError) as exc:
            self.window.prompts.error(self.window, "Export failed", str(exc))
            return None
        self.window.show_status(f"Exported {fmt} to {path}{_left_out_note(session.dataset, sized)}")
        return Path(path)

    # --- report and picture -------------------------------------------------------------
    def export_report(self, path: Path | None = None) -> Path | None:
        from bloodview.gui.report import report_html, review_tally, write_report

        window = self.window
        session = window.session
        whole = window.differential.whole_project or session.current_image is None
        images = session.dataset.images if whole else [session.current_image]
        if path is None:
            start = session.suggested_project_folder() / report_file_name(whole, session.current_image)
            path = window.prompts.save_path(window, "export_report", "Export differential count report",
                                            start, "HTML (*.html);;PDF (*.pdf)")
        if path is None:
            return None
        text = report_html(session.dataset, images, window.threshold,
                           model_name=window.models.selector.currentText())
        try:
            write_report(Path(path), text)
        except (BloodviewError, OSError) as exc:
            window.prompts.error(window, "Report not written", str(exc))
            return None
        tally = review_tally(images, window.threshold)
        draft = "" if tally.final else f"DRAFT ({tally.draft_reason()}) "
        window.show_status(f"{draft}Report written to {path}")
        return Path(path)

    def export_view(self, path: Path | None = None) -> Path | None:
        window = self.window
        if path is None:
            path = window.prompts.save_path(window, "export_view", "Export the view as PNG",
                                            window.session.suggested_project_folder() / "view.png",
                                            "PNG (*.png)")
        if path is None:
            return None
        if not window.canvas.render_view().save(str(path), "PNG"):
            window.prompts.error(window, "PNG not written", f"{path}: could not be written")
            return None
        window.show_status(f"View saved to {path}")
        return Path(path)


def _left_out_note(dataset, exported) -> str:
    """What an export left out (images that cannot be read have no size, which the formats need),
    said rather than hidden: ``" — 1 image(s) that cannot be read left out (broken.jpg; 0 cell(s))"``."""
    kept = {id(i) for i in exported.images}
    left_out = [i for i in dataset.images if id(i) not in kept]
    if not left_out:
        return ""
    cells = sum(len(i.instances) for i in left_out)
    names = ", ".join(i.image_path.name for i in left_out[:3]) + (" …" if len(left_out) > 3 else "")
    return f" — {len(left_out)} image(s) that cannot be read left out ({names}; {cells} cell(s))"


def _settings_key(path: Path) -> str:
    """A settings key for a file path (paths hold '/' which QSettings reads as groups)."""
    import hashlib

    return hashlib.sha1(str(Path(path).resolve()).encode("utf-8")).hexdigest()[:16]


def _age_text(saved_at: object) -> str:
    import datetime as dt

    try:
        return dt.datetime.fromtimestamp(float(saved_at)).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "an earlier session"
