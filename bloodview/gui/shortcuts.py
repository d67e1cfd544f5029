"""Every keyboard shortcut, in one table (Qt-free).

The window builds its actions from these entries, Help → Shortcuts shows them, and
a test checks docs/shortcuts.md lists each one, so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shortcut:
    action: str  # action name in actions.py
    keys: tuple[str, ...]  # QKeySequence strings (portable text)
    description: str
    group: str

    @property
    def keys_text(self) -> str:
        return " / ".join(self.keys)


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("open", ("Ctrl+O",), "Open images, a folder, a project or an annotation file", "File"),
    Shortcut("save", ("Ctrl+S",), "Save the project (atomic; asks for a folder the first time)", "File"),
    Shortcut("save_as", ("Ctrl+Shift+S",), "Save the project in another folder", "File"),
    Shortcut("export_view", ("Ctrl+E",), "Export the current view as PNG", "File"),
    Shortcut("quit", ("Ctrl+Q",), "Quit (asks about unsaved changes)", "File"),
    Shortcut("undo", ("Ctrl+Z",), "Undo the last change on this image", "Edit"),
    Shortcut("redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo", "Edit"),
    Shortcut("delete", ("Del",), "Delete the selected cells", "Edit"),
    Shortcut("remove_image", ("Del",), "In the Images list: remove the selected images from the project "
             "(their files stay on disk; undoable)", "Edit"),
    Shortcut("select_all", ("Ctrl+A",), "Select every cell in the image", "Edit"),
    Shortcut("class_1", ("1",), "Basophil: set the class of the selected cells (keys 1–8 follow the legend)", "Classify"),
    Shortcut("class_2", ("2",), "Eosinophil", "Classify"),
    Shortcut("class_3", ("3",), "Erythroblast", "Classify"),
    Shortcut("class_4", ("4",), "Immature granulocyte", "Classify"),
    Shortcut("class_5", ("5",), "Lymphocyte", "Classify"),
    Shortcut("class_6", ("6",), "Monocyte", "Classify"),
    Shortcut("class_7", ("7",), "Neutrophil", "Classify"),
    Shortcut("class_8", ("8",), "Platelet", "Classify"),
    Shortcut("accept", ("Space",), "Confirm the selected cells (mark reviewed) and go to the next unchecked cell", "Review"),
    Shortcut("next_cell", ("Tab",), "Select the next unchecked cell", "Review"),
    Shortcut("prev_cell", ("Shift+Tab",), "Select the previous cell", "Review"),
    Shortcut("sign_off", ("Ctrl+Return",), "Sign the image off (only when every cell is checked)", "Review"),
    Shortcut("next_image", ("N", "PgDown"), "Next image", "Navigate"),
    Shortcut("prev_image", ("P", "PgUp"), "Previous image", "Navigate"),
    Shortcut("fit", ("F",), "Fit the image in the window", "View"),
    Shortcut("zoom_in", ("Ctrl++", "+"), "Zoom in", "View"),
    Shortcut("zoom_out", ("Ctrl+-", "-"), "Zoom out", "View"),
    Shortcut("toggle_labels", ("L",), "Show or hide class labels", "View"),
    Shortcut("toggle_red_cells", ("R",), "Show or hide red cells (fields with over 60 start hidden until you choose)", "View"),
    Shortcut("tool_select", ("S",), "Select tool", "Tools"),
    Shortcut("tool_draw", ("W",), "Polygon tool: draw a new cell", "Tools"),
    Shortcut("tool_brush", ("B",), "Brush: paint onto the selected cell", "Tools"),
    Shortcut("tool_eraser", ("E",), "Eraser: remove from the selected cell's mask", "Tools"),
    Shortcut("detect", ("D",), "Detect cells in the current image", "Model"),
    Shortcut("detect_all", ("Ctrl+D",), "Detect cells in all images", "Model"),
    Shortcut("cancel_detect", ("Esc",), "Clear the selection; with none, cancel a running detection", "Model"),
    Shortcut("shortcuts", ("F1",), "This list of shortcuts", "Help"),
)

BY_ACTION = {s.action: s for s in SHORTCUTS}
