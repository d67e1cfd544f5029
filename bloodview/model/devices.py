"""Which device trains and detects: the GPU(s) when TensorFlow sees any, else the CPU.

``--device auto`` (the default) takes every GPU TensorFlow sees, ``gpu`` insists on one
(a clear error when there is none), ``cpu`` hides the GPUs. Several GPUs train under a
``MirroredStrategy`` (one replica each, see :mod:`bloodview.model.distribute`); detection
runs on the first. Mixed float16 helps on GPUs with Tensor Cores (compute capability 7.0
and newer: V100, T4, RTX 20xx and later); on older GPUs and on the CPU it is slower or
unsupported, so :func:`precision_policy` keeps float32 there.

Pure functions over a list of :class:`Gpu` records: TensorFlow-free, so the choice is
tested with the device list mocked. :func:`bloodview.model.distribute.find_gpus` asks
TensorFlow for the real list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bloodview.errors import DeviceError

DEVICE_CHOICES = ("auto", "cpu", "gpu")
TENSOR_CORES_FROM = (7, 0)  # compute capability where float16 matrix units appear (Volta)
NO_GPU_HINT = ("install the CUDA libraries with `pip install 'bloodview[gpu]'` (Linux, NVIDIA driver needed) "
               "and run `bloodview doctor`, or use --device cpu")


@dataclass(frozen=True)
class Gpu:
    """One GPU as TensorFlow names it (``/gpu:0``), with what the driver says about it."""

    name: str
    description: str = ""  # e.g. "NVIDIA H200"
    compute_capability: tuple[int, int] | None = None

    @property
    def has_tensor_cores(self) -> bool:
        return self.compute_capability is not None and tuple(self.compute_capability) >= TENSOR_CORES_FROM

    def label(self) -> str:
        text = self.description or self.name
        if self.compute_capability is not None:
            text += f" (compute {self.compute_capability[0]}.{self.compute_capability[1]})"
        return text


@dataclass(frozen=True)
class DevicePlan:
    """Where the work runs: ``kind`` is ``"cpu"`` or ``"gpu"``; ``gpus`` are the GPUs used."""

    kind: str
    gpus: tuple[Gpu, ...] = ()
    hidden_gpus: int = 0  # GPUs present but left out (--device cpu)

    @property
    def replica_devices(self) -> list[str] | None:
        """Devices for one training replica each when there are several, else ``None`` (default placement)."""
        return [g.name for g in self.gpus] if len(self.gpus) > 1 else None

    @property
    def mixed_precision_helps(self) -> bool:
        return self.kind == "gpu" and bool(self.gpus) and all(g.has_tensor_cores for g in self.gpus)

    def describe(self) -> str:
        """One line for people: ``"GPU: NVIDIA H200 (compute 9.0)"``, ``"2 GPUs: ..."``, ``"CPU"``."""
        if self.kind == "cpu":
            return "CPU (GPU hidden by --device cpu)" if self.hidden_gpus else "CPU"
        names = ", ".join(g.label() for g in self.gpus)
        return f"GPU: {names}" if len(self.gpus) == 1 else f"{len(self.gpus)} GPUs: {names}"


def plan_devices(requested: str, gpus: Sequence[Gpu]) -> DevicePlan:
    """The plan for ``--device requested`` on a machine whose TensorFlow sees ``gpus``.

    Raises :class:`DeviceError` for an unknown choice, or for ``gpu`` when there is none.
    """
    choice = (requested or "auto").strip().lower()
    if choice not in DEVICE_CHOICES:
        raise DeviceError(f"--device must be one of {', '.join(DEVICE_CHOICES)}, got {requested!r}")
    gpus = tuple(gpus)
    if choice == "cpu":
        return DevicePlan("cpu", hidden_gpus=len(gpus))
    if not gpus:
        if choice == "gpu":
            raise DeviceError(f"--device gpu: TensorFlow sees no GPU on this machine; {NO_GPU_HINT}")
        return DevicePlan("cpu")
    return DevicePlan("gpu", gpus)


def precision_policy(plan: DevicePlan, mixed_precision: bool) -> tuple[str, str | None]:
    """``(Keras dtype policy, warning or None)`` for a model whose config asks ``mixed_precision``.

    Mixed float16 only where it helps (every GPU used has Tensor Cores); otherwise float32
    with a warning saying why.
    """
    if not mixed_precision:
        return "float32", None
    if plan.kind != "gpu":
        return "float32", "mixed precision needs a GPU; running in float32 on the CPU"
    if not plan.mixed_precision_helps:
        return "float32", ("mixed precision needs Tensor Cores (compute capability 7.0+); "
                           f"running in float32 on {plan.describe()}")
    return "mixed_float16", None
