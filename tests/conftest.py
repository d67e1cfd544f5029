"""Shared fixtures: the real public data beside the checkout, offscreen Qt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("BLOODVIEW_SHARED_DATA", REPO.parent / "shared" / "data"))


def _data(sub: str) -> Path:
    path = SHARED_DATA / sub
    if not path.is_dir():
        pytest.skip(f"real data {path} is not here (expected ../shared/data beside the checkout)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is not here")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pbc_dir() -> Path:
    """PBC class folders: ``<class>/<image>.jpg`` plus ``manifest.csv``."""
    return _data("pbc")


@pytest.fixture(scope="session")
def bccd_dir() -> Path:
    """BCCD whole fields with Pascal VOC boxes."""
    return _data("bccd")


@pytest.fixture(scope="session")
def zheng_dir() -> Path:
    """Zheng WBC crops with nucleus/cytoplasm masks ("Dataset 1", with a space)."""
    return _data("zheng_wbc") / "Dataset 1"
