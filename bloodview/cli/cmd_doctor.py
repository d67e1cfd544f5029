"""``bloodview doctor``: is this installation complete, and what will it run on?

Prints versions (Python, bloodview, TensorFlow, Keras, NumPy, OpenCV, PyQt6/Qt), the
machine (CPUs, memory, NVIDIA GPUs as the driver reports them), the default model and the
model store, the sample smears, Qt's platform plugins, and what is missing with the
command that installs it. ``--check`` exits 1 when anything is missing or damaged (a default
model whose weights are half-copied, a model in the store that cannot be used), for a setup
script; without it the report always exits 0. TensorFlow is loaded only with ``--devices`` (it takes seconds),
to say which GPUs it sees and what ``--device auto`` would use. ``--json`` prints the same
as one JSON object.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check the installation: versions, devices, models, Qt",
        description="Check this installation: versions, memory, GPUs, the default model and model store, "
        "Qt's platform plugins, and what is missing.",
    )
    parser.add_argument("--devices", action="store_true",
                        help="also load TensorFlow and list the devices it sees (takes a few seconds)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when something is missing or damaged (for a setup script); the report is the same")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bloodview.cli.system_report import gather

    report = gather(with_devices=args.devices)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 1 if args.check and report["problems"] else 0


def format_report(report: dict[str, Any]) -> str:
    lines = ["versions:"]
    for name, value in report["versions"].items():
        if name == "cuda_libraries" and value is None:
            value = "none (CPU only; pip install 'bloodview[gpu]' brings them for an NVIDIA GPU)"
        lines.append(f"  {name:<15} {value or 'MISSING'}")
    machine = report["machine"]
    lines.append("machine:")
    lines.append(f"  {'system':<15} {machine['system']}, {machine['cpus']} CPUs")
    if "memory_gib" in machine:
        lines.append(f"  {'memory':<15} {machine['memory_gib']} GiB ({machine['memory_available_gib']} GiB free)")
    nvidia = machine.get("nvidia_gpus")
    lines.append(f"  {'NVIDIA driver':<15} " + ("; ".join(nvidia) if nvidia else "none (no nvidia-smi)"))
    devices = report.get("devices")
    lines.append("devices:")
    if devices is None:
        lines.append("  not checked (bloodview doctor --devices loads TensorFlow to list them)")
    else:
        lines.append(f"  {'TensorFlow GPUs':<15} " + (", ".join(devices["gpus"]) or "none"))
        cuda = f"CUDA {devices['cuda_version']}, cuDNN {devices['cudnn_version']}" if devices["cuda_build"] \
            else "built without CUDA"
        lines.append(f"  {'TensorFlow':<15} {cuda}")
        lines.append(f"  {'--device auto':<15} {devices['auto']}"
                     + (" (mixed precision helps here)" if devices["mixed_precision_helps"] else ""))
    models = report["models"]
    lines.append("models:")
    name = models.get("default_model_name") or "MISSING"
    if models.get("default_model_name") and models.get("default_model_date"):
        name += f" ({models['default_model_date'][:10]}, {len(models.get('default_model_classes') or [])} classes)"
    state = " DAMAGED" if models.get("default_model_error") and models.get("default_model_name") else ""
    lines.append(f"  {'default model':<15} {name}{state} — {models['default_model']} ({models['default_model_from']})")
    unusable = len(models.get("user_models_unusable") or [])
    store_notes = [f"{models['user_models']} model(s)"] + ([f"{unusable} problem(s) below"] if unusable else [])
    if models.get("user_store_writable") is False:
        store_notes.append("read-only: Retrain cannot save models here; $BLOODVIEW_MODEL_STORE names another")
    lines.append(f"  {'model store':<15} {models['user_store']} ({', '.join(store_notes)})")
    lines.append(f"  {'samples':<15} {models['samples']} ({models['sample_images']} images)")
    qt = report["qt"]
    lines.append("Qt:")
    lines.append(f"  {'platforms':<15} " + (", ".join(qt["plugins"]) or "none found"))
    display = qt.get("display") or "none"
    lines.append(f"  {'display':<15} {display}" + (f", QT_QPA_PLATFORM={qt['QT_QPA_PLATFORM']}"
                                                   if qt.get("QT_QPA_PLATFORM") else ""))
    found = report["problems"]
    lines.append("missing:" if found else "missing: nothing")
    lines += [f"  - {problem}" for problem in found]
    return "\n".join(lines)
