"""Build hook: the wheel carries the default model and the sample smears.

Everything else about the build is in pyproject.toml. In a checkout these files live in
``resources/`` beside the package (the README's ``resources/models/default`` contract);
a wheel has no such place, so the build copies them into the package as
``bloodview/resources/`` where :mod:`bloodview.bundled` finds them once installed.
Editable installs (``pip install -e``) copy nothing: they read the checkout's ``resources/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = ("models/default", "samples")  # under resources/


class BuildPyWithResources(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "bloodview" / "resources"
        for relative in SHIPPED:
            source = HERE / "resources" / relative
            if not source.is_dir():
                raise SystemExit(f"setup.py: {source} is missing; the wheel would ship without it")
            destination = target / relative
            if destination.exists():
                shutil.rmtree(destination)
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.tmp"))


setup(cmdclass={"build_py": BuildPyWithResources})
