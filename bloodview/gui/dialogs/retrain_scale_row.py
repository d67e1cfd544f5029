"""The Retrain dialog's "Pixel size" row: µm per pixel for the training images that have none.

Why a spin box of its own: the project's pixel-size box starts at its special text, and a person who
clicks into it and types "0.17" got nothing at all (the text stayed "auto": "auto0.17" is no number),
so the row looked broken. Here what is typed after the special text replaces it. And Return applies
the value (:attr:`PixelSizeRow.entered`) instead of reaching the dialog, whose default button is
Start: Enter after typing a pixel size used to start a retrain without it.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from bloodview.gui.dialogs.pixel_size_dialog import MAX_PIXEL_SIZE_UM, TypedOverSpecialText

NONE_TEXT = "none"  # not "auto": these images are listed because nothing could measure them
RETURN_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class TypedPixelSize(TypedOverSpecialText):
    """µm per pixel; 0 shows as "none", and digits typed after "none" replace it."""

    entered = pyqtSignal()  # Return or Enter pressed in the box

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(4)
        self.setRange(0.0, MAX_PIXEL_SIZE_UM)
        self.setSingleStep(0.001)
        self.setSuffix(" µm")
        self.setSpecialValueText(NONE_TEXT)
        self.setValue(0.0)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().keyPressEvent(event)
        if event.key() in RETURN_KEYS:
            event.accept()  # kept from the dialog's default button (Start)
            self.entered.emit()


class PixelSizeRow(QWidget):
    """The box and "Give them this pixel size" (enabled once a value is typed)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.spin = TypedPixelSize()
        self.spin.setObjectName("retrainPixelSize")
        self.spin.setToolTip("µm per pixel of the images listed above as having none (camera pixel pitch "
                             "÷ total magnification; PBC's crops: 0.1 µm). Type it and press Enter.")
        self.button = QPushButton("Give them this pixel size")
        self.button.setEnabled(False)
        self.button.setAutoDefault(False)  # Return in the box applies it; it never starts training
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.spin)
        layout.addWidget(self.button, 1)
        self.spin.valueChanged.connect(lambda value: self.button.setEnabled(value > 0))
