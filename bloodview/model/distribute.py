"""Choosing how training is spread over devices (the paper trained on 2 GPUs, 2 images each).

* several GPUs visible: :class:`tf.distribute.MirroredStrategy` over all of them
  (one replica per GPU; global batch = ``images_per_gpu x replicas``);
* ``TF_CONFIG`` names several workers: :class:`MultiWorkerMirroredStrategy`
  (several machines; see docs/model.md);
* otherwise the default strategy on the one GPU or the CPU.

Which GPUs count (``--device cpu|gpu|auto``) is decided in :mod:`bloodview.model.devices`;
:func:`use_devices` applies that choice to TensorFlow.

Tests pass explicit ``devices`` (e.g. two logical CPUs) to exercise the
multi-replica path without GPUs.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence

from bloodview.errors import DeviceError
from bloodview.model.devices import DevicePlan, Gpu, plan_devices, precision_policy

log = logging.getLogger(__name__)


def select_strategy(devices: Sequence[str] | None = None):
    """The ``tf.distribute`` strategy for this machine (or for the given ``devices``)."""
    import tensorflow as tf

    if devices:
        devices = list(devices)
        if len(devices) == 1:
            return tf.distribute.OneDeviceStrategy(devices[0])
        log.info("training on %d replicas: %s", len(devices), ", ".join(devices))
        return tf.distribute.MirroredStrategy(devices)
    if _workers_in_tf_config() > 1:
        log.info("multi-worker training (TF_CONFIG)")
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        log.info("training on %d GPUs with MirroredStrategy", len(gpus))
        return tf.distribute.MirroredStrategy([g.name for g in gpus])
    return tf.distribute.get_strategy()


def _workers_in_tf_config() -> int:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except (json.JSONDecodeError, AttributeError):
        return 0
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def find_gpus(visible_only: bool = True) -> list[Gpu]:
    """The GPUs TensorFlow sees (after ``--device cpu`` hid them: none), named ``/gpu:<i>``.

    Listing physical devices does not start TensorFlow's runtime, so the GPUs can still
    be hidden afterwards (:func:`use_devices`).
    """
    import tensorflow as tf

    found = tf.config.get_visible_devices("GPU") if visible_only else tf.config.list_physical_devices("GPU")
    gpus = []
    for index, device in enumerate(found):
        try:
            details = tf.config.experimental.get_device_details(device)
        except (RuntimeError, ValueError):
            details = {}
        capability = details.get("compute_capability")
        gpus.append(Gpu(f"/gpu:{index}", str(details.get("device_name", device.name)),
                        tuple(capability) if capability else None))
    return gpus


def use_devices(requested: str = "auto") -> DevicePlan:
    """Apply ``--device requested`` to this process and return the plan; call before building a model.

    ``cpu`` hides every GPU from TensorFlow; that must happen before TensorFlow starts its
    runtime (a :class:`DeviceError` says so when it is too late, e.g. after a model ran).
    """
    gpus = find_gpus(visible_only=False)
    plan = plan_devices(requested, gpus)
    if plan.kind == "cpu" and gpus:
        import tensorflow as tf

        try:
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError as exc:
            raise DeviceError(f"--device cpu: TensorFlow has already started on the GPU ({exc})") from exc
    log.debug("device: %s", plan.describe())
    return plan


def current_plan() -> DevicePlan:
    """The devices this process uses now (``auto`` over the GPUs still visible)."""
    return plan_devices("auto", find_gpus())


def gpu_available() -> bool:
    return bool(find_gpus())


def configure_precision(mixed_precision: bool, plan: DevicePlan | None = None) -> str:
    """Set Keras' global dtype policy: mixed float16 only on GPUs where it helps. Returns the policy name."""
    import keras

    policy, warning = precision_policy(plan or current_plan(), mixed_precision)
    if warning:
        log.warning(warning)
    keras.mixed_precision.set_global_policy(policy)
    return policy


def split_cpu(count: int) -> list[str]:
    """Split the CPU into ``count`` logical devices (call before TensorFlow starts); their names."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    return [d.name for d in tf.config.list_logical_devices("CPU")]
