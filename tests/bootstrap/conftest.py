"""Fixtures for the bootstrap tests: hand-made smear images (``synthetic.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("bootstrap_synthetic", Path(__file__).with_name("synthetic.py"))
synthetic_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic_module)


@pytest.fixture(scope="session")
def syn():
    """The ``synthetic`` helper module (disc, white_cell_with_red_cells, platelet_image, ...)."""
    return synthetic_module
