"""The main window: canvas in the middle, docks around it; wiring only.

The work lives in the controllers (:mod:`file_actions`, :mod:`model_actions` with
:mod:`detect_actions`, :mod:`review_actions`) and the panels; this module connects signals and keeps
the panels in step with the session and the canvas selection.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt6.QtCore import QSettings, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QImage
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QUndoView,
    QWidget,
)

from bloodview.gui.canvas import CanvasView
from bloodview.gui.actions import TOOLBAR, apply_icons, build_actions, build_menus, class_actions
from bloodview.gui.elided_label import ElidedLabel
from bloodview.gui.file_actions import FileActions
from bloodview.gui.focus_ring import mark_keyboard_focus
from bloodview.gui.image_removal import ImageRemoval
from bloodview.gui.menu_commands import connect_actions
from bloodview.gui.model_actions import ModelActions
from bloodview.gui.panels.class_legend import ClassLegendPanel
from bloodview.gui.panels.differential import DifferentialPanel
from bloodview.gui.panels.gallery import GalleryPanel
from bloodview.gui.panels.image_list import ImageListPanel
from bloodview.gui.panels.instance_list import InstanceListPanel
from bloodview.gui.panels.review_queue import ReviewQueuePanel
from bloodview.gui.pictures import PictureCache
from bloodview.gui.prompts import Prompts
from bloodview.gui.red_cell_view import RedCellToggle
from bloodview.gui.review import DEFAULT_UNIDENTIFIED_THRESHOLD
from bloodview.gui.review_actions import ReviewActions
from bloodview.gui.scale_actions import ScaleActions
from bloodview.gui.session import Session
from bloodview.gui.toolbar import TEXT_GIVEN_UP, FittingToolBar
from bloodview.gui.workers.detect_worker import PredictorFactory

log = logging.getLogger(__name__)

DRAG_REFRESH_MS = 150
"""How long the mouse must rest, a button held, before the panels follow the canvas."""


class MainWindow(QMainWindow):
    detectionFinished = pyqtSignal(bool)

    def __init__(
        self,
        settings: QSettings | None = None,
        prompts: Prompts | None = None,
        predictor_factory: PredictorFactory | None = None,
        recovery_dir: Path | None = None,
        autosave_interval_s: float = 60.0,
    ):
        super().__init__()
        self.setObjectName("bloodviewMain")
        self.setWindowTitle("bloodview")
        self.setAcceptDrops(True)
        self.settings = settings or QSettings("bloodview", "bloodview")
        self.prompts = prompts or Prompts()
        self.threshold = DEFAULT_UNIDENTIFIED_THRESHOLD
        self.session = Session(self, recovery_dir, autosave_interval_s)
        self.qimage: QImage | None = None
        self.pictures = PictureCache(self.session)
        self._selection_origin: QWidget | None = None
        self._status_stack = None  # the undo stack whose moves clear the status message
        self._status_about = None  # the image the status message is about (see show_status)
        self.canvas = CanvasView(self)
        self.setCentralWidget(self.canvas)
        self.focus_marker = mark_keyboard_focus(self)  # the canvas (and the lists) framed while they have the keys
        self.acts = build_actions(self)
        self.files = FileActions(self, self.settings)
        self.review = ReviewActions(self)
        self._build_status_bar()
        self.scale = ScaleActions(self)
        self.models = ModelActions(self, predictor_factory)
        self._build_docks()
        self.removal = ImageRemoval(self)
        self._class_menu = QMenu("Set &class", self)
        self._build_toolbar()
        build_menus(self, self.acts, {"recent": self.files.recent_menu, "classes": self._class_menu,
                                         "docks": self._dock_menu, "models": self._model_menu()})
        self._connect()
        self.red_cells = RedCellToggle(self.acts["toggle_red_cells"], self.legend, self.settings,
                                       self.show_status, self.canvas.notify)
        self._labels_visible(self.legend.labels.isChecked())  # the canvas starts as the checkbox says
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self.refresh_panels)
        self.install_classes()
        self.resize(1400, 900)
        self.update_enabled()
        self.show_status("Open images, a folder or a project (Ctrl+O), or drop them here")
        QTimer.singleShot(100, self._apply_icons)  # after the first paint: the window shows sooner

    def _apply_icons(self) -> None:
        apply_icons(self.acts)
        self.differential.apply_icons()
        self.queue.apply_icons()

    # --- building -------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        self.status_label = ElidedLabel()  # a long message ends in "…"; its tooltip holds it whole
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.progress)

    def _dock(self, widget: QWidget, title: str, name: str, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self._dock_menu.addAction(dock.toggleViewAction())
        return dock

    def _build_docks(self) -> None:
        self._dock_menu = QMenu("&Panels", self)
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.image_list = ImageListPanel(self.session)
        self.image_list.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.legend = ClassLegendPanel()
        self.instances = InstanceListPanel()
        self.differential = DifferentialPanel()
        self.gallery = GalleryPanel()
        self.queue = ReviewQueuePanel(self.threshold)
        self.undo_view = QUndoView(self.session.undo_group)
        self.undo_view.setEmptyLabel("Opened")
        self.undo_view.setAccessibleName("Edit history: click a step to go back to it")
        self.docks = {
            "images": self._dock(self.image_list, "Images", "images", left),
            "classes": self._dock(self.legend, "Classes", "classes", left),
            "differential": self._dock(self.differential, "Differential count", "differential", left),
            "review": self._dock(self.queue, "Review", "review", right),
            "instances": self._dock(self.instances, "Cells", "instances", right),
            "gallery": self._dock(self.gallery, "Gallery", "gallery", right),
            "history": self._dock(self.undo_view, "History", "history", right),
        }
        self.tabifyDockWidget(self.docks["instances"], self.docks["gallery"])
        self.tabifyDockWidget(self.docks["gallery"], self.docks["history"])
        self.docks["instances"].raise_()
        self.resizeDocks([self.docks["images"], self.docks["review"]], [300, 340], Qt.Orientation.Horizontal)
        for widget in (self.instances, self.gallery.list):
            widget.addAction(self.acts["delete"])

    def _model_menu(self) -> QMenu:
        return QMenu("Model", self)  # placeholder sub-menu slot; the selector is on the toolbar

    def _build_toolbar(self) -> None:
        bar = FittingToolBar("Main", self)
        bar.setObjectName("mainToolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name in TOOLBAR:
            if name == "-":
                bar.addSeparator()
            elif name == "MODEL":
                bar.addWidget(QLabel(" Model "))
                bar.addWidget(self.models.selector)
            else:
                bar.addAction(self.acts[name])
        for name in TOOLBAR:
            if name.startswith("tool_") or name in ("prev_image", "next_image", "fit", "undo", "redo"):
                widget = bar.widgetForAction(self.acts[name])
                if widget is not None:
                    widget.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        bar.give_up_text([self.acts[name] for name in TEXT_GIVEN_UP])
        self.addToolBar(bar)

    def install_classes(self) -> None:
        """Menus, legend, gallery and red-cell toggle follow the project's class catalogue."""
        for action in self._class_menu.actions():
            self.removeAction(action)
        self._class_menu.clear()
        for action in class_actions(self, self.review.set_class):
            self._class_menu.addAction(action)
        classes = self.session.dataset.classes
        self.legend.set_classes(classes)
        self.gallery.set_classes(classes)
        self.red_cells.refresh(self.session.current_image, classes)

    def _connect(self) -> None:
        connect_actions(self)
        s = self.session

        s.opened.connect(self._opened)
        s.currentChanged.connect(self.show_image)
        s.imageChanged.connect(self._image_changed)
        s.dirtyChanged.connect(lambda _d: self._update_title())
        s.autosaveFailed.connect(self.show_status)
        s.editRefused.connect(lambda _index, why: self.canvas.notify(why))  # a signed-off image is locked
        self.image_list.imageActivated.connect(s.set_current)

        c = self.canvas
        c.selectionChanged.connect(self._canvas_selection)
        c.statusMessage.connect(self.show_status)
        c.instanceActivated.connect(lambda i: self.select_cells([i], center=True))
        c.contextMenuRequested.connect(self.review.show_context_menu)
        self.instances.selectionChangedIds.connect(lambda ids: self.select_cells(ids, False, self.instances))
        self.instances.instanceActivated.connect(lambda i: self.select_cells([i], center=True))
        self.gallery.selectionChangedIds.connect(lambda ids: self.select_cells(ids, False, self.gallery))
        self.gallery.cellActivated.connect(self.go_to_cell)
        self.gallery.imageUnreadable.connect(self.session.mark_broken)  # marked in the Images list
        self.legend.visibilityChanged.connect(c.set_class_visible)
        self.legend.opacityChanged.connect(c.set_opacity)
        self.legend.labelsVisibleChanged.connect(self._labels_visible)
        self.legend.activeClassChanged.connect(c.set_active_class)
        self.differential.scopeChanged.connect(lambda _i: self.refresh_panels())
        self.differential.exportRequested.connect(lambda: self.files.export_report())
        self.queue.thresholdChanged.connect(self.set_threshold)
        self.queue.threshold.editingFinished.connect(self.canvas.setFocus)  # keys go back to review
        self.queue.entryActivated.connect(self.go_to_cell)
        self.queue.signOffRequested.connect(self.review.sign_off)

    # --- state → widgets ---------------------------------------------------------------------
    def _opened(self) -> None:
        self.pictures.clear()
        saved = self.session.settings.get("unidentified_threshold")
        if isinstance(saved, (int, float)):
            self.queue.threshold.setValue(float(saved))
        self.install_classes()
        self._update_title()
        if not self.session.dataset.images:
            self.canvas.clear()
        self.schedule_refresh()
        self.update_enabled()

    def show_image(self, index: int) -> None:
        session = self.session
        image = session.current_image
        if image is None:
            return
        if self._status_about is not None and self._status_about is not image:
            self.show_status("")  # it was about the image shown before
        self.qimage = self.pictures.get(index)
        if self.qimage is None and self.read_again(index):
            return  # shown by read_again
        if self.qimage is None:
            self.canvas.clear()
            self.show_status(f"Cannot show {image.image_path.name}: {session.broken.get(index, '')}")
        else:
            self.canvas.set_image(image, self.qimage, session.dataset.classes, session.stack(index))
            self.canvas.set_min_score(self.threshold)
            self.red_cells.refresh(image, session.dataset.classes)
            self.canvas.fit()
        self._update_title()
        self.refresh_panels()
        self.update_enabled()

    def read_again(self, index: int) -> bool:
        """Try an image marked unreadable once more (its file may be back); True when it reads now
        (and it is shown if it is the current image)."""
        if index not in self.session.broken or self.pictures.read_again(index) is None:
            return False
        self.gallery.forget_pictures(index)  # its thumbnails were drawn without the picture
        if index == self.session.current_index:
            self.show_image(index)
        return True

    def _image_changed(self, index: int) -> None:
        self.schedule_refresh()

    def schedule_refresh(self) -> None:
        """Refresh the panels once the current burst of changes is over.

        While a mouse button is held on the canvas (a point, a cell or a brush being dragged) the panels wait
        until the mouse rests for :data:`DRAG_REFRESH_MS`: rebuilding the cell list, gallery,
        differential and queue on every mouse move made a point drag on a 2,000-cell camera
        field stutter (60-78 ms per move, ~80 % of it here). The release's own change refreshes
        them at once."""
        self._refresh_timer.start(DRAG_REFRESH_MS if self.canvas.mouse_held() else 0)

    def refresh_panels(self) -> None:
        session, image = self.session, self.session.current_image
        classes = session.dataset.classes
        self.scale.refresh()
        self.instances.show_image(image, classes, self.threshold, self.scale.in_use(image))
        self.legend.update_counts(image)
        self.gallery.show_cells(session.dataset, session.current_index, self.pictures.get, self.threshold,
                                held=self.pictures.held)
        scope = session.dataset.images if self.differential.whole_project else ([image] if image else [])
        self.differential.show_count(session.dataset, scope, self.threshold)
        self.queue.refresh(session.dataset, session.current_index, session.generation)
        selected = self.canvas.selected_ids()
        self.instances.select_ids(selected)
        self.gallery.select_ids(selected)

    def _canvas_selection(self, ids: list) -> None:
        if self._selection_origin is None:
            self.instances.select_ids(ids)
            self.gallery.select_ids(ids)
        self.review.describe(ids)

    def select_cells(self, ids: list, center: bool, origin: QWidget | None = None) -> None:
        """Select cells of the current image everywhere but in ``origin`` (the panel that asked)."""
        self._selection_origin = origin or self.canvas
        try:
            self.canvas.select(list(ids))
        finally:
            self._selection_origin = None
        for panel in (self.instances, self.gallery):
            if panel is not origin:
                panel.select_ids(ids)
        if center and ids:
            self.review.reveal(ids[0])

    def go_to_cell(self, image_index: int, instance_id: str) -> None:
        self.session.set_current(image_index)
        self.select_cells([instance_id], center=True)

    def set_threshold(self, value: float) -> None:
        self.threshold = float(value)
        self.session.set_setting("unidentified_threshold", self.threshold)  # an unsaved change
        self.canvas.set_min_score(self.threshold)
        self.schedule_refresh()

    def set_tool(self, name: str) -> None:
        self.canvas.set_tool(name)
        for tool in ("select", "draw", "brush", "eraser"):
            self.acts[f"tool_{tool}"].setChecked(tool == self.canvas.current_tool())

    def _labels_visible(self, visible: bool) -> None:
        self.canvas.set_labels_visible(visible)
        self.acts["toggle_labels"].setChecked(visible)

    def update_enabled(self) -> None:
        has_images = bool(self.session.dataset.images)
        has_model = getattr(self, "models", None) is not None and self.models.model_dir() is not None
        for name in ("save", "save_as", "export_coco", "export_makesense_vgg", "export_makesense_coco",
                     "export_labelme", "export_report", "export_view", "next_image", "prev_image",
                     "accept", "next_cell", "prev_cell", "sign_off", "merge_overlaps", "retrain", "select_all",
                     "locate_images", "pixel_size"):
            self.acts[name].setEnabled(has_images)
        for name in ("detect", "detect_selected", "detect_all", "evaluate"):
            self.acts[name].setEnabled(has_images and has_model)
        self.acts["undo"].setEnabled(has_images and self.session.undo_group.canUndo())
        self.acts["redo"].setEnabled(has_images and self.session.undo_group.canRedo())

    def _update_title(self) -> None:
        session = self.session
        where = session.project_path or (session.sources[0] if session.sources else None)
        name = f" — {where.name}" if where else ""
        if session.read_only:
            name += " (read-only)"
        image = session.current_image
        position = f" [{session.current_index + 1}/{len(session.dataset.images)} {image.image_path.name}]" \
            if image is not None else ""
        self.setWindowTitle(f"bloodview{name}{position}[*]")
        self.setWindowModified(session.is_dirty())

    def show_status(self, text: str, about: object = None) -> None:
        """The message, also as the label's tooltip: a long one is clipped by the scale and device
        fields beside it (a detection summary lost its glass-colour note that way). ``about``:
        the image the message is about; it is cleared once another image is shown."""
        self.status_label.setText(text)
        self.status_label.setToolTip(text)
        self._status_about = about

    def history_moved(self, _index: int) -> None:
        """A message about an edit goes stale once that image's history moves (an edit says its
        own after); switching images is not a move (an autosave failure shown then stays)."""
        stack = self.session.undo_group.activeStack()
        if stack is self._status_stack:
            self.show_status("")
        self._status_stack = stack

    # --- drag and drop, closing --------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files.open(paths)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self.files.confirm_discard():
            event.ignore()
            return
        dialog = self.models.retrain_dialog
        if dialog is not None and dialog.process.is_running():
            if not self.prompts.ask(self, "stop_training", "Training is running",
                                    "Stop the training and quit?", default=False):
                event.ignore()
                return
            dialog.process.kill()
        self.models.warm_up_enabled = False  # no other model starts loading on the way out
        self.models.runner.cancel()  # the run stops after the image under way
        finished = self.models.runner.wait(2000)
        self.session.close()  # the last autosave written, the project's lock let go
        if not finished or self.models.warm.is_running():  # neither can be stopped half way: the
            self.hide()  # window goes at once, the process when they end (Qt aborts on a running thread)
            self.models.runner.wait(60000)  # bloodview.gui.app.run waits out the rest
            self.models.warm.wait(30000)
        event.accept()
