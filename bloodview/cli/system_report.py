"""What ``bloodview doctor`` looks at: versions, devices, memory, models, Qt's platform plugins.

Everything here is read without importing TensorFlow or Qt (package metadata, ``/proc``,
``ldd``, ``nvidia-smi``), except :func:`tensorflow_devices`, which the caller asks for.
Each gatherer returns plain dicts; :func:`problems` turns them into sentences saying what
is missing and how to get it.
"""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

# What a user knows the package as -> the distributions that provide it (first installed wins).
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "bloodview": ("bloodview",),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly"),
    "keras": ("keras",),
    "numpy": ("numpy",),
    "opencv": ("opencv-python-headless", "opencv-python", "opencv-contrib-python-headless",
               "opencv-contrib-python"),
    "PyQt6": ("PyQt6",),
    "Qt": ("PyQt6-Qt6",),
    "shapely": ("shapely",),
    "pycocotools": ("pycocotools",),
}
CUDA_DISTRIBUTION = "nvidia-cudnn-cu12"  # present when `bloodview[gpu]` (tensorflow[and-cuda]) is installed

# Shared libraries Qt's X11 (xcb) platform plugin loads -> the Debian/Ubuntu package holding each.
QT_XCB_PACKAGES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}


def installed_version(names: tuple[str, ...]) -> tuple[str, str] | None:
    """``(distribution, version)`` of the first of ``names`` that is installed, else ``None``."""
    for name in names:
        try:
            return name, metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def versions() -> dict[str, Any]:
    found: dict[str, Any] = {"python": platform.python_version()}
    for label, names in DISTRIBUTIONS.items():
        hit = installed_version(names)
        found[label] = None if hit is None else (hit[1] if hit[0] == names[0] else f"{hit[1]} ({hit[0]})")
    if found.get("bloodview") is None:  # running from a checkout that was never pip-installed
        from bloodview import __version__

        found["bloodview"] = f"{__version__} (not installed)"
    cuda = installed_version((CUDA_DISTRIBUTION,))
    found["cuda_libraries"] = None if cuda is None else f"cuDNN {cuda[1]} (pip)"
    return found


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"system": f"{platform.system()} {platform.release()} {platform.machine()}",
                            "cpus": os.cpu_count()}
    memory = _meminfo()
    if memory:
        info["memory_gib"] = round(memory.get("MemTotal", 0) / 2**20, 1)
        info["memory_available_gib"] = round(memory.get("MemAvailable", 0) / 2**20, 1)
    info["nvidia_gpus"] = nvidia_gpus()
    return info


def _meminfo() -> dict[str, int]:
    """``/proc/meminfo`` in KiB (Linux); empty elsewhere."""
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        match = re.match(r"(\w+):\s+(\d+)", line)
        if match:
            values[match.group(1)] = int(match.group(2))
    return values


def nvidia_gpus() -> list[str] | None:
    """What the NVIDIA driver reports (``nvidia-smi``): one line per GPU; ``None`` without a driver."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return None
    try:
        done = subprocess.run([tool, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def tensorflow_devices() -> dict[str, Any]:
    """What TensorFlow sees and would use under ``--device auto`` (imports TensorFlow)."""
    from bloodview.cli.tensorflow_start import start_tensorflow

    start_tensorflow()
    import tensorflow as tf

    from bloodview.model.devices import plan_devices
    from bloodview.model.distribute import find_gpus

    gpus = find_gpus(visible_only=False)
    build = dict(tf.sysconfig.get_build_info())
    plan = plan_devices("auto", gpus)
    return {
        "gpus": [g.label() for g in gpus],
        "auto": plan.describe(),
        "mixed_precision_helps": plan.mixed_precision_helps,
        "cuda_build": bool(build.get("is_cuda_build")),
        "cuda_version": build.get("cuda_version"),
        "cudnn_version": build.get("cudnn_version"),
    }


def models() -> dict[str, Any]:
    """The default model (read whole: every weight, ~0.3 s) and the user store (each folder's files opened).

    Why thorough for the default: it is what a new lab PC counts with, and a damaged install or a
    half-copied ``$BLOODVIEW_DEFAULT_MODEL`` otherwise shows only at the first Detect.
    """
    from bloodview.bundled import INSTALLED_RESOURCES, samples_dir
    from bloodview.errors import BloodviewError
    from bloodview.io.images import list_images
    from bloodview.model.store import DEFAULT_MODEL_ENV, default_model_dir, user_store_dir
    from bloodview.model.store_check import check_folder, scan_store

    default = default_model_dir()
    if os.environ.get(DEFAULT_MODEL_ENV):
        origin = f"${DEFAULT_MODEL_ENV}"
    elif INSTALLED_RESOURCES in default.parents:
        origin = "installed with the package"
    else:
        origin = "source checkout"
    entry: dict[str, Any] = {"default_model": str(default), "default_model_from": origin, "default_model_name": None}
    checked = check_folder(default, thorough=True)
    if checked.info is not None:
        entry["default_model_name"] = checked.info.name
        entry["default_model_date"] = checked.info.date
        entry["default_model_classes"] = list(checked.info.class_names)
    if checked.problems:
        entry["default_model_error"] = "; ".join(checked.problems)
    store = user_store_dir()
    entry["user_store"] = str(store)
    try:
        entries = scan_store(store) if store.is_dir() else []
    except (OSError, BloodviewError) as exc:  # the report goes on: the store is one line of it
        entries = []
        entry["user_store_error"] = str(exc)
    entry["user_models"] = sum(1 for e in entries if e.usable)
    entry["user_models_unusable"] = [problem for e in entries for problem in e.problems]
    entry["user_store_writable"] = _writable(store)
    samples = samples_dir()
    entry["samples"] = str(samples)
    entry["sample_images"] = len(list_images(samples)) if samples.is_dir() else 0
    return entry


def _writable(folder: Path) -> bool:
    """Can this user create the model store's folders (Retrain saves new models there)? A folder not made
    yet is judged by the nearest folder above it that exists."""
    for place in (folder, *folder.parents):
        if place.exists():
            return place.is_dir() and os.access(place, os.W_OK | os.X_OK)
    return False


def qt_plugins() -> dict[str, Any]:
    """Qt's platform plugins as installed with PyQt6, and the libraries the X11 one cannot find."""
    spec = importlib.util.find_spec("PyQt6")
    if spec is None or not spec.submodule_search_locations:
        return {"plugins": [], "folder": None}
    folder = Path(list(spec.submodule_search_locations)[0]) / "Qt6" / "plugins" / "platforms"
    names = sorted(re.sub(r"^(lib)?q|\.(so|dylib|dll)$", "", p.name) for p in folder.iterdir()
                   if p.suffix in (".so", ".dylib", ".dll")) if folder.is_dir() else []
    info: dict[str, Any] = {"folder": str(folder), "plugins": names,
                            "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM"),
                            "display": os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY")}
    xcb = folder / "libqxcb.so"
    if sys.platform.startswith("linux") and xcb.is_file():
        info["xcb_missing_libraries"] = missing_libraries(xcb)
    return info


def missing_libraries(library: Path) -> list[str] | None:
    """Shared libraries ``ldd`` cannot find for ``library`` (``None`` when ldd is not there)."""
    tool = shutil.which("ldd")
    if tool is None:
        return None
    try:
        done = subprocess.run([tool, str(library)], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_ldd_missing(done.stdout)


def parse_ldd_missing(text: str) -> list[str]:
    """Library names ``ldd`` printed as ``=> not found``, each once, in order."""
    missing: list[str] = []
    for line in text.splitlines():
        match = re.match(r"\s*(\S+)\s+=>\s+not found", line)
        if match and match.group(1) not in missing:
            missing.append(match.group(1))
    return missing


def debian_packages(libraries: list[str]) -> list[str]:
    """The Debian/Ubuntu packages holding ``libraries`` (the library name itself when unknown)."""
    packages: list[str] = []
    for library in libraries:
        package = QT_XCB_PACKAGES.get(library, library)
        if package not in packages:
            packages.append(package)
    return packages


def problems(report: dict[str, Any]) -> list[str]:
    """What is missing, one sentence each with the fix."""
    found: list[str] = []
    for label, version in report["versions"].items():
        if version is None and label in DISTRIBUTIONS and label != "bloodview":
            found.append(f"{label} is not installed: pip install {DISTRIBUTIONS[label][0]}")
    models_info = report["models"]
    if models_info.get("default_model_name") is None and not Path(models_info["default_model"]).exists():
        found.append(f"no default model at {models_info['default_model']}: reinstall bloodview, "
                     "or name one with --model / $BLOODVIEW_DEFAULT_MODEL")
    elif models_info.get("default_model_error"):
        found.append(f"the default model cannot be used: {models_info['default_model_error']}")
    if models_info.get("user_store_error"):
        found.append(models_info["user_store_error"])
    found += [f"a model in the store cannot be used: {problem}" for problem in models_info.get("user_models_unusable", [])]
    missing = report["qt"].get("xcb_missing_libraries")
    if missing:
        found.append("the window cannot open on X11: Qt's xcb plugin lacks " + ", ".join(missing)
                     + "; install them with: sudo apt install " + " ".join(debian_packages(missing)))
    devices = report.get("devices")
    nvidia = report["machine"].get("nvidia_gpus")
    if devices is not None and nvidia and not devices["gpus"]:
        found.append("the NVIDIA driver sees a GPU but TensorFlow does not: pip install 'bloodview[gpu]' "
                     "(CUDA libraries for TensorFlow)")
    return found


def gather(with_devices: bool) -> dict[str, Any]:
    report: dict[str, Any] = {"versions": versions(), "machine": machine(), "models": models(), "qt": qt_plugins()}
    report["devices"] = tensorflow_devices() if with_devices else None
    report["problems"] = problems(report)
    return report
