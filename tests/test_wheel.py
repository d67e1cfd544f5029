"""The wheel works with no source checkout: it carries the default model and the sample smears.

Builds the wheel from a copy of the sources (as ``pip wheel`` does for a user), installs it with
``--no-deps`` into a fresh virtual environment, and runs the installed ``bloodview`` from a
folder outside the checkout: ``--version``, ``predict`` on a bundled sample with the bundled
default model, ``gui --screenshot`` offscreen and ``doctor``. The dependencies (TensorFlow, Qt,
...) come from the interpreter running the tests: a ``.pth`` line puts its site-packages after
the new environment's own, as a plain path (its ``.pth`` files, among them the checkout's
editable install, are not run), so ``bloodview`` itself can only come from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("bloodview", "resources/models/default", "resources/samples", "pyproject.toml", "setup.py",
           "MANIFEST.in", "README.md")
SAMPLE = "pbc_neutrophil_BNE_67131.jpg"


def _run(command: list[str], cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(bin folder of a fresh venv with the wheel installed, a work folder outside the checkout, env, wheel)``."""
    if not (REPO / "resources" / "models" / "default" / "model.json").is_file():
        pytest.skip("no default model in resources/models/default to ship")
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    for item in SOURCES:
        origin, target = REPO / item, source / item
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "resources"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BLOODVIEW_DEFAULT_MODEL",
                                                             "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(HOME=str(root / "home"), XDG_DATA_HOME=str(root / "data"), XDG_CONFIG_HOME=str(root / "config"),
               BLOODVIEW_MODEL_STORE=str(root / "store"), QT_QPA_PLATFORM="offscreen", TF_CPP_MIN_LOG_LEVEL="2",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    _run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(root / "dist")], root, env)
    wheels = list((root / "dist").glob("bloodview-*.whl"))
    assert len(wheels) == 1
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], root, env)
    site = Path(_run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     root, env).stdout.strip())
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "-q",
          str(wheels[0])], root, env)
    work = root / "work"
    work.mkdir()
    return venv / "bin", work, env, wheels[0]


def test_the_installed_package_is_the_wheel_and_carries_model_and_samples(installed):
    bin_dir, work, env, _wheel = installed
    probe = ("import json, bloodview; from bloodview.bundled import samples_dir; "
             "from bloodview.model.store import default_model_dir; "
             "print(json.dumps([bloodview.__file__, str(samples_dir()), str(default_model_dir())]))")
    package, samples, model = json.loads(_run([str(bin_dir / "python"), "-c", probe], work, env).stdout)
    venv = bin_dir.parent.resolve()
    for path in (package, samples, model):
        assert Path(path).resolve().is_relative_to(venv), path
        assert not Path(path).resolve().is_relative_to(REPO), path
    assert (Path(model) / "model.weights.h5").stat().st_size > 1_000_000
    assert (Path(samples) / SAMPLE).is_file()
    version = _run([str(bin_dir / "bloodview"), "--version"], work, env).stdout
    from bloodview import __version__

    assert version.strip() == f"bloodview {__version__}"


def test_installed_predict_finds_cells_in_a_bundled_sample_with_the_bundled_model(installed):
    bin_dir, work, env, _wheel = installed
    samples = Path(_run([str(bin_dir / "python"), "-c", "from bloodview.bundled import samples_dir; "
                         "print(samples_dir())"], work, env).stdout.strip())
    done = _run([str(bin_dir / "bloodview"), "predict", str(samples / SAMPLE), "--out", "cells.json"], work, env,
                timeout=600)
    assert "device: CPU" in done.stderr or "device: GPU" in done.stderr
    coco = json.loads((work / "cells.json").read_text())
    assert len(coco["images"]) == 1 and coco["annotations"], done.stderr
    names = {c["id"]: c["name"] for c in coco["categories"]}
    assert "neutrophil" in {names[a["category_id"]] for a in coco["annotations"]}


def test_installed_gui_renders_a_screenshot_and_doctor_finds_the_installed_files(installed):
    bin_dir, work, env, _wheel = installed
    shot = work / "window.png"
    samples = Path(_run([str(bin_dir / "python"), "-c", "from bloodview.bundled import samples_dir; "
                         "print(samples_dir())"], work, env).stdout.strip())
    _run([str(bin_dir / "bloodview"), "gui", str(samples), "--screenshot", str(shot)], work, env)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    report = json.loads(_run([str(bin_dir / "bloodview"), "doctor", "--json"], work, env).stdout)
    assert report["models"]["default_model_from"] == "installed with the package"
    assert report["models"]["sample_images"] == 10


def test_the_wheel_asks_for_cuda_only_with_the_gpu_extra(installed):
    import zipfile

    wheel = installed[3]
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        requires = [line.split(":", 1)[1].strip() for line in archive.read(name).decode().splitlines()
                    if line.startswith("Requires-Dist:")]
    base = [r for r in requires if "extra ==" not in r]
    assert any(r.startswith("tensorflow>=") for r in base), base
    assert not any("cuda" in r or r.startswith("nvidia") or "tensorflow-cpu" in r for r in base), base
    gpu = [r for r in requires if 'extra == "gpu"' in r]
    assert gpu and gpu[0].startswith("tensorflow[and-cuda]"), requires
