"""A retrained model is a folder: its name must be one a Windows PC and a lab's share can store."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("name", ["ward 4: day 1", "best?", "model.", "CON"])
def test_a_model_name_windows_cannot_store_is_refused_before_training(window, review_current, model_store, name):
    review_current(window)
    window.models.retrain()
    dialog = window.models.retrain_dialog
    dialog.name.setText(name)
    dialog.start()
    assert "Windows PC can store" in dialog.eta.text()
    assert dialog.start_button.isEnabled()  # nothing started
    assert not (model_store / name).exists()
