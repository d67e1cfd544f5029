"""Choosing how training is spread over devices (the paper trained on 2 GPUs, 2 images each).

* several GPUs visible: :class:`tf.distribute.MirroredStrategy` over all of them
  (one replica per GPU; global batch = ``images_per_gpu x replicas``);
* ``TF_CONFIG`` names several workers: :class:`MultiWorkerMirroredStrategy`
  (several machines; see docs/model.md);
* otherwise the default strategy on the one GPU or the CPU.

Tests pass explicit ``devices`` (e.g. two logical CPUs) to exercise the
multi-replica path without GPUs.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence

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


def gpu_available() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def configure_precision(mixed_precision: bool) -> str:
    """Set Keras' global dtype policy; mixed float16 only when a GPU is there. Returns the policy name."""
    import keras

    policy = "float32"
    if mixed_precision:
        if gpu_available():
            policy = "mixed_float16"
        else:
            log.warning("mixed precision needs a GPU; training in float32 on the CPU")
    keras.mixed_precision.set_global_policy(policy)
    return policy


def split_cpu(count: int) -> list[str]:
    """Split the CPU into ``count`` logical devices (call before TensorFlow starts); their names."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    return [d.name for d in tf.config.list_logical_devices("CPU")]
