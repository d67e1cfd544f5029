"""Which device trains and detects, with the device list mocked: CPU only, one GPU, two GPUs."""

from __future__ import annotations

import pytest

from bloodview.errors import DeviceError
from bloodview.model.devices import Gpu, plan_devices, precision_policy

H200 = Gpu("/gpu:0", "NVIDIA H200", (9, 0))
SECOND_H200 = Gpu("/gpu:1", "NVIDIA H200", (9, 0))
P100 = Gpu("/gpu:0", "Tesla P100", (6, 0))  # no Tensor Cores


def test_cpu_only_machine_runs_on_the_cpu_and_refuses_gpu_with_the_fix():
    assert plan_devices("auto", []).kind == "cpu"
    assert plan_devices("auto", []).describe() == "CPU"
    assert plan_devices("cpu", []).replica_devices is None
    with pytest.raises(DeviceError) as caught:
        plan_devices("gpu", [])
    message = str(caught.value)
    assert "no GPU" in message and "bloodview[gpu]" in message and "--device cpu" in message


def test_one_gpu_is_used_on_its_own_without_a_mirrored_strategy():
    plan = plan_devices("auto", [H200])
    assert plan.kind == "gpu" and plan.gpus == (H200,)
    assert plan.replica_devices is None  # default placement on the one GPU
    assert plan.describe() == "GPU: NVIDIA H200 (compute 9.0)"
    assert plan_devices("gpu", [H200]) == plan


def test_two_gpus_train_one_replica_each():
    plan = plan_devices("auto", [H200, SECOND_H200])
    assert plan.replica_devices == ["/gpu:0", "/gpu:1"]
    assert plan.describe().startswith("2 GPUs: NVIDIA H200")


def test_device_cpu_leaves_the_gpus_out_and_says_so():
    plan = plan_devices("cpu", [H200, SECOND_H200])
    assert plan.kind == "cpu" and plan.gpus == () and plan.hidden_gpus == 2
    assert plan.replica_devices is None
    assert "hidden" in plan.describe()


def test_unknown_device_choice_is_refused_by_name():
    with pytest.raises(DeviceError, match="'tpu'"):
        plan_devices("tpu", [H200])


def test_mixed_precision_only_where_tensor_cores_make_it_pay():
    assert precision_policy(plan_devices("auto", [H200]), True) == ("mixed_float16", None)
    assert precision_policy(plan_devices("auto", [H200, SECOND_H200]), True) == ("mixed_float16", None)
    policy, warning = precision_policy(plan_devices("auto", [P100]), True)
    assert policy == "float32" and "Tensor Cores" in warning
    policy, warning = precision_policy(plan_devices("auto", []), True)
    assert policy == "float32" and "CPU" in warning
    assert precision_policy(plan_devices("auto", [H200]), False) == ("float32", None)


def test_use_devices_hides_real_gpus_only_for_device_cpu(monkeypatch):
    from bloodview.model import distribute

    monkeypatch.setattr(distribute, "find_gpus", lambda visible_only=True: [H200, SECOND_H200])
    assert distribute.use_devices("auto").replica_devices == ["/gpu:0", "/gpu:1"]
    assert distribute.use_devices("gpu").kind == "gpu"


def test_this_machines_tensorflow_is_asked_for_its_gpus():
    pytest.importorskip("tensorflow")
    from bloodview.model.distribute import find_gpus, use_devices

    gpus = find_gpus()
    assert all(g.name.startswith("/gpu:") for g in gpus)
    if gpus:
        assert use_devices("gpu").kind == "gpu"
    else:
        with pytest.raises(DeviceError, match="no GPU"):
            use_devices("gpu")
