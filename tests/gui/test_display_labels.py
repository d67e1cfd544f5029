"""The tags on the cells must be read at a glance, whatever the class colour."""

from __future__ import annotations

import pytest
from PyQt6.QtGui import QColor

from bloodview.core.classes import ClassCatalogue
from bloodview.gui.canvas.labels import LabelItem, contrast_ratio

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("cell_class", list(ClassCatalogue.pbc()), ids=lambda c: c.name)
def test_every_class_tag_has_readable_text(qapp, cell_class):
    """Seen on a BCCD field: "Eosinophil 0.85" in white on the eosinophil's pink, 3.7:1, the one tag a
    technician had to lean in to read (4.5:1 is the least for small text)."""
    tag = LabelItem(f"{cell_class.display_name} 0.85", QColor(*cell_class.color))
    text, background = tag.colours()
    background.setAlpha(255)  # the tag is 88 % opaque: its own colour is what the text sits on
    assert contrast_ratio(text, background) >= 4.5, cell_class.color
