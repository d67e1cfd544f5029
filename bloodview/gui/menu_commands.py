"""The menu and toolbar actions of the main window, each connected to what it does; and the Help menu's
two commands.

Kept apart from :mod:`bloodview.gui.main_window` (which builds the window and keeps its panels in step)
because wiring forty actions is a table of its own; the window calls :func:`connect_actions` once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit

from bloodview.gui.file_actions import EXPORTS
from bloodview.gui.signer_label import show_signer

if TYPE_CHECKING:
    from bloodview.gui.main_window import MainWindow


def connect_actions(window: MainWindow) -> None:
    """Connect every action of ``window.acts`` (built by :func:`bloodview.gui.actions.build_actions`)."""
    a, s = window.acts, window.session
    a["open"].triggered.connect(window.files.ask_open)
    a["open_folder"].triggered.connect(window.files.ask_open_folder)
    a["import_annotations"].triggered.connect(window.files.import_annotations)
    a["locate_images"].triggered.connect(lambda: window.files.locate_images())
    a["save"].triggered.connect(window.files.save)
    a["save_as"].triggered.connect(window.files.save_as)
    for name in EXPORTS:
        a[name].triggered.connect(lambda _c=False, n=name: window.files.export(n))
    a["export_report"].triggered.connect(lambda: window.files.export_report())
    a["export_view"].triggered.connect(lambda: window.files.export_view())
    a["quit"].triggered.connect(window.close)
    a["undo"].triggered.connect(s.undo_group.undo)
    a["redo"].triggered.connect(s.undo_group.redo)
    s.undo_group.canUndoChanged.connect(a["undo"].setEnabled)
    s.undo_group.canRedoChanged.connect(a["redo"].setEnabled)
    s.undo_group.indexChanged.connect(window.history_moved)
    a["undo"].triggered.connect(lambda: window.show_status(f"Undone: {s.undo_group.redoText()}"))
    a["redo"].triggered.connect(lambda: window.show_status(f"Redone: {s.undo_group.undoText()}"))
    a["delete"].triggered.connect(window.review.delete_selected)
    a["select_all"].triggered.connect(window.review.select_all)
    a["accept"].triggered.connect(window.review.accept_and_next)
    a["next_cell"].triggered.connect(lambda: window.review.next_cell())
    a["prev_cell"].triggered.connect(window.review.prev_cell)
    for name in ("accept", "next_cell", "prev_cell"):
        a[name].triggered.connect(lambda _c=False: keys_to_cells(window))
    a["sign_off"].triggered.connect(window.review.sign_off)
    a["signer"].triggered.connect(window.review.change_signer)
    show_signer(window)  # the item's text and the Review panel's line say who is signing
    a["merge_overlaps"].triggered.connect(window.review.merge_overlaps)
    a["next_image"].triggered.connect(lambda: window.review.step_image(1))
    a["prev_image"].triggered.connect(lambda: window.review.step_image(-1))
    a["fit"].triggered.connect(window.canvas.fit)
    a["zoom_in"].triggered.connect(window.canvas.zoom_in)
    a["zoom_out"].triggered.connect(window.canvas.zoom_out)
    a["toggle_labels"].toggled.connect(window.legend.labels.setChecked)
    for tool in ("select", "draw", "brush", "eraser"):
        a[f"tool_{tool}"].triggered.connect(lambda _c=False, t=tool: window.set_tool(t))
    a["detect"].triggered.connect(lambda: window.models.detect("current"))
    a["detect_selected"].triggered.connect(lambda: window.models.detect("selected"))
    a["detect_all"].triggered.connect(lambda: window.models.detect("all"))
    a["cancel_detect"].triggered.connect(window.models.cancel)
    a["retrain"].triggered.connect(window.models.retrain)
    a["evaluate"].triggered.connect(window.models.evaluate)
    a["refresh_models"].triggered.connect(lambda: window.models.refresh_models())
    a["about_models"].triggered.connect(window.models.about_models)
    a["shortcuts"].triggered.connect(lambda: show_shortcuts(window))
    a["about"].triggered.connect(lambda: show_about(window))


def keys_to_cells(window: MainWindow) -> None:
    """Going to a cell takes the focus out of a text box (the threshold spin box), which
    would otherwise keep the class keys and Space that follow for itself."""
    if isinstance(QApplication.focusWidget(), (QAbstractSpinBox, QLineEdit)):
        window.canvas.setFocus()


def show_shortcuts(window: MainWindow) -> None:
    from bloodview.gui.dialogs.shortcuts_dialog import ShortcutsDialog

    focused = QApplication.focusWidget()
    ShortcutsDialog(window).exec()
    # Not every platform hands activation back to the window (offscreen, some Wayland
    # compositors): without it the next review key went nowhere.
    window.activateWindow()
    (focused if focused is not None and focused.window() is window else window.canvas).setFocus()


def show_about(window: MainWindow) -> None:
    from bloodview import __version__

    window.prompts.info(window, "About bloodview",
                        f"bloodview {__version__}\nBlood smear cell segmentation, classification "
                        "and review (Mask R-CNN, Atıcı & Koçer 2023).")
