"""The window's QActions and menus, built from :data:`bloodview.gui.shortcuts.SHORTCUTS`.

Each action is created once with its text, icon, shortcut and tooltip and then
connected by :func:`connect_actions` to a controller method; menus list them.
Class keys 1–8 follow the class catalogue (``CellClass.key``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QMenu

from bloodview.gui.shortcuts import BY_ACTION
from bloodview.gui.style import icon

if TYPE_CHECKING:
    from bloodview.gui.main_window import MainWindow

# action name -> (menu text, QtAwesome icon or None)
TEXTS: dict[str, tuple[str, str | None]] = {
    "open": ("&Open…", "mdi.folder-open"),
    "open_folder": ("Open &folder…", "mdi.folder-multiple-image"),
    "import_annotations": ("&Import annotations (COCO, MakeSense, LabelMe)…", "mdi.file-import"),
    "locate_images": ("&Locate images…", "mdi.folder-search"),
    "save": ("&Save project", "mdi.content-save"),
    "save_as": ("Save project &as…", "mdi.content-save-edit"),
    "export_coco": ("Export &COCO…", None),
    "export_makesense_vgg": ("Export MakeSense &VGG JSON…", None),
    "export_makesense_coco": ("Export MakeSense C&OCO…", None),
    "export_labelme": ("Export &LabelMe…", None),
    "export_report": ("Export differential &report (HTML/PDF)…", "mdi.file-document-outline"),
    "export_view": ("Export &view as PNG…", "mdi.image-move"),
    "quit": ("&Quit", None),
    "undo": ("&Undo", "mdi.undo"),
    "redo": ("&Redo", "mdi.redo"),
    "delete": ("&Delete selected cells", "mdi.delete"),
    "select_all": ("Select &all cells", None),
    "remove_image": ("Re&move image from project", "mdi.image-remove"),
    "accept": ("&Confirm and next", "mdi.check"),
    "next_cell": ("Next &unchecked cell", "mdi.arrow-right-bold-circle-outline"),
    "prev_cell": ("&Previous cell", None),
    "sign_off": ("&Sign off image", "mdi.check-decagram"),
    "signer": ("Sign off &as…", "mdi.account-edit"),  # "Signing as NAME…" once known (gui/signer_label.py)
    "merge_overlaps": ("&Merge overlapping cells", "mdi.set-merge"),
    "next_image": ("&Next image", "mdi.chevron-right"),
    "prev_image": ("&Previous image", "mdi.chevron-left"),
    "fit": ("&Fit image", "mdi6.fit-to-screen"),
    "zoom_in": ("Zoom &in", "mdi.magnify-plus"),
    "zoom_out": ("Zoom &out", "mdi.magnify-minus"),
    "toggle_labels": ("Show &labels", None),
    "toggle_red_cells": ("Show &red cells", None),
    "tool_select": ("&Select", "mdi.cursor-default"),
    "tool_draw": ("&Polygon", "mdi.vector-polygon"),
    "tool_brush": ("&Brush", "mdi.brush"),
    "tool_eraser": ("&Eraser", "mdi.eraser"),
    "detect": ("&Detect cells in this image", "mdi.auto-fix"),
    "detect_selected": ("Detect cells in the &selected images", None),
    "detect_all": ("Detect cells in &all images", None),
    "cancel_detect": ("&Cancel detection", "mdi.stop"),
    "pixel_size": ("&Pixel size…", "mdi.ruler"),
    "retrain": ("&Retrain…", "mdi.school"),
    "evaluate": ("&Evaluate…", "mdi.chart-box-outline"),
    "refresh_models": ("Re&load model list", None),
    "about_models": ("&About models…", None),
    "shortcuts": ("&Keyboard shortcuts", "mdi.keyboard"),
    "about": ("&About bloodview", None),
}

MENUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("&File", ("open", "open_folder", "import_annotations", "locate_images", "recent", "-", "save", "save_as", "-",
               "export_coco", "export_makesense_vgg", "export_makesense_coco", "export_labelme", "-",
               "export_report", "export_view", "-", "quit")),
    ("&Edit", ("undo", "redo", "-", "delete", "select_all", "-", "classes", "-", "remove_image")),
    ("&Review", ("accept", "next_cell", "prev_cell", "-", "merge_overlaps", "sign_off", "signer", "-", "next_image",
                 "prev_image")),
    ("&View", ("fit", "zoom_in", "zoom_out", "toggle_labels", "toggle_red_cells", "-", "docks")),
    ("&Tools", ("tool_select", "tool_draw", "tool_brush", "tool_eraser")),
    ("&Model", ("models", "detect", "detect_selected", "detect_all", "cancel_detect", "pixel_size", "-",
                "retrain", "evaluate", "refresh_models", "about_models")),
    ("&Help", ("shortcuts", "about")),
)

# Shorter words on the toolbar (the menus and tooltips keep the full text): with the full text
# the toolbar overflowed a 1280-pixel window (a laptop at 200 %) and hid Cancel detection.
TOOLBAR_TEXTS = {"save": "Save", "accept": "Confirm", "sign_off": "Sign off", "detect": "Detect",
                 "cancel_detect": "Cancel"}

# Qt moves a toolbar's last buttons into its "»" menu when the window is too narrow (a 14 pt font on
# a 1366-px laptop): Detect and Cancel come before the tools and the model selector, so those go
# first (they have keys and menus); see bloodview/gui/toolbar.py.
TOOLBAR = ("open", "save", "-", "undo", "redo", "-", "prev_image", "next_image", "fit", "-",
           "accept", "sign_off", "-", "detect", "cancel_detect", "-",
           "tool_select", "tool_draw", "tool_brush", "tool_eraser", "-", "MODEL")


def make_action(window: MainWindow, name: str) -> QAction:
    text, _icon_name = TEXTS[name]
    action = QAction(text, window)
    action.setObjectName(f"action_{name}")
    shortcut = BY_ACTION.get(name)
    if shortcut is not None:
        action.setShortcuts([QKeySequence(k) for k in shortcut.keys])
        action.setToolTip(f"{text.replace('&', '').rstrip('…')} ({shortcut.keys_text})")
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    window.addAction(action)  # shortcuts work even when a dock has the focus
    return action


def build_actions(window: MainWindow) -> dict[str, QAction]:
    actions = {name: make_action(window, name) for name in TEXTS}
    for name in ("tool_select", "tool_draw", "tool_brush", "tool_eraser", "toggle_labels", "toggle_red_cells"):
        actions[name].setCheckable(True)
    actions["tool_select"].setChecked(True)
    actions["toggle_labels"].setChecked(True)
    actions["toggle_red_cells"].setChecked(True)
    actions["cancel_detect"].setEnabled(False)
    for name, text in TOOLBAR_TEXTS.items():
        actions[name].setIconText(text)
    # Del belongs to the canvas (it deletes a hovered vertex first); the window adds the
    # delete action to the cell lists only (see MainWindow._build_docks).
    window.removeAction(actions["delete"])
    actions["delete"].setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    return actions


def apply_icons(actions: dict[str, QAction]) -> None:
    """Set the QtAwesome icons; done after the window shows (importing QtAwesome takes ~0.3 s)."""
    for name, action in actions.items():
        icon_name = TEXTS[name][1]
        if icon_name:
            action.setIcon(icon(icon_name))


def class_actions(window: MainWindow, on_class: Callable[[str], None]) -> list[QAction]:
    """One action per class with a key (1–8 for PBC): set the class of the selection."""
    result = []
    for cell_class in window.session.dataset.classes:
        action = QAction(f"{cell_class.display_name}", window)
        action.setObjectName(f"action_class_{cell_class.name}")
        if cell_class.key:
            action.setShortcut(QKeySequence(cell_class.key))
        action.triggered.connect(lambda _checked=False, name=cell_class.name: on_class(name))
        window.addAction(action)
        result.append(action)
    return result


def build_menus(window: MainWindow, actions: dict[str, QAction], extra: dict[str, QMenu]) -> None:
    """Menus in :data:`MENUS`; names in ``extra`` are sub-menus (recent files, classes, …)."""
    bar = window.menuBar()
    for title, names in MENUS:
        menu = bar.addMenu(title)
        for name in names:
            if name == "-":
                menu.addSeparator()
            elif name in extra:
                menu.addMenu(extra[name])
            elif name in actions:
                menu.addAction(actions[name])
