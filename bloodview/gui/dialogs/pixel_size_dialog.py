"""Model → Pixel size…: the project's pixel size in µm, or auto (measured on each image's red cells)."""

from __future__ import annotations

from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QVBoxLayout

AUTO_TEXT = "auto"
MAX_PIXEL_SIZE_UM = 10.0
NOTE_CHARS = 60  # the note's least width, in average characters


class TypedOverSpecialText(QDoubleSpinBox):
    """A spin box whose special text ("auto", "none") is replaced by what is typed after it.

    Qt's own keeps the special text and appends the digits ("auto0.17" is no number), so a person who
    clicked into the box and typed a pixel size got nothing at all."""

    def validate(self, text: str, pos: int):  # noqa: D102 - Qt API
        special = self.specialValueText()
        if special and text.startswith(special) and text != special:
            text, pos = text[len(special):], max(0, pos - len(special))
        return super().validate(text, pos)


def pixel_size_spin(current: float | None) -> QDoubleSpinBox:
    """µm per pixel, 0 shown as "auto"; digits typed over "auto" replace it."""
    spin = TypedOverSpecialText()
    spin.setDecimals(4)
    spin.setRange(0.0, MAX_PIXEL_SIZE_UM)
    spin.setSingleStep(0.001)
    spin.setSuffix(" µm")
    spin.setSpecialValueText(AUTO_TEXT)
    spin.setValue(current or 0.0)
    return spin


class PixelSizeDialog(QDialog):
    """One spin box: 0 shows as "auto"; :meth:`pixel_size` is ``None`` for auto, else µm per pixel."""

    def __init__(self, current: float | None, parent=None):
        super().__init__(parent)
        self.setObjectName("pixelSizeDialog")
        self.setWindowTitle("Pixel size")
        self.spin = pixel_size_spin(current)
        self.spin.setObjectName("pixelSize")
        self.spin.setToolTip("µm per image pixel; 0 = auto")
        note = QLabel(
            "µm per pixel of this project's images, if your microscope is calibrated "
            "(camera pixel pitch ÷ total magnification).\n"
            "Leave at auto to measure each image on its red cells (~7.5 µm across) when cells are detected.")
        note.setWordWrap(True)
        note.setObjectName("pixelSizeNote")
        # A dialog does not ask a wrapped label's height for its width: at a 14 pt font the note was
        # cut above and below. At NOTE_CHARS wide, its lines fit in the height asked here.
        width = NOTE_CHARS * note.fontMetrics().averageCharWidth()
        note.setMinimumWidth(width)
        note.setMinimumHeight(note.heightForWidth(width))
        form = QFormLayout()
        form.addRow("Pixel size:", self.spin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def pixel_size(self) -> float | None:
        value = self.spin.value()
        return float(value) if value > 0 else None
