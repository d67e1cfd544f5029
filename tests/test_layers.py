"""Architecture contracts that import-linter cannot express.

import-linter (run by `make test`) checks who may import whom; these tests check
that TensorFlow/Keras are never imported at module level outside bloodview.model,
and that the light layers and the CLI start without loading TensorFlow or Qt.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bloodview"
HEAVY = ("tensorflow", "keras")
# TF-free modules inside bloodview.model that the GUI/CLI read.
TF_FREE_MODEL_MODULES = {"config.py", "store.py", "__init__.py"}


def _module_level_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:  # module level only; imports inside functions are lazy
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _python_files(sub: str):
    return sorted((PACKAGE / sub).rglob("*.py")) if sub else sorted(PACKAGE.glob("*.py"))


@pytest.mark.parametrize("layer", ["", "core", "io", "evaluation", "bootstrap", "cli", "gui"])
def test_no_module_level_tensorflow_outside_the_model(layer):
    offenders = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in _python_files(layer)
        for name in _module_level_imports(path)
        if name.split(".")[0] in HEAVY or name.startswith("bloodview.model.") and
        name.split(".")[2] not in {m[:-3] for m in TF_FREE_MODEL_MODULES}
    ]
    assert not offenders, offenders


def test_tf_free_model_modules_really_are():
    for name in TF_FREE_MODEL_MODULES:
        path = PACKAGE / "model" / name
        if path.exists():
            heavy = [n for n in _module_level_imports(path) if n.split(".")[0] in HEAVY]
            assert not heavy, f"{path} imports {heavy}"


def _fresh_python(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout


def test_core_and_io_import_fast_and_without_heavy_modules():
    out = _fresh_python(
        "import sys, time; t = time.perf_counter(); import bloodview.core, bloodview.io;"
        "print(time.perf_counter() - t);"
        "print(sorted(m for m in ('tensorflow', 'keras', 'PyQt6') if m in sys.modules))"
    )
    seconds, loaded = out.strip().splitlines()
    assert loaded == "[]"
    assert float(seconds) < 1.0, f"import bloodview.core, bloodview.io took {seconds} s"


def test_cli_parser_builds_without_tensorflow_or_qt():
    start = time.perf_counter()
    out = _fresh_python(
        "import sys; from bloodview.cli.main import build_parser; build_parser();"
        "print(sorted(m for m in ('tensorflow', 'keras', 'PyQt6') if m in sys.modules))"
    )
    assert out.strip() == "[]"
    assert time.perf_counter() - start < 20
