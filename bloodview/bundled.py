"""Files shipped with bloodview: the default model and the sample smears.

In a source checkout they live in ``<repo>/resources/`` (``resources/models/default``,
``resources/samples``). A wheel carries the same files inside the package, as
``bloodview/resources/`` (``setup.py`` copies them there when the wheel is built), so an
installed bloodview finds them without a checkout. :func:`bundled_path` looks in the
installed location first, then in the checkout. Imports nothing of ours and nothing heavy.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
INSTALLED_RESOURCES = PACKAGE_DIR / "resources"  # inside an installed wheel
CHECKOUT_RESOURCES = PACKAGE_DIR.parent / "resources"  # next to the package in a source checkout


def resource_roots() -> list[Path]:
    """Folders that may hold the shipped files, in the order they are searched."""
    return [INSTALLED_RESOURCES, CHECKOUT_RESOURCES]


def bundled_path(relative: str) -> Path:
    """``resources/<relative>`` from the installed package if it is there, else from the checkout.

    When neither exists the checkout path is returned, so messages name the place the
    README documents (``resources/models/default``).
    """
    for root in resource_roots():
        candidate = root / relative
        if candidate.exists():
            return candidate
    return CHECKOUT_RESOURCES / relative


def samples_dir() -> Path:
    """The sample smear images that ship with bloodview."""
    return bundled_path("samples")
