"""The Retrain and Evaluate dialogs open no larger than the screen: Retrain opened 900 px tall, and on
a 1366 x 768 laptop its Start and "Use the new model" buttons were below the screen's edge."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def _assert_on_screen(dialog):
    free = dialog.screen().availableGeometry()
    assert dialog.height() <= free.height() and dialog.width() <= free.width()


def test_the_retrain_dialog_fits_its_screen(window, review_current, qtbot):
    review_current(window)
    assert window.screen().availableGeometry().height() < 900  # the offscreen test screen: 800 px
    window.models.retrain()
    _assert_on_screen(window.models.retrain_dialog)


def test_the_evaluate_dialog_fits_its_screen(window, review_current):
    review_current(window)
    window.models.evaluate()
    _assert_on_screen(window.models.evaluate_dialog)
